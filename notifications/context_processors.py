from notifications.selectors import unread_count


def unread_notifications(request) -> dict:
    if getattr(request, "membership", None) is None:
        return {}
    return {"unread_notifications": unread_count(user=request.user)}
