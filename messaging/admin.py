from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import F, Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from clinic.admin import AppointmentAdmin as ClinicAppointmentAdmin
from clinic.admin import SameClinicForm
from clinic.admin_clock import on_clinic_clock
from clinic.admin_site import ReadOnlyAdmin
from clinic.models import Appointment
from messaging.booking.forms import start_passed_words
from messaging.models import EmailEvent, GuardWarning, MailHold, OutboundEmail, ReceivedBatch
from messaging.reputation.guard import ReleaseRefused, held_emails_counts, hold_release
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


class ReleaseForm(forms.Form):
    reason = forms.CharField(
        label="Why release it",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Kept with the hold and in the audit trail, e.g. what the clinic did about its "
        "addresses.",
    )


@admin.register(MailHold)
class MailHoldAdmin(ReadOnlyAdmin):
    """The reputation guard's holds of a clinic's mail to new addresses, standing ones first.
    Support releases one on its Release page, with a reason; nothing else changes one."""

    list_display = [
        "clinic",
        "standing",
        "started_at_on_clinic_clock",
        "why",
        "sends",
        "bounces",
        "complaints",
        "released_at_on_clinic_clock",
        "release_link",
    ]
    list_filter = [("released_at", admin.EmptyFieldListFilter)]
    search_fields = ["clinic__name"]
    list_select_related = ["clinic", "released_by"]
    readonly_fields = [
        "clinic",
        "standing",
        "started_at_on_clinic_clock",
        "why",
        "sends",
        "bounces",
        "complaints",
        "released_at_on_clinic_clock",
        "released_by",
        "release_reason",
        "release_link",
    ]
    fields = readonly_fields
    started_at_on_clinic_clock = on_clinic_clock("started_at", "since (clinic time)")
    released_at_on_clinic_clock = on_clinic_clock("released_at", "released (clinic time)")

    def get_ordering(self, request):
        return [F("released_at").desc(nulls_first=True), "-started_at"]

    def get_urls(self):
        release = path(
            "<path:object_id>/release/",
            self.admin_site.admin_view(self.release_view),
            name="messaging_mailhold_release",
        )
        return [release, *super().get_urls()]

    @admin.display(description="in force", boolean=True)
    def standing(self, hold: MailHold) -> bool:
        return hold.released_at is None

    @admin.display(description="release")
    def release_link(self, hold: MailHold) -> str:
        if hold.released_at is not None:
            return "Released"
        url = reverse("admin:messaging_mailhold_release", args=[hold.pk])
        return format_html('<a href="{}">Release…</a>', url)

    def release_view(self, request, object_id):
        """Release a hold: shows what the release will do, and asks why."""
        hold = get_object_or_404(MailHold.objects.select_related("clinic"), pk=object_id)
        if hold.released_at is not None:
            self.message_user(request, f"Already released: {hold}.", messages.INFO)
            return redirect("admin:messaging_mailhold_change", hold.pk)
        form = ReleaseForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                released = hold_release(
                    hold=hold, by=request.user, reason=form.cleaned_data["reason"]
                )
            except ReleaseRefused as refusal:
                form.add_error(None, str(refusal))
            else:
                self.message_user(
                    request,
                    f"Released the hold on {hold.clinic}: {released.sent} held email(s) "
                    f"being sent, {released.failed} failed as too old. The clinic's admins "
                    "were told.",
                    messages.SUCCESS,
                )
                return redirect("admin:messaging_mailhold_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": f"Release the hold on {hold.clinic}",
            "hold": hold,
            "form": form,
            "counts": held_emails_counts(clinic=hold.clinic),
            "max_days": settings.HELD_EMAIL_MAX_DAYS,
            "window_days": settings.GUARD_WINDOW_DAYS,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/messaging/mailhold/release.html", context)


@admin.register(GuardWarning)
class GuardWarningAdmin(ReadOnlyAdmin):
    """Each time a clinic's bounce or complaint rate crossed a threshold, with the addresses
    behind it: standing until the rate falls back below."""

    list_display = [
        "clinic",
        "measure",
        "level",
        "rate_shown",
        "sends",
        "events",
        "created_at_on_clinic_clock",
        "ended_at_on_clinic_clock",
    ]
    list_filter = ["measure", "level", ("ended_at", admin.EmptyFieldListFilter)]
    search_fields = ["clinic__name", "addresses"]
    list_select_related = ["clinic"]
    readonly_fields = [field.name for field in GuardWarning._meta.fields]
    created_at_on_clinic_clock = on_clinic_clock("created_at", "told (clinic time)")
    ended_at_on_clinic_clock = on_clinic_clock("ended_at", "ended (clinic time)")

    @admin.display(description="rate", ordering="rate")
    def rate_shown(self, warning: GuardWarning) -> str:
        return f"{warning.rate:.2f}%"


# An appointment support books, moves or cancels in admin tells the client as one booked on the
# client page does. clinic/ imports nothing of messaging, so its admin is extended here, where
# the triggers live: the admin that is registered is this one.
admin.site.unregister(Appointment)


class AppointmentSendingForm(SameClinicForm):
    """Support books and moves appointments only to a time to come, as staff do on the client
    page: an appointment already past keeps its time and can still be cancelled or completed."""

    def clean(self):
        data = super().clean()
        start = data.get("start")
        clinic = data.get("clinic") or getattr(self.instance, "clinic", None)
        if start is not None and clinic is not None and "start" in self.changed_data:
            passed = start_passed_words(start, clinic)
            if passed:
                self.add_error("start", passed)
        return data


@admin.register(Appointment)
class AppointmentSendingAdmin(ClinicAppointmentAdmin):
    form = AppointmentSendingForm

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
