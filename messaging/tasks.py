import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from config.celery import ClinicTask, app
from messaging.delivery import email_deliver
from messaging.retention import log_purge
from messaging.selectors import appointments_due_for_reminder, outbox_stuck
from messaging.services import SEND_CHUNK, emails_enqueue, reminder_prepare
from messaging.tracking import tasks as tracking_tasks  # noqa: F401 (registers its tasks)

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


@app.task
def retention_purge_task() -> int:
    cutoff = timezone.now() - timedelta(days=settings.EMAIL_LOG_RETENTION_DAYS)
    deleted = log_purge(before=cutoff)
    logger.info("Retention removed %d emails and events older than %s", deleted, cutoff)
    return deleted
