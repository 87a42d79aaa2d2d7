from functools import wraps

from django.contrib import admin
from django_scopes import scopes_disabled


class PlatformAdminSite(admin.AdminSite):
    """Django admin for platform support: superusers only, across every clinic."""

    site_header = "Clinic mail: platform support"
    site_title = "Clinic mail support"

    def has_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def admin_view(self, view, cacheable=False):
        protected = super().admin_view(view, cacheable)

        @wraps(view)
        def unscoped(request, *args, **kwargs):
            with scopes_disabled():
                return protected(request, *args, **kwargs)

        return unscoped
