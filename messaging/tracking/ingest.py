"""Storing and applying ESP events, many webhook posts at a time, in a few set-based queries.

A webhook post is verified and parsed in the request, and its events are kept as one
ReceivedBatch row (`events_receive`: one INSERT) before the ESP gets its answer. A worker then
applies the waiting batches together (`inbox_drain`), in one transaction per group:
1. store every event, skipping ones already stored, each matched to its email: one INSERT ...
SELECT ... ON CONFLICT DO NOTHING RETURNING the new ones, which PostgreSQL reads straight from
the batches' JSON; 2. lock their emails in id order; 3. raise each email to the highest status
among its new events (one conditional UPDATE per status level); 4. apply a permanent failure's
consequences, once per email; 5. delete the group's batches. Repeats and any arrival order end
in the same state; a worker killed midway rolls back, and the batches wait for the next one.
"""

import logging
import random
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import TypeVar

from celery.exceptions import SoftTimeLimitExceeded
from django.db import DatabaseError, OperationalError, connection, transaction
from django.db.models import OuterRef, Q, Subquery, TextField, Value
from django.db.models.expressions import RawSQL
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
# The PostgreSQL advisory lock that lets one drain run at a time: a key of this app's own.
DRAIN_LOCK = 0x636C6D61

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
    on_postgresql = connection.vendor == "postgresql"
    payload = Jsonb(rows, dumps=rows_dump) if on_postgresql else rows_dump(rows)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO messaging_receivedbatch (esp, received_at, event_count, payload, error) "
            "VALUES (%s, %s, %s, %s, '') RETURNING id",
            [esp, timezone.now(), len(rows), payload],
        )
        return cursor.fetchone()[0]


def inbox_drain(
    *, max_events: int = DRAIN_EVENTS, pause: float = 0.0, budget: float | None = None
) -> int:
    """Stores and applies the waiting batches, a group at a time, until none is left; returns
    how many events. One drain runs at a time: a drain that finds another running returns at
    once, leaving the batches to it. After a group smaller than a full one, waits `pause`
    seconds, so that single-event posts gather into fewer, larger groups. After `budget` seconds
    it stops and asks for a fresh drain to go on."""
    began, drained = time.monotonic(), 0

    def spent() -> bool:
        return budget is not None and time.monotonic() - began > budget

    while True:
        with _drain_lock() as held:
            if not held:
                return drained
            while True:
                count, more = _retrying(lambda: _drain_group(max_events))
                drained += count
                if (not count and not more) or spent():
                    break
                if not more and pause:
                    time.sleep(pause)
        if spent():
            _drain_later()
            return drained
        # A batch committed while the lock was held may have had its own drain turned away.
        if not _takeable():
            return drained


@contextmanager
def _drain_lock():
    """Whether this drain may run: a PostgreSQL advisory lock, let go on return or with the
    connection. A second drain at once would compete with the first for the same emails' row
    locks and for the cores that answer the ESPs, and apply nothing sooner
    (docs/benchmarks.md)."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [DRAIN_LOCK])
        held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            _drain_unlock()


def _drain_unlock() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [DRAIN_LOCK])
    except DatabaseError:  # the lock goes with the connection
        logger.warning("Could not let go of the event drain's lock; closing its connection")
        connection.close()


def _takeable() -> bool:
    with transaction.atomic():
        waiting = ReceivedBatch.objects.select_for_update(skip_locked=True).filter(
            failed_at__isnull=True
        )
        return bool(waiting.values_list("id")[:1])


def _drain_later() -> None:
    from messaging.tasks import drain_requests

    drain_requests.forget()
    drain_requests.request()


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
    more = len(chosen) < len(waiting) or len(waiting) == DRAIN_BATCHES
    error = _applied(chosen)
    if error is None:
        ReceivedBatch.objects.filter(pk__in=chosen).delete()
        return events, more
    if len(chosen) == 1:
        _set_aside(chosen[0], error)
        return 0, more
    for batch_id in chosen:  # find the one that cannot be applied, apply the others
        _retrying(lambda batch_id=batch_id: _drain_one(batch_id))
    return events, more


def _drain_one(batch_id: int) -> None:
    batch = ReceivedBatch.objects.select_for_update().filter(pk=batch_id).first()
    if batch is None:
        return
    error = _applied([batch_id])
    if error is None:
        batch.delete()
    else:
        _set_aside(batch_id, error)


def _applied(batch_ids: list[int]) -> Exception | None:
    """Stores and applies these batches in a savepoint; returns why not, if they cannot be
    (a bad payload, a value too long for its column), to be kept for support rather than
    retried forever. A lost race or the task's time limit is raised: not the batches' fault."""
    try:
        with transaction.atomic():
            events_apply(_store(batch_ids))
    except (OperationalError, SoftTimeLimitExceeded):
        raise
    except Exception as error:
        return error
    return None


def _set_aside(batch_id: int, error: Exception) -> None:
    """A batch that cannot be applied is kept, with why, for support in admin; the others go on."""
    logger.error("Received batch %s cannot be applied: %s", batch_id, error)
    ReceivedBatch.objects.filter(pk=batch_id).update(failed_at=timezone.now(), error=str(error))


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


# Every column of messaging_emailevent that a stored event fills in.
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


def _store(batch_ids: list[int]) -> list[StoredEvent]:
    """Stores the events of these received batches, skipping any already stored, each matched to
    its email where it is known; returns the new ones."""
    if connection.vendor == "postgresql":
        return _store_in_database(batch_ids)
    return _store_by_orm(batch_ids)


# The received batches' JSON as PostgreSQL reads it: one record per EventRow.
_ROW_TYPES = {"occurred_at": "timestamptz", "email_id_hint": "uuid", "raw": "jsonb"}
_RECORD = ", ".join(f"{row.name} {_ROW_TYPES.get(row.name, 'text')}" for row in fields(EventRow))
_FIELDS = ", ".join(row.name for row in fields(EventRow))
# What each stored column is made of, where it is not the event's own field of that name.
_MADE_OF = {
    "clinic_id": "email.clinic_id",
    "email_id": "email.id",
    "received_at": "%(now)s",
    "matched_at": "CASE WHEN email.id IS NULL THEN NULL ELSE %(now)s END",
    "raw": "COALESCE(incoming.raw, 'null')",
}
# One statement: the batches' JSON is read by PostgreSQL itself, repeats are dropped (within the
# batches by DISTINCT ON, the first kept; against stored events by ON CONFLICT), each event is
# matched to its email by the email_id in its metadata, else by the ESP's message id, and the new
# ones are returned. Rows go in key order, so two drains carrying the same events wait for each
# other, never in a ring.
_STORE_RECEIVED = f"""
    WITH incoming AS (
        SELECT DISTINCT ON (event.esp, event.dedup_key) event.*
        FROM messaging_receivedbatch batch,
            ROWS FROM (jsonb_to_recordset(batch.payload) AS ({_RECORD}))
            WITH ORDINALITY AS event({_FIELDS}, position)
        WHERE batch.id = ANY(%(batches)s)
        ORDER BY event.esp, event.dedup_key, batch.id, event.position
    )
    INSERT INTO messaging_emailevent ({", ".join(STORED_COLUMNS)})
    SELECT {", ".join(_MADE_OF.get(name, f"incoming.{name}") for name in STORED_COLUMNS)}
    FROM incoming
    LEFT JOIN LATERAL (
        SELECT id, clinic_id FROM messaging_outboundemail WHERE id = incoming.email_id_hint
        UNION ALL
        SELECT id, clinic_id FROM messaging_outboundemail
        WHERE incoming.email_id_hint IS NULL AND incoming.message_id <> ''
            AND esp_message_id = incoming.message_id
        LIMIT 1
    ) email ON TRUE
    ORDER BY incoming.esp, incoming.dedup_key
    ON CONFLICT (esp, dedup_key) DO NOTHING
    RETURNING {", ".join(APPLIED_FIELDS)}
"""  # noqa: S608 (only the model's own column names are formatted in)


def _store_in_database(batch_ids: list[int]) -> list[StoredEvent]:
    """PostgreSQL stores the events straight from the batches' JSON: none of it goes through
    Python, which made the drain about twice as fast as COPYing rows (docs/benchmarks.md)."""
    with connection.cursor() as cursor:
        cursor.execute(_STORE_RECEIVED, {"batches": batch_ids, "now": timezone.now()})
        return [StoredEvent(*row) for row in cursor]


def _store_by_orm(batch_ids: list[int]) -> list[StoredEvent]:
    """The same through the ORM, for other databases (the demo's SQLite)."""
    received = ReceivedBatch.objects.filter(pk__in=batch_ids).order_by("id")
    first = {}
    for payload in received.values_list("payload", flat=True):
        for row in rows_load(payload):
            first.setdefault((row.esp, row.dedup_key), row)
    unique = [first[key] for key in sorted(first)]
    matches = _emails_for(unique)
    now, marker = timezone.now(), uuid.uuid4()
    events = []
    for row in unique:
        email_id, clinic_id = matches.get(_match_key(row), (None, None))
        events.append(
            EmailEvent(
                **{field.name: getattr(row, field.name) for field in fields(EventRow)},
                clinic_id=clinic_id,
                email_id=email_id,
                received_at=now,
                matched_at=now if email_id else None,
                batch=marker,
            )
        )
    EmailEvent.objects.bulk_create(events, ignore_conflicts=True)
    stored = EmailEvent.objects.filter(
        esp__in={event.esp for event in events},
        dedup_key__in=[event.dedup_key for event in events],
        batch=marker,
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
            .filter(pk__in=_any_of(email_ids))
            .order_by("pk")
            .values_list("pk", flat=True)
        )


def _any_of(email_ids) -> RawSQL | list:
    """The right-hand side of `pk__in` for thousands of ids: on PostgreSQL one array parameter,
    where a placeholder per id cost a third of a drain's time in the ORM and the driver."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::uuid[])", [list(email_ids)])
    return list(email_ids)


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
        pk__in=_any_of(event.email_id for event in events), status_rank__lt=rank
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
