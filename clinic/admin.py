from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from knox import admin as knox_admin  # noqa: F401  (registers knox's admin first)
from knox.models import AuthToken

from clinic.admin_clock import on_clinic_clock
from clinic.admin_site import ReadOnlyAdmin
from clinic.audit import audit_record
from clinic.clock_change import clock_change_announce
from clinic.forms import ClinicSettingsForm
from clinic.middleware import membership_of
from clinic.models import (
    Appointment,
    AuditEntry,
    Client,
    Clinic,
    Invoice,
    Membership,
    SmartForm,
    SmartFormRequest,
    User,
)
from clinic.settings_audit import clinic_settings_audit


class SameClinicForm(forms.ModelForm):
    """A clinic's record names only that clinic's own client, smart form and practitioner:
    support, who see every clinic, cannot file one clinic's invoice against another's client."""

    same_clinic_fields = ("client", "form")

    def clean(self):
        data = super().clean()
        clinic = data.get("clinic")
        if clinic is None:
            return data
        for name in self.same_clinic_fields:
            related = data.get(name)
            if related is not None and related.clinic_id != clinic.pk:
                self.add_error(name, f"This belongs to {related.clinic}, not to {clinic}.")
        practitioner = data.get("practitioner")
        on_staff = Membership.objects.filter(user=practitioner, clinic=clinic).exists()
        if practitioner is not None and not on_staff:
            self.add_error("practitioner", f"This person is not on the staff of {clinic}.")
        return data


class ClinicAdminForm(ClinicSettingsForm):
    class Meta(ClinicSettingsForm.Meta):
        fields = ["name", "slug", *ClinicSettingsForm.Meta.fields]
        widgets = {}


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    form = ClinicAdminForm
    list_display = ["name", "slug", "time_zone", "sending_connection"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        clinic_settings_audit(actor=request.user, clinic=obj, form=form, via="support admin")
        clock_change_announce(clinic=obj, form=form)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_superuser", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Name", {"fields": ["first_name", "last_name"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "clinic", "appointment_comms"]
    list_filter = ["clinic", "appointment_comms"]
    search_fields = ["name", "email", "clinic__name"]

    def get_readonly_fields(self, request, obj=None):
        # A client stays with their clinic: moved, their emails, invoices and appointments
        # would be one clinic's records of another clinic's client.
        return ["clinic"] if obj is not None else []


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    form = SameClinicForm
    list_display = ["client", "practitioner", "start_on_clinic_clock", "status", "clinic"]
    list_filter = ["status", "clinic"]
    search_fields = ["client__name", "client__email"]
    raw_id_fields = ["client", "practitioner"]
    start_on_clinic_clock = on_clinic_clock("start", "start (clinic time)")


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    form = SameClinicForm
    list_display = ["number", "client", "issue_date", "total", "currency", "clinic"]
    search_fields = ["number", "client__name"]
    raw_id_fields = ["client"]


@admin.register(SmartForm)
class SmartFormAdmin(admin.ModelAdmin):
    list_display = ["title", "clinic"]


@admin.register(SmartFormRequest)
class SmartFormRequestAdmin(admin.ModelAdmin):
    form = SameClinicForm
    list_display = ["form", "client", "state", "created_at_on_clinic_clock"]
    list_select_related = ["clinic", "client", "form"]
    list_filter = ["state"]
    raw_id_fields = ["client"]
    exclude = ["token"]
    created_at_on_clinic_clock = on_clinic_clock("created_at", "sent (clinic time)")


# knox's own admin lists each token's digest and issues tokens on screen; ours shows a token's
# prefix and owner only, and revokes.
if admin.site.is_registered(AuthToken):
    admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """Staff's API tokens, by prefix and owner. Only a hash of a token is stored, and support
    never sees that either; staff issue their own on their API tokens page."""

    list_display = ["prefix", "owner", "created", "expiry"]
    list_display_links = None
    list_select_related = ["user"]
    fields = readonly_fields = ["prefix", "owner", "created", "expiry"]
    search_fields = ["token_key", "user__email"]
    actions = ["revoke"]

    @admin.display(description="starts with")
    def prefix(self, token: AuthToken) -> str:
        return f"{token.token_key}…"

    @admin.display(description="owner", ordering="user__email")
    def owner(self, token: AuthToken) -> str:
        return token.user.email

    def has_view_permission(self, request, obj=None) -> bool:
        # The list only: a token's own page would be titled by knox with its digest.
        return obj is None and super().has_view_permission(request)

    @admin.action(description="Revoke the selected API tokens")
    def revoke(self, request, queryset) -> None:
        tokens = list(queryset.select_related("user"))
        for token in tokens:
            membership = membership_of(token.user)
            token.delete()
            audit_record(
                actor=request.user,
                action=AuditEntry.Action.REVOKED_API_TOKEN,
                clinic=membership.clinic if membership else None,
                target=f"API token {token.token_key}… of {token.user.email}",
            )
        self.message_user(request, f"{len(tokens)} API token(s) revoked.")


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    """The audit trail, for support to read: who viewed a client's email log, reactivated an
    address, changed a clinic's settings or an API token. Nobody adds, changes or deletes an
    entry here, superusers included; retention deletes them after AUDIT_RETENTION_DAYS."""

    list_display = ["at_on_clinic_clock", "actor_email", "action", "clinic_name", "target"]
    list_select_related = ["clinic"]
    list_filter = ["action", "clinic"]
    search_fields = ["actor_email", "target", "clinic_name"]
    date_hierarchy = "at"
    at_on_clinic_clock = on_clinic_clock("at", "at (clinic time)")
    fields = readonly_fields = [
        "at",
        "actor",
        "actor_email",
        "clinic",
        "clinic_name",
        "action",
        "target",
        "detail",
    ]
