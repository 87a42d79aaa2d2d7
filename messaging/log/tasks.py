"""The log's Celery task. It keeps the name it was first registered under (in messaging.tasks), so
that queued tasks and the beat schedule (config/celery.py) still find it."""

from django.utils import timezone

from config.celery import app
from messaging.log.retention import retention_apply


@app.task(name="messaging.tasks.retention_purge_task")
def retention_purge_task() -> int:
    """Every table's retention, nightly; returns how many rows were deleted or cleared."""
    return sum(retention_apply(now=timezone.now()).values())
