"""Applying stored events to their emails: each email raised to the highest status among its new
events, a permanent failure's consequences applied once; and events that arrived before their
email could be found, matched again for a while."""

import logging
import uuid
from datetime import timedelta

from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django_scopes import scopes_disabled

from messaging.event_words import event_words_sql
from messaging.models import EmailEvent, OutboundEmail
from messaging.status import STATUS_RANK, EmailStatus
from messaging.tracking.consequences import (
    email_suppress_consequences,
    email_unsubscribe_consequences,
)
from messaging.tracking.mapping import SENDER
from messaging.tracking.store import StoredEvent

logger = logging.getLogger(__name__)

# Statuses whose ESP words explain the email's state: shown as its reason in the log.
EXPLAINED = (EmailStatus.DEFERRED, EmailStatus.FAILED, EmailStatus.SPAM_REPORT)
# Events that arrive before their email is known are matched again for this long, then left
# for support in admin.
REMATCH_WINDOW = timedelta(minutes=15)


def events_apply(events: list[StoredEvent] | list[EmailEvent]) -> None:
    """Applies newly stored, matched events to their emails: status, then consequences."""
    matched = [event for event in events if event.email_id and (event.status or event.opt_out)]
    _lock_in_order({event.email_id for event in matched})
    _raise_statuses([event for event in matched if event.status])
    for event in sorted(matched, key=lambda event: event.email_id):
        if event.suppress:
            email_suppress_consequences(
                email_id=event.email_id,
                reason=event.suppress,
                diagnostic=event.words,
                source_event_id=event.id,
            )
        elif event.opt_out:
            email_unsubscribe_consequences(email_id=event.email_id)
        if event.cause == SENDER:
            # A platform problem, not the patient's: for support, who filter the emails by it.
            logger.error("Email %s failed for a cause of ours: %s", event.email_id, event.words)


def _lock_in_order(email_ids: set[uuid.UUID]) -> None:
    """Locks the batch's emails in id order before updating them, so that concurrent batches
    touching the same emails queue up instead of deadlocking."""
    if email_ids:
        list(
            OutboundEmail.objects.select_for_update(no_key=True)
            .filter(pk__in=_any_of(email_ids))
            .order_by("pk")
            .values_list("pk", flat=True)
        )


def _any_of(email_ids) -> RawSQL:
    """The right-hand side of `pk__in` for thousands of ids: one array parameter, where a
    placeholder per id cost a third of a drain's time in the ORM and the driver."""
    return RawSQL("SELECT unnest(%s::uuid[])", [list(email_ids)])


def _raise_statuses(events) -> None:
    best: dict[uuid.UUID, StoredEvent | EmailEvent] = {}
    for event in events:
        current = best.get(event.email_id)
        if current is None or STATUS_RANK[event.status] > STATUS_RANK[current.status]:
            best[event.email_id] = event
    by_status: dict[str, list] = {}
    for event in best.values():
        by_status.setdefault(event.status, []).append(event)
    for status, chosen in by_status.items():
        _raise_to(status, chosen)


def _raise_to(status: str, events: list) -> None:
    """One conditional UPDATE: an email only ever moves up the ranks."""
    rank = STATUS_RANK[status]
    reason, cause = "", ""
    if status in EXPLAINED:
        latest = EmailEvent.objects.filter(email=OuterRef("pk"), status=status).order_by(
            "-occurred_at", "-id"
        )
        reason = Subquery(latest.values(words=event_words_sql())[:1])
        cause = Subquery(latest.values("cause")[:1])
    # A held email was never handed over: no event of an ESP moves it (only a release does).
    OutboundEmail.objects.filter(
        pk__in=_any_of(event.email_id for event in events), status_rank__lt=rank
    ).exclude(status=EmailStatus.HELD).update(
        status=status, reason=reason, failure_cause=cause, status_changed_at=timezone.now()
    )


def events_rematch(*, received_after) -> int:
    """Matches events that arrived before their email could be found, and applies them."""
    with scopes_disabled(), transaction.atomic():
        waiting = list(
            EmailEvent.objects.select_for_update(skip_locked=True).filter(
                email__isnull=True, received_at__gte=received_after
            )[:1000]
        )
        matches = _emails_for(waiting)
        found = []
        for event in waiting:
            match = matches.get(_match_key(event))
            if match and not provenance_fault(event, esp=match[2], to_email=match[3]):
                event.email_id, event.clinic_id = match[:2]
                event.matched_at = timezone.now()
                found.append(event)
        EmailEvent.objects.bulk_update(found, ["email_id", "clinic_id", "matched_at"])
        events_apply(found)
    return len(found)


def _match_key(event: EmailEvent) -> str:
    return f"id:{event.email_id_hint}" if event.email_id_hint else f"msg:{event.message_id}"


def _emails_for(events: list[EmailEvent]) -> dict[str, tuple[uuid.UUID, int, str, str]]:
    """Emails by `email_id` from the metadata first, then by the ESP's message id, with the ESP
    they went through and their recipient."""
    hints = {event.email_id_hint for event in events if event.email_id_hint}
    message_ids = {
        event.message_id for event in events if event.message_id and not event.email_id_hint
    }
    if not hints and not message_ids:
        return {}
    found = OutboundEmail.objects.filter(
        Q(pk__in=hints) | Q(esp_message_id__in=message_ids, esp_message_id__gt="")
    ).values_list("id", "clinic_id", "esp_message_id", "esp", "to_email")
    matches: dict[str, tuple[uuid.UUID, int, str, str]] = {}
    for email_id, clinic_id, message_id, esp, to_email in found:
        if email_id in hints:
            matches[f"id:{email_id}"] = (email_id, clinic_id, esp, to_email)
        if message_id in message_ids:
            matches[f"msg:{message_id}"] = (email_id, clinic_id, esp, to_email)
    return matches


def provenance_fault(event: EmailEvent, *, esp: str, to_email: str) -> str:
    """Why an event may not change the email it names, in words; empty when it may: it must
    come from the ESP the email went through and name the email's recipient."""
    if event.esp != esp:
        return f"The email went through {esp}; this event came from {event.esp}."
    if event.recipient != to_email.lower():
        return f"The email went to {to_email}; this event names {event.recipient or 'nobody'}."
    return ""
