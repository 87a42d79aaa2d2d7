from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class ClinicConfig(AppConfig):
    default = True
    name = "clinic"
    verbose_name = "Clinics"


class PlatformAdminConfig(AdminConfig):
    default = False
    default_site = "clinic.admin_site.PlatformAdminSite"
