from functools import wraps

from django import forms
from django.contrib import admin
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone
from django_otp.admin import OTPAdminAuthenticationForm
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_scopes import scopes_disabled

from clinic.admin_clock import ZONE_NOTE

ENROL_COMMAND = "python manage.py totp_enrol <email>"


def authenticator_of(user, *, for_verify: bool = False) -> TOTPDevice | None:
    """The support person's confirmed authenticator app (a TOTP device), if one was enrolled."""
    devices = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk")
    if for_verify:  # one code checked at a time, as django-otp's own lookup does
        devices = devices.select_for_update()
    return devices.first()


def is_verified(user) -> bool:
    """Logged in with the second factor too (django-otp's OTPMiddleware sets is_verified)."""
    check = getattr(user, "is_verified", None)
    return bool(check and check())


class SupportLoginForm(OTPAdminAuthenticationForm):
    """The support admin's login: email address, password and the current 6-digit code from the
    authenticator app. Support staff see every clinic's patients, so a password alone is not
    enough."""

    otp_token = forms.CharField(
        required=False,
        label="Authenticator code",
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9]{6}",
                "maxlength": "6",
            }
        ),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": (
            "Please enter the email address and password of a support account. Both are "
            "case-sensitive."
        ),
        "no_authenticator": (
            "This support account has no authenticator app enrolled, so it cannot open the "
            f"support admin. Ask an operator to run `{ENROL_COMMAND}` and scan the code it "
            "shows."
        ),
    }
    otp_error_messages = {
        **OTPAdminAuthenticationForm.otp_error_messages,
        "token_required": "Enter the 6-digit code from your authenticator app.",
        "invalid_token": (
            "That code is not the current one. Enter the 6-digit code your authenticator app "
            "shows now."
        ),
    }

    def confirm_login_allowed(self, user) -> None:
        AuthenticationForm.confirm_login_allowed(self, user)
        if not user.is_superuser:
            raise forms.ValidationError(self.error_messages["invalid_login"], code="invalid_login")
        if authenticator_of(user) is None:
            raise forms.ValidationError(
                self.error_messages["no_authenticator"], code="no_authenticator"
            )

    def _chosen_device(self, user):
        """Each support person has one authenticator app, so no device has to be picked."""
        return super()._chosen_device(user) or authenticator_of(user, for_verify=True)


class PlatformAdminSite(admin.AdminSite):
    """Django admin for platform support: superusers only, across every clinic, and only once
    they have given the code from their authenticator app as well as their password."""

    site_header = "Clinic mail: platform support"
    site_title = "Clinic mail support"
    login_form = SupportLoginForm
    login_template = "admin/support_login.html"

    def has_permission(self, request) -> bool:
        user = request.user
        return user.is_active and user.is_superuser and is_verified(user)

    def login(self, request, extra_context=None):
        user = request.user
        context = {
            **(extra_context or {}),
            "enrol_command": ENROL_COMMAND,
            "needs_authenticator": user.is_authenticated
            and user.is_superuser
            and authenticator_of(user) is None,
        }
        return super().login(request, context)

    def each_context(self, request):
        return {**super().each_context(request), "zone_note": ZONE_NOTE}

    def admin_view(self, view, cacheable=False):
        protected = super().admin_view(view, cacheable)

        @wraps(view)
        def unscoped(request, *args, **kwargs):
            # Every clinic at once, on one clock (UTC): see clinic/admin_clock.py. A template
            # response is rendered here, not after the view returns, so that it is too.
            with scopes_disabled(), timezone.override(None):
                response = protected(request, *args, **kwargs)
                if hasattr(response, "render") and not response.is_rendered:
                    response.render()
                return response

        return unscoped


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record support reads and nobody edits in admin (superusers included): what was sent,
    what an ESP said, who did what. Retention alone deletes such rows."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
