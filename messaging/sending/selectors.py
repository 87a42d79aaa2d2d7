"""What sending asks of the database: reminders now due, emails the outbox left behind."""

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, QuerySet

from clinic.models import Appointment, Clinic
from messaging.models import EmailKind, OutboundEmail
from messaging.sending.policy import reminder_due_at
from messaging.status import EmailStatus

# A wall-clock lead time differs from the same number of elapsed hours by at most this.
DST_SLACK = timedelta(hours=3)


def appointments_due_for_reminder(*, now: datetime) -> list[Appointment]:
    """Booked appointments whose reminder is due and not yet sent (all clinics: call unscoped)."""
    # Reminded for its present time: a moved appointment is reminded again.
    reminded = OutboundEmail.objects.filter(
        appointment=OuterRef("pk"),
        appointment_start=OuterRef("start"),
        kind=EmailKind.APPOINTMENT_REMINDER,
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
    return (
        OutboundEmail.objects.filter(
            status=EmailStatus.SENDING,
            esp_message_id="",
            created_at__lt=now - older_than,
            # Waiting this long in `sending`: a held email released a minute ago was written
            # days ago, yet is not late.
            status_changed_at__lt=now - older_than,
        )
        .exclude(next_attempt_at__gt=now - older_than)
        .exclude(claimed_until__gte=now)
    )
