from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from clinic.forms import ClinicSettingsForm
from clinic.models import (
    Appointment,
    Client,
    Clinic,
    Invoice,
    Membership,
    SmartForm,
    SmartFormRequest,
    User,
)


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


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ["client", "practitioner", "start", "status", "clinic"]
    list_filter = ["status", "clinic"]
    search_fields = ["client__name", "client__email"]
    raw_id_fields = ["client", "practitioner"]


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ["number", "client", "issue_date", "total", "currency", "clinic"]
    search_fields = ["number", "client__name"]
    raw_id_fields = ["client"]


@admin.register(SmartForm)
class SmartFormAdmin(admin.ModelAdmin):
    list_display = ["title", "clinic"]


@admin.register(SmartFormRequest)
class SmartFormRequestAdmin(admin.ModelAdmin):
    list_display = ["form", "client", "state", "created_at"]
    list_filter = ["state"]
    raw_id_fields = ["client"]
    exclude = ["token"]
