"""The module of this app that Celery's autodiscover_tasks() imports. Each stage keeps its tasks
in a module of its own; importing them here registers them, under the names they had when they
were all defined here (messaging.tasks.*), so that queued tasks and the beat schedule still find
them."""

from messaging.log import tasks as log_tasks  # noqa: F401
from messaging.reputation import tasks as reputation_tasks  # noqa: F401
from messaging.sending import tasks as sending_tasks  # noqa: F401
from messaging.tracking import tasks as tracking_tasks  # noqa: F401
