"""The log's Celery task. It keeps the name it was first registered under (in messaging.tasks), so
that queued tasks and the beat schedule (config/celery.py) still find it."""

from django.utils import timezone

from config.celery import app
from messaging.log.retention import log_expire


@app.task(name="messaging.tasks.retention_purge_task")
def retention_purge_task() -> int:
    return log_expire(now=timezone.now())
