"""Sending's Celery tasks. Each keeps the name it was first registered under (in messaging.tasks),
so that queued tasks and the beat schedule (config/celery.py) still find it."""

from django.utils import timezone

from config.celery import ClinicTask, app
from messaging.sending.delivery import email_deliver
from messaging.sending.outbox import outbox_sweep
from messaging.sending.triggers import reminders_send


@app.task(name="messaging.tasks.send_email_task", base=ClinicTask, bind=True, max_retries=None)
def email_send_task(self, email_id: str, *, clinic_id: int) -> str:
    delivery = email_deliver(email_id=email_id)
    if delivery.outcome == "retry":
        raise self.retry(countdown=delivery.retry_in)
    return delivery.outcome


@app.task(name="messaging.tasks.send_emails_task", base=ClinicTask)
def email_chunk_send_task(email_ids: list[str], *, clinic_id: int) -> dict[str, int]:
    """Sends a chunk of one clinic's emails (new ones, or the sweeper's); any that must wait are
    retried on their own."""
    outcomes: dict[str, int] = {}
    for email_id in email_ids:
        delivery = email_deliver(email_id=email_id, only_if_due=True)
        if delivery.outcome == "retry":
            email_send_task.apply_async(
                args=[email_id], kwargs={"clinic_id": clinic_id}, countdown=delivery.retry_in
            )
        outcomes[delivery.outcome] = outcomes.get(delivery.outcome, 0) + 1
    return outcomes


@app.task(name="messaging.tasks.outbox_sweep_task")
def outbox_sweep_task() -> int:
    """Re-enqueues emails left in `sending` (broker down at commit, worker killed mid-send)."""
    return outbox_sweep(now=timezone.now())


@app.task(name="messaging.tasks.reminders_send_task")
def reminders_send_task() -> int:
    return reminders_send(now=timezone.now())
