from django.db import transaction
from django.utils import timezone

from clinic.models import SmartFormRequest


@transaction.atomic
def smart_form_submit(*, form_request: SmartFormRequest, responses: dict) -> bool:
    """Stores a client's answers; the link works once, so a second submission changes nothing."""
    completed = SmartFormRequest.objects.filter(
        pk=form_request.pk, state=SmartFormRequest.State.PENDING
    ).update(
        state=SmartFormRequest.State.COMPLETED, responses=responses, completed_at=timezone.now()
    )
    form_request.refresh_from_db()
    return bool(completed)
