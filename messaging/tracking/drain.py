"""Applying the received batches, many webhook posts at a time, in a few set-based queries.

A worker applies the waiting batches (kept by messaging/tracking/receive.py) together, in one
transaction per group: 1. store every event, skipping ones already stored, each matched to its
email (messaging/tracking/store.py); 2. lock their emails in id order; 3. raise each email to the
highest status among its new events; 4. apply a permanent failure's consequences, once per email
(messaging/tracking/apply.py); 5. delete the group's batches. Repeats and any arrival order end in
the same state; a worker killed midway rolls back, and the batches wait for the next one.
"""

import logging
import random
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from celery.exceptions import SoftTimeLimitExceeded
from django.db import DatabaseError, OperationalError, connection, transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from messaging.models import ReceivedBatch
from messaging.tracking.apply import events_apply
from messaging.tracking.store import events_store

logger = logging.getLogger(__name__)

DEADLOCK_RETRIES = 5
# How much one drain transaction takes on: enough to share the fixed cost of a transaction
# among many single-event posts, small enough to hold the emails' row locks only briefly.
DRAIN_EVENTS = 5000
DRAIN_BATCHES = 500
# Between groups smaller than a full one, a worker's drain waits this long for more posts to
# gather.
DRAIN_PAUSE = 0.2
# The PostgreSQL advisory lock that lets one drain run at a time: a key of this app's own.
DRAIN_LOCK = 0x636C6D61

T = TypeVar("T")


@dataclass(frozen=True)
class Drained:
    """What a drain did: how many events it applied, and whether it stopped at its budget,
    maybe with batches still waiting for another drain to go on."""

    events: int
    out_of_time: bool = False


def inbox_drain(
    *, max_events: int = DRAIN_EVENTS, pause: float = 0.0, budget: float | None = None
) -> Drained:
    """Stores and applies the waiting batches, a group at a time, until none is left. One drain
    runs at a time: a drain that finds another running returns at once, leaving the batches to
    it. After a group smaller than a full one, waits `pause` seconds, so that single-event posts
    gather into fewer, larger groups. After `budget` seconds it stops, out of time: its caller
    asks for a fresh drain to go on."""
    began, drained = time.monotonic(), 0

    def spent() -> bool:
        return budget is not None and time.monotonic() - began > budget

    while True:
        with _drain_lock() as held:
            if not held:
                return Drained(drained)
            while True:
                count, more = _retrying(lambda: _drain_group(max_events))
                drained += count
                if (not count and not more) or spent():
                    break
                if not more and pause:
                    time.sleep(pause)
        if spent():
            return Drained(drained, out_of_time=True)
        # A batch committed while the lock was held may have had its own drain turned away.
        if not _takeable():
            return Drained(drained)


@contextmanager
def _drain_lock():
    """Whether this drain may run: a PostgreSQL advisory lock, let go on return or with the
    connection. A second drain at once would compete with the first for the same emails' row
    locks and for the cores that answer the ESPs, and apply nothing sooner
    (docs/benchmarks.md)."""
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
            events_apply(events_store(batch_ids))
    except (OperationalError, SoftTimeLimitExceeded):
        raise
    except Exception as error:
        return error
    return None


def _set_aside(batch_id: int, error: Exception) -> None:
    """A batch that cannot be applied is kept, with why, for support in admin; the others go on."""
    logger.error("Received batch %s cannot be applied: %s", batch_id, error)
    ReceivedBatch.objects.filter(pk=batch_id).update(failed_at=timezone.now(), error=str(error))
