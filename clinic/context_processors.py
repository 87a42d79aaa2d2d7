def current_clinic(request) -> dict:
    return {
        "clinic": getattr(request, "clinic", None),
        "membership": getattr(request, "membership", None),
    }
