from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils import timezone

from clinic.models import Appointment, Clinic
from messaging.models import EmailEvent, EmailKind, OutboundEmail
from messaging.policy import reminder_due_at
from messaging.status import EmailStatus

# A wall-clock lead time differs from the same number of elapsed hours by at most this.
DST_SLACK = timedelta(hours=3)


def appointments_due_for_reminder(*, now: datetime) -> list[Appointment]:
    """Booked appointments whose reminder is due and not yet sent (all clinics: call unscoped)."""
    reminded = OutboundEmail.objects.filter(
        appointment=OuterRef("pk"), kind=EmailKind.APPOINTMENT_REMINDER
    )
    due = []
    for hours in Clinic.objects.order_by().values_list("reminder_lead_hours", flat=True).distinct():
        lead = timedelta(hours=hours)
        candidates = (
            Appointment.objects.filter(
                status=Appointment.Status.BOOKED,
                start__gt=now,
                start__lte=now + lead + DST_SLACK,
                clinic__reminder_lead_hours=hours,
            )
            .exclude(Exists(reminded))
            .select_related("clinic", "client__clinic", "practitioner")
        )
        due += [
            appointment
            for appointment in candidates
            if reminder_due_at(appointment.start, time_zone=appointment.clinic.time_zone, lead=lead)
            <= now
        ]
    return due


def outbox_stuck(*, now: datetime, older_than: timedelta) -> QuerySet[OutboundEmail]:
    """Emails still waiting to be handed to the ESP long after they should have been."""
    return OutboundEmail.objects.filter(
        status=EmailStatus.SENDING,
        esp_message_id="",
        created_at__lt=now - older_than,
    ).exclude(next_attempt_at__gt=now - older_than)


def client_email_log(*, client, days: int) -> QuerySet[OutboundEmail]:
    """The client's emails of the last `days` days, newest first, each with its events."""
    since = timezone.now() - timedelta(days=days)
    events = EmailEvent.objects.order_by("occurred_at", "id").only(
        "email_id",
        "event_type",
        "status",
        "occurred_at",
        "description",
        "mta_response",
        "reject_reason",
        "click_url",
    )
    return (
        OutboundEmail.objects.filter(client=client, created_at__gte=since)
        .order_by("-created_at", "-id")
        .defer("body_text", "body_html")
        .prefetch_related(Prefetch("events", queryset=events))
    )
