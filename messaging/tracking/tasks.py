"""Tracking's Celery tasks. Each keeps the name it was first registered under (in
messaging.tasks), so that queued tasks and the beat schedule (config/celery.py) still find it."""

from django.conf import settings
from django.utils import timezone

from config.celery import app
from messaging.tracking.apply import REMATCH_WINDOW, events_rematch
from messaging.tracking.drain import DRAIN_PAUSE, inbox_drain
from messaging.tracking.stuck import stuck_emails_flag
from messaging.tracking.tokens import webhook_tokens_forget


@app.task(name="messaging.tasks.inbox_drain_task")
def inbox_drain_task() -> int:
    # Well within the task's time limit: a drain that would run longer hands over to a fresh one
    # (should the broker refuse it, the beat schedule's drain goes on within 15 seconds).
    drained = inbox_drain(pause=DRAIN_PAUSE, budget=settings.CELERY_TASK_SOFT_TIME_LIMIT / 2)
    if drained.out_of_time:
        inbox_drain_task.apply_async(retry=False)
    return drained.events


@app.task(name="messaging.tasks.events_rematch_task")
def events_rematch_task() -> int:
    return events_rematch(received_after=timezone.now() - REMATCH_WINDOW)


@app.task(name="messaging.tasks.emails_reconcile_task")
def emails_reconcile_task() -> int:
    """Emails the ESP accepted and never reported an outcome of: read from its own event log."""
    # Imported here: reconciling keeps events through receive.py, which imports this module.
    from messaging.tracking.reconcile import emails_reconcile

    return emails_reconcile(budget=settings.CELERY_TASK_SOFT_TIME_LIMIT / 2).emails


@app.task(name="messaging.tasks.stuck_emails_flag_task")
def stuck_emails_flag_task() -> int:
    """Emails `processed` too long with no later event, even in the ESP's own log: flagged,
    clinic admins told."""
    return stuck_emails_flag(now=timezone.now())


@app.task(name="messaging.tasks.webhook_tokens_purge_task")
def webhook_tokens_purge_task() -> int:
    return webhook_tokens_forget(now=timezone.now())
