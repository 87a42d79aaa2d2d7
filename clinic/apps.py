from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class ClinicConfig(AppConfig):
    default = True
    name = "clinic"
    verbose_name = "Clinics"

    def ready(self) -> None:
        # A login records when it began, for the session's idle and absolute time limits.
        from clinic import session_expiry  # noqa: F401


class PlatformAdminConfig(AdminConfig):
    default = False
    default_site = "clinic.admin_site.PlatformAdminSite"
