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
        from clinic.clock_change import clinic_clock_changed
        from clinic.demo import demo_clinic_seeded
        from messaging.demo import demo_emails_seed
        from messaging.reputation.rollups import counts_rebuild_on_clock_change
        from messaging.tracking import webhooks  # noqa: F401  (connects the signal receiver)

        # The demo's clinics open with an email history (clinic/ imports nothing of messaging).
        demo_clinic_seeded.connect(demo_emails_seed, dispatch_uid="messaging.demo")
        # A clinic's email counts are by day on its clock: counted again when the clock changes.
        clinic_clock_changed.connect(
            counts_rebuild_on_clock_change, dispatch_uid="messaging.counts_rebuild"
        )
