"""Reconciling with the ESP's own event log: the second source of events beside the webhooks.

An ESP gives up on a webhook receiver that stays down (Amazon SES through SNS after about a
minute by default, Postmark after about an hour, Mailgun after 8 hours, SendGrid after 24), and
the emails it reported on then would stay `processed` for ever. So an email handed to an ESP
that keeps an event log (messaging/tracking/eventlogs), still without an outcome (`processed` or
`deferred`) RECONCILE_AFTER_SECONDS after it was sent, has its events read from that log by a
beat job, and again with backoff (10 minutes, 20, 40 ... at most 6 hours apart) until it has an
outcome or leaves the retention period. `manage.py esp_reconcile --since` reads every event of a
window after an outage.

Events read this way become the same EventRows as a webhook's and take the same path: kept by
`events_receive`, applied by the drain, each stored once under the key its webhook has too
(rows.dedup_key), so a webhook arriving later changes nothing, and consequences happen once.
The stuck-email flag (stuck.py) waits for a reconciliation that found nothing.
"""

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_scopes import scopes_disabled

from messaging.models import EmailEvent, OutboundEmail
from messaging.status import EmailStatus
from messaging.tracking.eventlogs import (
    HAS_EVENT_LOG,
    NO_EVENT_LOG,
    EventLog,
    EventLogError,
    EventLogUnavailable,
    MessageRef,
    event_log,
)
from messaging.tracking.receive import drain_requests, events_receive
from messaging.tracking.rows import EventRow, event_row

logger = logging.getLogger(__name__)

# Statuses that are not yet an outcome: the ESP has the email, and has said no more.
AWAITING = (EmailStatus.PROCESSED, EmailStatus.DEFERRED)
# After each reconciliation that left an email without an outcome, the next waits as long as
# the email is old, within these bounds: 10 minutes, 20, 40 ... 6 hours.
BACKOFF_FIRST = timedelta(minutes=10)
BACKOFF_MAX = timedelta(hours=6)
# Emails a beat run reconciles at most (the next run takes the rest), and how long a run holds
# the ones it took (a run killed midway leaves them to a later one after that).
RECONCILE_PER_RUN = 200
CLAIM = timedelta(minutes=5)
# An event log found unavailable (credentials refused, a paid add-on missing) is not asked
# again for this long; its emails count as reconciled, with nothing found. Remembered in the
# cache under this key (deleted, the log is asked again at once).
UNAVAILABLE_FOR = timedelta(hours=6)
UNAVAILABLE_KEY = "eventlog-unavailable:{stream}"
# What an answer that is not the documented shape raises while it is converted.
UNREADABLE = (ValueError, KeyError, TypeError, AttributeError, IndexError)


def emails_awaiting_outcome(*, now: datetime) -> QuerySet[OutboundEmail]:
    """Handed to an ESP that keeps an event log, no outcome yet, and due to be reconciled:
    RECONCILE_AFTER_SECONDS after it was sent, then at its `reconcile_at` (call unscoped)."""
    after = timedelta(seconds=settings.RECONCILE_AFTER_SECONDS)
    retained = now - timedelta(days=settings.EMAIL_LOG_RETENTION_DAYS)
    return (
        OutboundEmail.objects.filter(
            status__in=AWAITING, esp__in=HAS_EVENT_LOG, sent_at__gte=retained
        )
        .exclude(esp_message_id="")
        .filter(Q(reconcile_at__isnull=True, sent_at__lte=now - after) | Q(reconcile_at__lte=now))
    )


def next_reconcile_at(*, sent_at: datetime, now: datetime) -> datetime:
    """After a reconciliation that found no outcome: again once the email is twice as old."""
    return now + min(max(now - sent_at, BACKOFF_FIRST), BACKOFF_MAX)


@dataclass
class Reconciled:
    """What a reconciliation did."""

    emails: int = 0  # emails whose ESP log was read (or found unavailable)
    events: int = 0  # events read
    kept: int = 0  # of them, new: kept for the drain
    unavailable: dict[str, str] = field(default_factory=dict)  # stream: why, in words
    errors: dict[str, str] = field(default_factory=dict)  # stream: why not now


def emails_reconcile(
    *, now: datetime | None = None, limit: int = RECONCILE_PER_RUN, budget: float | None = None
) -> Reconciled:
    """Reads the ESP's event log for the emails due (the oldest first), keeps what the webhooks
    did not bring, and sets when each is asked again. Stops after `budget` seconds, or at an ESP
    that cannot be read now; the emails left come back in a later run."""
    now = now or timezone.now()
    began, done = time.monotonic(), Reconciled()
    by_stream: dict[str, list[dict]] = defaultdict(list)
    for email in _claim_due(now=now, limit=limit):
        by_stream[email["esp"]].append(email)
    for stream, emails in by_stream.items():
        why = _unavailable(stream)
        log = None if why else event_log(stream)
        for email in emails:
            if budget is not None and time.monotonic() - began > budget:
                break
            if log is not None:
                try:
                    events = log.message_events(_message_ref(email))
                    rows = [event_row(log.esp_name, event) for event in events]
                except UNREADABLE as error:  # asked again later, with backoff, not at once
                    logger.warning(
                        "%s's log of email %s is unreadable: %r", stream, email["id"], error
                    )
                    rows = []
                except EventLogUnavailable as error:
                    why = _report_unavailable(stream, str(error))
                    log = None
                except EventLogError as error:
                    logger.warning("Reconciling %s emails stopped for now: %s", stream, error)
                    done.errors[stream] = str(error)
                    break
                else:
                    done.events += len(rows)
                    done.kept += events_keep(esp=stream, rows=rows)
            if why:
                done.unavailable[stream] = why
            _reconciled(email, now=timezone.now())
            done.emails += 1
    if done.kept:
        drain_requests.request()
    return done


def _claim_due(*, now: datetime, limit: int) -> list[dict]:
    """The emails due, taken for CLAIM so that an overlapping run leaves them alone."""
    with scopes_disabled(), transaction.atomic():
        due = list(
            emails_awaiting_outcome(now=now)
            .select_for_update(skip_locked=True)
            .order_by(Coalesce("reconcile_at", "sent_at"), "pk")
            .values("id", "esp", "esp_message_id", "sent_at")[:limit]
        )
        OutboundEmail.objects.filter(pk__in=[email["id"] for email in due]).update(
            reconcile_at=now + CLAIM
        )
    return due


def _message_ref(email: dict) -> MessageRef:
    return MessageRef(
        email_id=email["id"], message_id=email["esp_message_id"], sent_at=email["sent_at"]
    )


def _reconciled(email: dict, *, now: datetime) -> None:
    with scopes_disabled():
        OutboundEmail.objects.filter(pk=email["id"]).update(
            reconciled_at=now,
            reconcile_at=next_reconcile_at(sent_at=email["sent_at"], now=now),
        )


def _unavailable(stream: str) -> str | None:
    return cache.get(UNAVAILABLE_KEY.format(stream=stream))


def _report_unavailable(stream: str, why: str) -> str:
    """Said once (a warning), then remembered for UNAVAILABLE_FOR: not asked again meanwhile."""
    if cache.add(UNAVAILABLE_KEY.format(stream=stream), why, UNAVAILABLE_FOR.total_seconds()):
        logger.warning("No reconciliation with %s for now: %s", stream, why)
    return why


def events_keep(
    *,
    esp: str,
    rows: list[EventRow],
    named: dict[str, uuid.UUID] | None = None,
    ours_only: bool = False,
) -> int:
    """Keeps, for the drain, the events read from an ESP's log that are not stored yet; returns
    how many. Skipped: an event already stored under its key, or stored under another key by
    the other source (same email, type and second: an event SendGrid's activity API names no id
    of); with `ours_only`, an event that names none of our emails (another system's mail on the
    same ESP account: kept, it would wait for a match that never comes). `named` is
    emails_named(rows), where the caller has it. Every query here uses an index."""
    rows = [row for row in rows if row.message_id or row.email_id_hint]
    rows = list({row.dedup_key: row for row in rows}.values())
    if not rows:
        return 0
    with scopes_disabled():
        if named is None:
            named = emails_named(rows)
        if ours_only:
            rows = [row for row in rows if _named(row, named)]
        keys = [row.dedup_key for row in rows]
        stored = set(
            EmailEvent.objects.filter(esp=esp, dedup_key__in=keys).values_list(
                "dedup_key", flat=True
            )
        )
        rows = [row for row in rows if row.dedup_key not in stored]
        seen = _occurrences_stored(esp, {_named(row, named) for row in rows} - {None})
        rows = [row for row in rows if _occurrence(row, named) not in seen]
    if rows:
        events_receive(esp=esp, rows=rows)
    return len(rows)


def emails_named(rows: Iterable[EventRow]) -> dict[str, uuid.UUID]:
    """Our emails the events name, by `id:<email id>` and `msg:<ESP message id>` (unscoped)."""
    hints = {row.email_id_hint for row in rows if row.email_id_hint}
    message_ids = {row.message_id for row in rows if row.message_id}
    if not hints and not message_ids:
        return {}
    found = OutboundEmail.objects.filter(
        Q(pk__in=hints) | Q(esp_message_id__in=message_ids)
    ).values_list("pk", "esp_message_id")
    named: dict[str, uuid.UUID] = {}
    for pk, message_id in found:
        named[f"id:{pk}"] = pk
        if message_id:
            named[f"msg:{message_id}"] = pk
    return named


def _named(row: EventRow, named: dict[str, uuid.UUID]) -> uuid.UUID | None:
    return named.get(f"id:{row.email_id_hint}") or named.get(f"msg:{row.message_id}")


def _occurrence(row: EventRow, named: dict[str, uuid.UUID]) -> tuple | None:
    """What names an event whatever its key: its email, type and second."""
    email_id = _named(row, named)
    if email_id is None or row.occurred_at is None:
        return None
    return (email_id, row.event_type, int(row.occurred_at.timestamp()))


def _occurrences_stored(esp: str, email_ids: set[uuid.UUID]) -> set[tuple]:
    """The stored events of these emails, as _occurrence names them (by event_email_time)."""
    if not email_ids:
        return set()
    stored = EmailEvent.objects.filter(email_id__in=email_ids, esp=esp).values_list(
        "email_id", "event_type", "occurred_at"
    )
    return {
        (email_id, event_type, int(at.timestamp()))
        for email_id, event_type, at in stored
        if at is not None
    }


@dataclass
class WindowProgress:
    """How far a window's reconciliation has gone, for the operator."""

    pages: int = 0
    events: int = 0
    kept: int = 0
    emails: set = field(default_factory=set)


def window_reconcile(
    *,
    stream: str,
    begin: datetime,
    end: datetime,
    log: EventLog | None = None,
    on_page: Callable[[str, WindowProgress], None] | None = None,
    apply: Callable[[], object] | None = None,
) -> WindowProgress:
    """Reads every event the ESP logged between `begin` and `end`, a page at a time, and keeps
    the ones that are new and name one of our emails; `apply` (the drain) runs after each page
    that kept any. Raises EventLogUnavailable for an ESP with no event log. Stopped midway (an
    error, Ctrl-C), it keeps what it read, and a second run skips what the first kept."""
    if log is None:
        log = event_log(stream, patient=True)
    if log is None:
        raise EventLogUnavailable(
            NO_EVENT_LOG.get(stream) or f"{stream} keeps no event log this platform can read."
        )
    progress = WindowProgress()
    pages = iter(log.pages(begin=begin, end=end))
    while True:
        try:
            page = next(pages, None)
            if page is None:
                break
            rows = [event_row(log.esp_name, event) for event in page.events]
        except UNREADABLE as error:
            raise EventLogError(
                f"the answer after page {progress.pages} is unreadable: {error!r}"
            ) from error
        with scopes_disabled():
            named = emails_named(rows)
        progress.pages += 1
        progress.events += len(rows)
        progress.emails |= {pk for row in rows if (pk := _named(row, named))}
        kept = events_keep(esp=stream, rows=rows, named=named, ours_only=True)
        progress.kept += kept
        if kept and apply is not None:
            apply()
        if on_page is not None:
            on_page(page.what, progress)
    return progress
