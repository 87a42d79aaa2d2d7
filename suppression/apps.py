from django.apps import AppConfig


class SuppressionConfig(AppConfig):
    name = "suppression"

    def ready(self) -> None:
        from suppression import inbound  # noqa: F401  (connects the inbound signal receiver)
