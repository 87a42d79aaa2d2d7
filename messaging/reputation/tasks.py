"""The reputation guard's Celery task, registered under messaging.tasks like every stage's."""

from django.utils import timezone

from config.celery import app
from messaging.reputation.guard import guard_evaluate, held_emails_unheld
from messaging.reputation.rollups import counts_fold


@app.task(name="messaging.tasks.reputation_guard_task")
def reputation_guard_task() -> dict[str, int]:
    """Folds the day counts' changes in, then weighs every clinic's figures (beat, each minute):
    the fold keeps the counts' change table short, so the guard's read stays quick. Last, held
    emails of clinics no hold stands for go on, as a release would have sent them."""
    counts_fold()
    now = timezone.now()
    done = guard_evaluate(now=now)
    done["unheld"] = held_emails_unheld(now=now)
    return done
