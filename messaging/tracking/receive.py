"""Receiving a webhook post: its events kept as one ReceivedBatch before the ESP is answered, and
a worker asked to apply them (messaging/tracking/drain.py)."""

import logging
import time

from django.db import connection
from django.utils import timezone
from kombu.exceptions import OperationalError
from psycopg.types.json import Jsonb

from messaging.tracking.rows import EventRow, rows_dump
from messaging.tracking.tasks import inbox_drain_task

logger = logging.getLogger(__name__)


_KEEP_BATCH = (
    "INSERT INTO messaging_receivedbatch (esp, received_at, event_count, payload, error) "
    "VALUES (%(esp)s, %(now)s, %(count)s, %(payload)s, '') RETURNING id"
)
# The same, kept only if the post's one-time token was not kept before: one statement, so the
# token is kept exactly when its post is (a post refused by our own outage may come again).
_KEEP_BATCH_ONCE = """
    WITH token AS (
        INSERT INTO messaging_webhooktoken (esp, token, received_at)
        VALUES (%(esp)s, %(token)s, %(now)s)
        ON CONFLICT DO NOTHING RETURNING 1
    )
    INSERT INTO messaging_receivedbatch (esp, received_at, event_count, payload, error)
    SELECT %(esp)s, %(now)s, %(count)s, %(payload)s, '' WHERE EXISTS (SELECT 1 FROM token)
    RETURNING id
"""


def events_receive(*, esp: str, rows: list[EventRow], token: str | None = None) -> int | None:
    """Keeps a webhook post's events for a worker to apply: one INSERT, committed before the
    ESP is answered, so nothing it was told is received can be lost. Returns the batch's id, or
    None for a post whose signed one-time `token` was kept already (a replay)."""
    # Written as SQL: the ORM's save() cost a third of a single-event post's time
    # (docs/benchmarks.md).
    values = {
        "esp": esp,
        "now": timezone.now(),
        "count": len(rows),
        "payload": Jsonb(rows, dumps=rows_dump),
        "token": token,
    }
    with connection.cursor() as cursor:
        cursor.execute(_KEEP_BATCH if token is None else _KEEP_BATCH_ONCE, values)
        kept = cursor.fetchone()
    return kept[0] if kept else None


class DrainRequests:
    """Asks a worker to apply the received events, at most once per DELAY from each process.
    A requested drain waits DELAY before it starts, so that it finds many posts to apply at
    once; until then, this process knows that drain (or the one running then, which goes on
    until none is left) will see every batch committed meanwhile, and asks neither the broker
    nor anything else. With the broker down the batches wait, in the database, for a later
    request or the beat drain."""

    # At 0.1 s the worker used four times the CPU and single-event posts were answered at less
    # than half the rate (docs/benchmarks.md).
    DELAY = 0.5
    # Room for the worker's clock running ahead of this one.
    CLOCK_MARGIN = 0.1

    def __init__(self) -> None:
        self.covered_until = 0.0

    def request(self) -> None:
        now = time.monotonic()
        if now < self.covered_until:
            return
        try:
            inbox_drain_task.apply_async(countdown=self.DELAY, retry=False)
        except (OperationalError, OSError) as error:
            logger.warning("Could not queue the event drain (%s); beat will drain", error)
            return
        self.covered_until = now + self.DELAY - self.CLOCK_MARGIN

    def forget(self) -> None:
        self.covered_until = 0.0


drain_requests = DrainRequests()
