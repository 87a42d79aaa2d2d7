import logging
import time
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from kombu.exceptions import OperationalError

from config.celery import ClinicTask, app
from messaging.delivery import email_deliver
from messaging.retention import log_purge
from messaging.selectors import (
    appointments_due_for_reminder,
    emails_awaiting_events,
    outbox_stuck,
)
from messaging.services import SEND_CHUNK, email_flag_stuck, emails_enqueue, reminder_prepare
from messaging.tracking.ingest import events_rematch, inbox_drain

logger = logging.getLogger(__name__)


@app.task(base=ClinicTask, bind=True, max_retries=None)
def send_email_task(self, email_id: str, *, clinic_id: int) -> str:
    delivery = email_deliver(email_id=email_id)
    if delivery.outcome == "retry":
        raise self.retry(countdown=delivery.retry_in)
    return delivery.outcome


@app.task(base=ClinicTask)
def send_emails_task(email_ids: list[str], *, clinic_id: int) -> dict[str, int]:
    """Sends a chunk of one clinic's emails (new ones, or the sweeper's); any that must wait are
    retried on their own."""
    outcomes: dict[str, int] = {}
    for email_id in email_ids:
        delivery = email_deliver(email_id=email_id, only_if_due=True)
        if delivery.outcome == "retry":
            send_email_task.apply_async(
                args=[email_id], kwargs={"clinic_id": clinic_id}, countdown=delivery.retry_in
            )
        outcomes[delivery.outcome] = outcomes.get(delivery.outcome, 0) + 1
    return outcomes


@app.task
def outbox_sweep_task() -> int:
    """Re-enqueues emails left in `sending` (broker down at commit, worker killed mid-send)."""
    older_than = timedelta(seconds=settings.OUTBOX_SWEEP_AFTER_SECONDS)
    with scopes_disabled():
        stuck = list(outbox_stuck(now=timezone.now(), older_than=older_than)[:5000])
    emails_enqueue(emails=stuck)
    if stuck:
        logger.info("Outbox sweep re-enqueued %d emails", len(stuck))
    return len(stuck)


@app.task
def reminders_send_task() -> int:
    with scopes_disabled():
        due = appointments_due_for_reminder(now=timezone.now())
    sent = 0
    # Enqueued chunk by chunk, so workers start sending while the rest are still being rendered.
    for start in range(0, len(due), SEND_CHUNK):
        chunk = []
        for appointment in due[start : start + SEND_CHUNK]:
            with scope(clinic=appointment.clinic_id):
                chunk.append(reminder_prepare(appointment=appointment))
        emails_enqueue(emails=[email for email in chunk if email is not None])
        sent += sum(email is not None for email in chunk)
    return sent


# Events that arrive before their email is known are matched again for this long, then left
# for support in admin.
REMATCH_WINDOW = timedelta(minutes=15)
STUCK_AFTER = timedelta(minutes=10)


@app.task
def events_rematch_task() -> int:
    return events_rematch(received_after=timezone.now() - REMATCH_WINDOW)


@app.task
def stuck_emails_flag_task() -> int:
    """Emails `processed` for 10 minutes with no later event: flagged, clinic admins told."""
    with scopes_disabled():
        stuck = list(
            emails_awaiting_events(now=timezone.now(), older_than=STUCK_AFTER).select_related(
                "clinic", "client"
            )[:1000]
        )
    flagged = 0
    for email in stuck:
        with scope(clinic=email.clinic_id):
            flagged += email_flag_stuck(email=email)
    return flagged


@app.task
def retention_purge_task() -> int:
    cutoff = timezone.now() - timedelta(days=settings.EMAIL_LOG_RETENTION_DAYS)
    deleted = log_purge(before=cutoff)
    logger.info("Retention removed %d emails and events older than %s", deleted, cutoff)
    return deleted


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


# Between groups smaller than a full one, the drain waits this long for more posts to gather.
DRAIN_PAUSE = 0.2


@app.task
def inbox_drain_task() -> int:
    # Well within the task's time limit: a drain that would run longer hands over to a fresh one.
    budget = settings.CELERY_TASK_SOFT_TIME_LIMIT / 2
    return inbox_drain(pause=DRAIN_PAUSE, budget=budget)
