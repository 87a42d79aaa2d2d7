import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from config.celery import ClinicTask, app
from messaging.delivery import email_deliver
from messaging.selectors import appointments_due_for_reminder, outbox_stuck
from messaging.services import email_enqueue, reminder_send

logger = logging.getLogger(__name__)


@app.task(base=ClinicTask, bind=True, max_retries=None)
def send_email_task(self, email_id: str, *, clinic_id: int) -> str:
    delivery = email_deliver(email_id=email_id)
    if delivery.outcome == "retry":
        raise self.retry(countdown=delivery.retry_in)
    return delivery.outcome


@app.task
def outbox_sweep_task() -> int:
    """Re-enqueues emails left in `sending` (broker down at commit, worker killed mid-send)."""
    older_than = timedelta(seconds=settings.OUTBOX_SWEEP_AFTER_SECONDS)
    with scopes_disabled():
        stuck = list(outbox_stuck(now=timezone.now(), older_than=older_than)[:5000])
    for email in stuck:
        email_enqueue(email=email)
    if stuck:
        logger.info("Outbox sweep re-enqueued %d emails", len(stuck))
    return len(stuck)


@app.task
def reminders_send_task() -> int:
    with scopes_disabled():
        due = appointments_due_for_reminder(now=timezone.now())
    sent = 0
    for appointment in due:
        with scope(clinic=appointment.clinic_id):
            sent += reminder_send(appointment=appointment) is not None
    return sent
