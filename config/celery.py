import os

from celery import Celery, Task
from celery.schedules import crontab
from django_scopes import scope

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("clinicmail")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class ClinicTask(Task):
    """Runs the task inside the clinic's scope, named by its `clinic_id` keyword argument."""

    def __call__(self, *args, **kwargs):
        if kwargs.get("clinic_id") is None:
            raise TypeError(f"{self.name} must be called with the keyword argument clinic_id")
        with scope(clinic=kwargs["clinic_id"]):
            return super().__call__(*args, **kwargs)


app.conf.beat_schedule = {
    "outbox-sweep": {"task": "messaging.tasks.outbox_sweep_task", "schedule": 60.0},
    "appointment-reminders": {"task": "messaging.tasks.reminders_send_task", "schedule": 60.0},
    "events-drain": {"task": "messaging.tasks.inbox_drain_task", "schedule": 15.0},
    "events-rematch": {"task": "messaging.tasks.events_rematch_task", "schedule": 60.0},
    "emails-reconcile": {"task": "messaging.tasks.emails_reconcile_task", "schedule": 60.0},
    "stuck-emails": {"task": "messaging.tasks.stuck_emails_flag_task", "schedule": 60.0},
    "reputation-guard": {"task": "messaging.tasks.reputation_guard_task", "schedule": 60.0},
    "webhook-tokens": {"task": "messaging.tasks.webhook_tokens_purge_task", "schedule": 3600.0},
    "esp-removals": {"task": "suppression.tasks.esp_removals_sweep_task", "schedule": 600.0},
    "email-log-retention": {
        "task": "messaging.tasks.retention_purge_task",
        "schedule": crontab(minute=17, hour=3),
    },
}
