"""Storing and applying ESP events, many webhook posts at a time, in a few set-based queries.

A webhook post is verified and parsed in the request, and its events are kept as one
ReceivedBatch row (`events_receive`: one INSERT) before the ESP gets its answer. A worker then
applies the waiting batches together (`inbox_drain`), in one transaction per group:
1. match the events to emails (one query); 2. insert every event, skipping ones already stored
(COPY into a temporary table, then one INSERT ... ON CONFLICT DO NOTHING RETURNING the new ones);
3. raise each email to the highest status among its new events (one conditional UPDATE per
status level); 4. apply a permanent failure's consequences, once per email; 5. delete the group's
batches. Repeats and any arrival order end in the same state; a worker killed midway rolls back,
and the batches wait for the next one.
"""

import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TypeVar

from django.db import OperationalError, connection, transaction
from django.db.models import OuterRef, Q, Subquery, TextField, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone
from django_scopes import scopes_disabled
from psycopg.types.json import Jsonb

from messaging.consequences import email_suppress_consequences
from messaging.models import EmailEvent, OutboundEmail, ReceivedBatch
from messaging.status import STATUS_RANK, EmailStatus
from messaging.tracking.rows import EventRow, rows_dump, rows_load

logger = logging.getLogger(__name__)

# Statuses whose ESP words explain the email's state: shown as its reason in the log.
EXPLAINED = (EmailStatus.DEFERRED, EmailStatus.FAILED, EmailStatus.SPAM_REPORT)
DEADLOCK_RETRIES = 5
# How much one drain transaction takes on: enough to share the fixed cost of a transaction
# among many single-event posts, small enough to hold the emails' row locks only briefly.
DRAIN_EVENTS = 5000
DRAIN_BATCHES = 500

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """What applying needs of a newly stored event."""

    id: int
    email_id: uuid.UUID | None
    status: str
    suppress: str
    mta_response: str
    description: str
    reject_reason: str

    @property
    def words(self) -> str:
        return self.mta_response or self.description or self.reject_reason


def events_receive(*, esp: str, rows: list[EventRow]) -> int:
    """Keeps a webhook post's events for a worker to apply: one INSERT, committed before the
    ESP is answered, so nothing it was told is received can be lost. Returns the batch's id."""
    # Written as SQL: the ORM's save() cost a third of a single-event post's time
    # (docs/benchmarks.md).
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO messaging_receivedbatch (esp, received_at, event_count, payload, error) "
            "VALUES (%s, %s, %s, %s, '') RETURNING id",
            [esp, timezone.now(), len(rows), rows_dump(rows)],
        )
        return cursor.fetchone()[0]


def inbox_drain(*, max_events: int = DRAIN_EVENTS) -> int:
    """Stores and applies the batches waiting now, a group at a time; returns how many events.
    Batches that arrive meanwhile are left to the drain they ask for, so that under a steady
    flow each drain takes one large group rather than many small ones. Concurrent drains take
    different batches (SKIP LOCKED)."""
    drained, more = 0, True
    while more:
        drained_now, more = _retrying(lambda: _drain_group(max_events))
        drained += drained_now
    return drained


def _retrying(work: Callable[[], T]) -> T:
    """Runs `work` in one transaction, unscoped (the clinic is known only once each event is
    matched to its email), again after a lost race with a concurrent transaction."""
    for attempt in range(DEADLOCK_RETRIES):
        try:
            with scopes_disabled(), transaction.atomic():
                return work()
        except OperationalError:  # a deadlock or a serialization failure: wait, then again
            if attempt == DEADLOCK_RETRIES - 1:
                raise
            time.sleep(random.uniform(0.05, 0.2) * 2**attempt)
    raise AssertionError("unreachable")


def _drain_group(max_events: int) -> tuple[int, bool]:
    """One transaction: takes waiting batches up to `max_events` events, applies them, deletes
    them. Returns how many events, and whether more were waiting than one group takes."""
    waiting = list(
        ReceivedBatch.objects.select_for_update(skip_locked=True)
        .filter(failed_at__isnull=True)
        .values_list("id", "event_count")[:DRAIN_BATCHES]
    )
    if not waiting:
        return 0, False
    chosen, events = [], 0
    for batch_id, count in waiting:
        if chosen and events + count > max_events:
            break
        chosen.append(batch_id)
        events += count
    payloads = ReceivedBatch.objects.filter(pk__in=chosen).values_list("id", "payload")
    rows, loaded = [], []
    for batch_id, payload in payloads:
        batch_rows = _loaded(batch_id, payload)
        if batch_rows is not None:  # else set aside, and kept
            rows.extend(batch_rows)
            loaded.append(batch_id)
    more = len(chosen) < len(waiting) or len(waiting) == DRAIN_BATCHES
    try:
        with transaction.atomic():
            _ingest(rows)
    except OperationalError:
        raise
    except Exception as error:  # kept for support rather than retried forever
        if len(loaded) == 1:
            _set_aside(loaded[0], error)
            return 0, more
        for batch_id in loaded:  # find the one that cannot be applied, apply the others
            _retrying(lambda batch_id=batch_id: _drain_one(batch_id))
        return events, more
    ReceivedBatch.objects.filter(pk__in=loaded).delete()
    return events, more


def _drain_one(batch_id: int) -> None:
    batch = ReceivedBatch.objects.select_for_update().filter(pk=batch_id).first()
    if batch is None:
        return
    try:
        with transaction.atomic():
            _ingest(rows_load(batch.payload))
    except OperationalError:
        raise
    except Exception as error:
        _set_aside(batch_id, error)
        return
    batch.delete()


def _loaded(batch_id: int, payload: str) -> list[EventRow] | None:
    try:
        return rows_load(payload)
    except (ValueError, TypeError, KeyError) as error:
        _set_aside(batch_id, error)
        return None


def _set_aside(batch_id: int, error: Exception) -> None:
    """A batch that cannot be applied is kept, with why, for support in admin; the others go on."""
    logger.error("Received batch %s cannot be applied: %s", batch_id, error)
    ReceivedBatch.objects.filter(pk=batch_id).update(failed_at=timezone.now(), error=str(error))


def _ingest(rows: list[EventRow]) -> None:
    # In key order, so two batches carrying the same events wait for each other, never in a ring.
    unique = sorted(
        {(row.esp, row.dedup_key): row for row in rows}.values(),
        key=lambda row: (row.esp, row.dedup_key),
    )
    matches = _emails_for(unique)
    events_apply(_store(unique, matches, timezone.now()))


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


# Every column of messaging_emailevent that a stored event fills in, in COPY order.
STORED_COLUMNS = [
    "clinic_id",
    "email_id",
    "esp",
    "event_type",
    "status",
    "suppress",
    "occurred_at",
    "received_at",
    "matched_at",
    "reject_reason",
    "description",
    "mta_response",
    "click_url",
    "user_agent",
    "recipient",
    "message_id",
    "email_id_hint",
    "dedup_key",
    "raw",
]
# What applying needs of each new event (StoredEvent's fields).
APPLIED_FIELDS = [field.name for field in fields(StoredEvent)]


def _record(row: EventRow, match, now) -> tuple:
    email_id, clinic_id = match or (None, None)
    return (
        clinic_id,
        email_id,
        row.esp,
        row.event_type,
        row.status,
        row.suppress,
        row.occurred_at,
        now,
        now if match else None,
        row.reject_reason,
        row.description,
        row.mta_response,
        row.click_url,
        row.user_agent,
        row.recipient,
        row.message_id,
        row.email_id_hint,
        row.dedup_key,
        row.raw,
    )


def _store(rows: list[EventRow], matches: dict, now) -> list[StoredEvent]:
    """Inserts the events, skipping any already stored; returns the new ones."""
    records = [_record(row, matches.get(_match_key(row)), now) for row in rows]
    if connection.vendor == "postgresql":
        return _store_by_copy(records)
    return _store_by_orm(records)


def _store_by_copy(records: list[tuple]) -> list[StoredEvent]:
    """COPY into a temporary table, then one INSERT ... ON CONFLICT DO NOTHING RETURNING: two or
    three times faster than a bulk INSERT of a thousand rows (docs/benchmarks.md)."""
    listed = ", ".join(STORED_COLUMNS)
    with connection.cursor() as cursor:
        # Only the model's own column names are formatted into these statements.
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS incoming_email_event ON COMMIT DELETE ROWS AS "  # noqa: S608
            f"SELECT {listed} FROM messaging_emailevent WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY incoming_email_event ({listed}) FROM STDIN") as copy:
            for record in records:
                copy.write_row((*record[:-1], Jsonb(record[-1])))
        cursor.execute(
            f"INSERT INTO messaging_emailevent ({listed}) SELECT {listed} "  # noqa: S608
            "FROM incoming_email_event ORDER BY esp, dedup_key "
            f"ON CONFLICT (esp, dedup_key) DO NOTHING RETURNING {', '.join(APPLIED_FIELDS)}"
        )
        return [StoredEvent(*row) for row in cursor]


def _store_by_orm(records: list[tuple]) -> list[StoredEvent]:
    batch = uuid.uuid4()
    events = [
        EmailEvent(**dict(zip(STORED_COLUMNS, record, strict=True)), batch=batch)
        for record in records
    ]
    EmailEvent.objects.bulk_create(events, ignore_conflicts=True)
    stored = EmailEvent.objects.filter(
        esp__in={event.esp for event in events},
        dedup_key__in=[event.dedup_key for event in events],
        batch=batch,
    )
    return [StoredEvent(*row) for row in stored.values_list(*APPLIED_FIELDS)]


def events_apply(events: list[StoredEvent] | list[EmailEvent]) -> None:
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
