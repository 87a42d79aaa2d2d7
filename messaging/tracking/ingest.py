"""Storing and applying ESP events, a whole webhook batch at a time, in a few set-based queries.

1. match the batch to emails (one query); 2. insert every event, skipping ones already stored
(one INSERT ... ON CONFLICT DO NOTHING) and read back which were new (one query); 3. raise each
email to the highest status among its new events (one conditional UPDATE per status level);
4. apply a permanent failure's consequences, once per email. Repeats and any arrival order end
in the same state.
"""

import uuid
from dataclasses import dataclass

from django.db import OperationalError, transaction
from django.db.models import OuterRef, Q, Subquery, TextField, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone
from django_scopes import scopes_disabled

from messaging.consequences import email_suppress_consequences
from messaging.models import EmailEvent, OutboundEmail
from messaging.status import STATUS_RANK, EmailStatus
from messaging.tracking.rows import EventRow

# Statuses whose ESP words explain the email's state: shown as its reason in the log.
EXPLAINED = (EmailStatus.DEFERRED, EmailStatus.FAILED, EmailStatus.SPAM_REPORT)
DEADLOCK_RETRIES = 3


@dataclass(frozen=True)
class IngestResult:
    received: int
    stored: int
    unmatched: int

    @property
    def reason(self) -> str:
        parts = [f"{self.stored} stored"]
        if self.received > self.stored:
            parts.append(f"{self.received - self.stored} duplicate(s) ignored")
        if self.unmatched:
            parts.append(f"{self.unmatched} not matched to an email yet, kept")
        return "OK (" + ", ".join(parts) + ")"


def events_ingest(rows: list[EventRow]) -> IngestResult:
    """Stores a batch of events and applies the new ones. Runs unscoped: the clinic is known
    only once each event is matched to its email."""
    for attempt in range(DEADLOCK_RETRIES):
        try:
            with scopes_disabled(), transaction.atomic():
                return _ingest(rows)
        except OperationalError:  # a deadlock with a concurrent batch: try again
            if attempt == DEADLOCK_RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def _ingest(rows: list[EventRow]) -> IngestResult:
    unique = list({(row.esp, row.dedup_key): row for row in rows}.values())
    matches = _emails_for(unique)
    batch, now = uuid.uuid4(), timezone.now()
    EmailEvent.objects.bulk_create(
        [_event(row, matches.get(_match_key(row)), batch, now) for row in unique],
        ignore_conflicts=True,
    )
    new = list(
        EmailEvent.objects.filter(
            esp__in={row.esp for row in unique},
            dedup_key__in=[row.dedup_key for row in unique],
            batch=batch,
        ).only(
            "id", "email_id", "status", "suppress", "mta_response", "description", "reject_reason"
        )
    )
    events_apply(new)
    return IngestResult(len(rows), len(new), sum(1 for event in new if event.email_id is None))


def _match_key(row: EventRow | EmailEvent) -> str:
    return f"id:{row.email_id_hint}" if row.email_id_hint else f"msg:{row.message_id}"


def _emails_for(rows: list[EventRow] | list[EmailEvent]) -> dict[str, tuple[uuid.UUID, int]]:
    """Emails by `email_id` from the metadata first, then by the ESP's message id."""
    hints = {row.email_id_hint for row in rows if row.email_id_hint}
    message_ids = {row.message_id for row in rows if row.message_id and not row.email_id_hint}
    if not hints and not message_ids:
        return {}
    found = OutboundEmail.objects.filter(
        Q(pk__in=hints) | Q(esp_message_id__in=message_ids, esp_message_id__gt="")
    ).values_list("id", "clinic_id", "esp_message_id")
    matches: dict[str, tuple[uuid.UUID, int]] = {}
    for email_id, clinic_id, message_id in found:
        if email_id in hints:
            matches[f"id:{email_id}"] = (email_id, clinic_id)
        if message_id in message_ids:
            matches[f"msg:{message_id}"] = (email_id, clinic_id)
    return matches


def _event(row: EventRow, match, batch: uuid.UUID, now) -> EmailEvent:
    email_id, clinic_id = match or (None, None)
    return EmailEvent(
        clinic_id=clinic_id,
        email_id=email_id,
        esp=row.esp,
        event_type=row.event_type,
        status=row.status,
        suppress=row.suppress,
        occurred_at=row.occurred_at,
        received_at=now,
        matched_at=now if match else None,
        reject_reason=row.reject_reason,
        description=row.description,
        mta_response=row.mta_response,
        click_url=row.click_url,
        user_agent=row.user_agent,
        recipient=row.recipient,
        message_id=row.message_id,
        email_id_hint=row.email_id_hint,
        dedup_key=row.dedup_key,
        batch=batch,
        raw=row.raw,
    )


def events_apply(events: list[EmailEvent]) -> None:
    """Applies newly stored, matched events to their emails: status, then consequences."""
    matched = [event for event in events if event.email_id and event.status]
    _raise_statuses(matched)
    for event in matched:
        if event.suppress:
            email_suppress_consequences(
                email_id=event.email_id,
                reason=event.suppress,
                diagnostic=event.words,
                source_event_id=event.id,
            )


def _raise_statuses(events: list[EmailEvent]) -> None:
    best: dict[uuid.UUID, EmailEvent] = {}
    for event in events:
        current = best.get(event.email_id)
        if current is None or STATUS_RANK[event.status] > STATUS_RANK[current.status]:
            best[event.email_id] = event
    by_status: dict[str, list[EmailEvent]] = {}
    for event in best.values():
        by_status.setdefault(event.status, []).append(event)
    for status, chosen in by_status.items():
        _raise_to(status, chosen)


def _raise_to(status: str, events: list[EmailEvent]) -> None:
    """One conditional UPDATE: an email only ever moves up the ranks."""
    rank = STATUS_RANK[status]
    reason = ""
    if status in EXPLAINED:
        latest = EmailEvent.objects.filter(email=OuterRef("pk"), status=status).order_by(
            "-occurred_at", "-id"
        )
        words = Coalesce(
            NullIf("mta_response", Value("")),
            NullIf("description", Value("")),
            "reject_reason",
            output_field=TextField(),
        )
        reason = Subquery(latest.values(words=words)[:1])
    OutboundEmail.objects.filter(
        pk__in=[event.email_id for event in events], status_rank__lt=rank
    ).update(status=status, status_rank=rank, reason=reason, status_changed_at=timezone.now())


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
            if match:
                event.email_id, event.clinic_id = match
                event.matched_at = timezone.now()
                found.append(event)
        EmailEvent.objects.bulk_update(found, ["email_id", "clinic_id", "matched_at"])
        events_apply(found)
    return len(found)
