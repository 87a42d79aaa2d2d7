"""Emails stuck on their way: waiting to be sent with no attempt under way, or accepted by an ESP
that never said more of them, not even in its own event log. Flagged for support, clinic admins
told, once."""

from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from messaging.models import OutboundEmail
from messaging.status import EmailStatus
from messaging.tracking.eventlogs import HAS_EVENT_LOG
from notifications.rendering import notification_render
from notifications.services import notification_create_for_admins
from suppression.streams import SMTP

# How long an email may stay `processed` with no later event before support is told.
STUCK_AFTER = timedelta(minutes=10)
# Flagged per run, at most: the next run flags the rest.
STUCK_PER_RUN = 1000


def emails_awaiting_events(*, now: datetime, older_than: timedelta) -> QuerySet[OutboundEmail]:
    """Handed to an ESP that reports delivery, and not heard of since: where the ESP keeps an
    event log, not until it was read at least once and settled nothing, so that support is not
    told of what the log settles (messaging/tracking/reconcile.py) (call unscoped)."""
    return (
        OutboundEmail.objects.filter(
            status=EmailStatus.PROCESSED,
            flagged_stuck_at__isnull=True,
            sent_at__lt=now - older_than,
        )
        .exclude(esp=SMTP)
        .filter(Q(reconciled_at__isnull=False) | ~Q(esp__in=HAS_EVENT_LOG))
    )


def emails_waiting_to_be_sent(*, now: datetime, older_than: timedelta) -> QuerySet[OutboundEmail]:
    """Still `sending` long after they were saved, with no attempt under way and no retry due
    later: an email waiting for its scheduled retry is not stuck (call unscoped)."""
    return OutboundEmail.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        status=EmailStatus.SENDING,
        flagged_stuck_at__isnull=True,
        created_at__lt=now - older_than,
        status_changed_at__lt=now - older_than,  # not an email a release just moved on
    )


def stuck_emails_flag(*, now: datetime) -> int:
    """Flags every email stuck for STUCK_AFTER, sending or processed; returns how many."""
    with scopes_disabled():
        stuck = [
            email
            for selector in (emails_waiting_to_be_sent, emails_awaiting_events)
            for email in selector(now=now, older_than=STUCK_AFTER).select_related(
                "clinic", "client"
            )[:STUCK_PER_RUN]
        ]
    flagged = 0
    for email in stuck:
        with scope(clinic=email.clinic_id):
            flagged += email_flag_stuck(email=email)
    return flagged


def email_flag_stuck(*, email: OutboundEmail) -> bool:
    """Flags a stuck email for support and tells the clinic's admins, once."""
    flagged = OutboundEmail.objects.filter(pk=email.pk, flagged_stuck_at__isnull=True).update(
        flagged_stuck_at=timezone.now()
    )
    if flagged:
        notification_create_for_admins(
            clinic=email.clinic,
            text=notification_render(
                "email_stuck" if email.status == EmailStatus.PROCESSED else "email_stuck_sending",
                {"email": email},
                clinic=email.clinic,
            ),
            client=email.client,
            email_id=email.id,
        )
    return bool(flagged)
