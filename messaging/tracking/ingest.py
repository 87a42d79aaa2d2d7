"""Storing and applying ESP events, a whole webhook batch at a time, in a few set-based queries.

1. match the batch to emails (one query); 2. insert every event, skipping ones already stored
(one INSERT ... ON CONFLICT DO NOTHING) and read back which were new (one query); 3. raise each
email to the highest status among its new events (one conditional UPDATE per status level);
4. apply a permanent failure's consequences, once per email. Repeats and any arrival order end
in the same state.
"""

import random
import time
import uuid
from dataclasses import dataclass

from django.db import OperationalError, connection, transaction
from django.db.models import OuterRef, Q, Subquery, TextField, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone
from django_scopes import scopes_disabled
from psycopg.types.json import Jsonb

from messaging.consequences import email_suppress_consequences
from messaging.models import EmailEvent, OutboundEmail
from messaging.status import STATUS_RANK, EmailStatus
from messaging.tracking.rows import EventRow

# Statuses whose ESP words explain the email's state: shown as its reason in the log.
EXPLAINED = (EmailStatus.DEFERRED, EmailStatus.FAILED, EmailStatus.SPAM_REPORT)
DEADLOCK_RETRIES = 5


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
        except OperationalError:  # a lost race with a concurrent batch: wait, then again
            if attempt == DEADLOCK_RETRIES - 1:
                raise
            time.sleep(random.uniform(0.05, 0.2) * 2**attempt)
    raise AssertionError("unreachable")


def _ingest(rows: list[EventRow]) -> IngestResult:
    # In key order, so two batches carrying the same events wait for each other, never in a ring.
    unique = sorted(
        {(row.esp, row.dedup_key): row for row in rows}.values(),
        key=lambda row: (row.esp, row.dedup_key),
    )
    matches = _emails_for(unique)
    now = timezone.now()
    new = _store([_event(row, matches.get(_match_key(row)), now) for row in unique])
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


def _event(row: EventRow, match, now) -> EmailEvent:
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
        raw=row.raw,
    )


# What events_apply needs of each new event.
APPLIED_FIELDS = [
    "id",
    "email_id",
    "status",
    "suppress",
    "mta_response",
    "description",
    "reject_reason",
]


def _store(events: list[EmailEvent]) -> list[EmailEvent]:
    """Inserts the events, skipping any already stored; returns the new ones."""
    if connection.vendor == "postgresql":
        return _store_by_copy(events)
    return _store_by_orm(events)


def _store_by_copy(events: list[EmailEvent]) -> list[EmailEvent]:
    """COPY into a temporary table, then one INSERT ... ON CONFLICT DO NOTHING RETURNING: two or
    three times faster than a bulk INSERT of a thousand rows (docs/benchmarks.md)."""
    columns = [field.attname for field in EmailEvent._meta.concrete_fields if field.name != "id"]
    listed = ", ".join(columns)
    with connection.cursor() as cursor:
        # Only the model's own column names are formatted into these statements.
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS incoming_email_event ON COMMIT DELETE ROWS AS "  # noqa: S608
            f"SELECT {listed} FROM messaging_emailevent WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY incoming_email_event ({listed}) FROM STDIN") as copy:
            for event in events:
                copy.write_row([_copy_value(event, column) for column in columns])
        cursor.execute(
            f"INSERT INTO messaging_emailevent ({listed}) SELECT {listed} "  # noqa: S608
            "FROM incoming_email_event ORDER BY esp, dedup_key "
            f"ON CONFLICT (esp, dedup_key) DO NOTHING RETURNING {', '.join(APPLIED_FIELDS)}"
        )
        return [EmailEvent(**dict(zip(APPLIED_FIELDS, row, strict=True))) for row in cursor]


def _copy_value(event: EmailEvent, column: str):
    value = getattr(event, column)
    return Jsonb(value) if column == "raw" else value


def _store_by_orm(events: list[EmailEvent]) -> list[EmailEvent]:
    batch = uuid.uuid4()
    for event in events:
        event.batch = batch
    EmailEvent.objects.bulk_create(events, ignore_conflicts=True)
    return list(
        EmailEvent.objects.filter(
            esp__in={event.esp for event in events},
            dedup_key__in=[event.dedup_key for event in events],
            batch=batch,
        ).only(*APPLIED_FIELDS)
    )


def events_apply(events: list[EmailEvent]) -> None:
    """Applies newly stored, matched events to their emails: status, then consequences."""
    matched = [event for event in events if event.email_id and event.status]
    _lock_in_order({event.email_id for event in matched})
    _raise_statuses(matched)
    for event in sorted(matched, key=lambda event: event.email_id):
        if event.suppress:
            email_suppress_consequences(
                email_id=event.email_id,
                reason=event.suppress,
                diagnostic=event.words,
                source_event_id=event.id,
            )


def _lock_in_order(email_ids: set[uuid.UUID]) -> None:
    """Locks the batch's emails in id order before updating them, so that concurrent batches
    touching the same emails queue up instead of deadlocking."""
    if email_ids:
        list(
            OutboundEmail.objects.select_for_update(no_key=True)
            .filter(pk__in=email_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
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
