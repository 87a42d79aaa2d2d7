from django_scopes import scopes_disabled

from config.celery import app
from suppression.models import EspRemoval, Suppression
from suppression.services import esp_removal_attempt


@app.task(bind=True, max_retries=8)
def esp_removal_task(self, suppression_id: int) -> bool:
    """Removes a reactivated address at the ESP, retrying with backoff while the ESP fails."""
    with scopes_disabled():
        removed = esp_removal_attempt(suppression_id=suppression_id)
    if not removed:
        raise self.retry(countdown=min(3600, 30 * 2**self.request.retries))
    return removed


@app.task
def esp_removals_sweep_task() -> int:
    """Retries removals still pending (the broker was down, or the task gave up)."""
    pending = list(
        Suppression.objects.filter(esp_removal=EspRemoval.PENDING).values_list("pk", flat=True)
    )
    for suppression_id in pending:
        esp_removal_task.delay(suppression_id)
    return len(pending)
