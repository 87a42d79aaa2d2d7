from django.apps import AppConfig
from django.core.signals import setting_changed


def _forget_esp_connection(*, setting: str, **kwargs) -> None:
    if setting in ("EMAIL_BACKEND", "ANYMAIL"):
        from messaging.sending.connections import esp_connection

        esp_connection.cache_clear()


class MessagingConfig(AppConfig):
    name = "messaging"

    def ready(self) -> None:
        setting_changed.connect(_forget_esp_connection)
        from clinic.demo import demo_clinic_seeded
        from messaging.demo import demo_emails_seed
        from messaging.tracking import webhooks  # noqa: F401  (connects the signal receiver)

        # The demo's clinics open with an email history (clinic/ imports nothing of messaging).
        demo_clinic_seeded.connect(demo_emails_seed, dispatch_uid="messaging.demo")
