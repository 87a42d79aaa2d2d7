from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Q

from clinic.admin import AppointmentAdmin as ClinicAppointmentAdmin
from clinic.admin_clock import on_clinic_clock
from clinic.admin_site import ReadOnlyAdmin
from clinic.models import Appointment
from messaging.models import EmailEvent, OutboundEmail, ReceivedBatch
from messaging.sending.triggers import (
    appointment_booked,
    appointment_cancelled,
    appointment_changed,
)
from messaging.tracking.apply import provenance_fault
from messaging.tracking.receive import drain_requests


class StuckFilter(admin.SimpleListFilter):
    title = "stuck in processed"
    parameter_name = "stuck"

    def lookups(self, request, model_admin):
        return [("yes", "Flagged for support")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(flagged_stuck_at__isnull=False, status="processed")
        return queryset


class MatchedFilter(admin.SimpleListFilter):
    title = "matched to an email"
    parameter_name = "matched"

    def lookups(self, request, model_admin):
        return [("yes", "Matched"), ("no", "Not matched (kept for support)")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(email__isnull=self.value() == "no")
        return queryset


class EmailEventInline(admin.TabularInline):
    model = EmailEvent
    fields = [
        "occurred_at",
        "esp",
        "event_type",
        "status",
        "suppress",
        "mta_response",
        "description",
        "click_url",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OutboundEmail)
class OutboundEmailAdmin(ReadOnlyAdmin):
    """The emails clinics sent and what became of them: history, which support reads and
    nobody edits or deletes here."""

    list_display = [
        "created_at_on_clinic_clock",
        "to_email",
        "kind",
        "status",
        "esp",
        "clinic",
        "flagged_stuck_at_on_clinic_clock",
    ]
    list_filter = [StuckFilter, "status", "refusal", "esp", "kind", "created_at"]
    search_fields = ["to_email", "esp_message_id", "=id", "client__name", "clinic__name"]
    list_select_related = ["clinic"]
    date_hierarchy = "created_at"
    inlines = [EmailEventInline]
    readonly_fields = [
        *(field.name for field in OutboundEmail._meta.fields),
        "created_at_on_clinic_clock",
    ]
    created_at_on_clinic_clock = on_clinic_clock("created_at", "created (clinic time)")
    flagged_stuck_at_on_clinic_clock = on_clinic_clock(
        "flagged_stuck_at", "flagged stuck (clinic time)"
    )
    show_full_result_count = False


@admin.register(EmailEvent)
class EmailEventAdmin(ReadOnlyAdmin):
    list_display = [
        "received_at",
        "esp",
        "event_type",
        "status",
        "recipient",
        "message_id",
        "email",
        "clinic",
    ]
    list_filter = [MatchedFilter, "esp", "event_type", "status"]
    search_fields = ["recipient", "message_id", "=email_id_hint", "dedup_key"]
    list_select_related = ["clinic"]
    readonly_fields = ["why_unmatched", *(field.name for field in EmailEvent._meta.fields)]
    show_full_result_count = False

    @admin.display(description="why not matched")
    def why_unmatched(self, event: EmailEvent) -> str:
        """Derived from the event and the email it names, so it is never out of date."""
        if event.email_id:
            return "Matched."
        named = OutboundEmail.objects.filter(
            Q(pk=event.email_id_hint)
            if event.email_id_hint
            else Q(esp_message_id=event.message_id, esp_message_id__gt="")
        ).first()
        if named is None:
            return "No email of ours has the email_id or message id it names."
        return provenance_fault(event, esp=named.esp, to_email=named.to_email) or (
            "Its email was found after it arrived; rematching applies it within minutes."
        )


@admin.register(ReceivedBatch)
class ReceivedBatchAdmin(admin.ModelAdmin):
    """Webhook posts received and not yet applied: normally empty within a second or two. A
    batch a worker could not apply stays here, with why, until support applies it again."""

    list_display = ["received_at", "esp", "event_count", "failed_at", "error"]
    list_filter = ["esp", ("failed_at", admin.EmptyFieldListFilter)]
    readonly_fields = [field.name for field in ReceivedBatch._meta.fields]
    actions = ["apply_again"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Apply the selected batches again")
    def apply_again(self, request, queryset) -> None:
        count = queryset.filter(failed_at__isnull=False).update(failed_at=None, error="")
        drain_requests.request()
        self.message_user(request, f"{count} batch(es) queued to be applied again.", messages.INFO)


# An appointment support books, moves or cancels in admin tells the client as one booked on the
# client page does. clinic/ imports nothing of messaging, so its admin is extended here, where
# the triggers live: the admin that is registered is this one.
admin.site.unregister(Appointment)


@admin.register(Appointment)
class AppointmentSendingAdmin(ClinicAppointmentAdmin):
    def save_model(self, request, obj, form, change) -> None:
        before = None
        if change:
            before = Appointment.objects.select_related("practitioner").get(pk=obj.pk)
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            told = appointment_told(appointment=obj, before=before)
        if told is not None and told.refusal:
            self.message_user(
                request,
                f"{told.get_kind_display()} not sent to the client: {told.reason}",
                messages.WARNING,
            )


def appointment_told(*, appointment: Appointment, before: Appointment | None):
    """The email a saved appointment owes its client: a confirmation for a new booking, a
    cancellation when it was cancelled, an update when its time or practitioner moved."""
    booked = Appointment.Status.BOOKED
    if before is None:
        return appointment_booked(appointment=appointment) if appointment.status == booked else None
    if before.status == booked and appointment.status == Appointment.Status.CANCELLED:
        return appointment_cancelled(appointment=appointment)
    if appointment.status == booked:
        return appointment_changed(
            appointment=appointment,
            previous_start=before.start,
            previous_practitioner=before.practitioner,
        )
    return None
