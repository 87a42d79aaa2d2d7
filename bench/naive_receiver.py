"""A tracking receiver written the obvious way, for comparison (bench/webhook_ingest.py): per
event one lookup of the email, one INSERT (a duplicate raises IntegrityError and is skipped) and
one conditional UPDATE, each in autocommit. Same status mapping as the app."""

from django.db import IntegrityError
from django.utils import timezone
from django_scopes import scopes_disabled

from messaging.event_words import event_words
from messaging.models import EmailEvent, OutboundEmail
from messaging.status import STATUS_RANK
from messaging.tracking.apply import EXPLAINED
from messaging.tracking.rows import event_row

ROW_FIELDS = (
    "esp",
    "event_type",
    "status",
    "suppress",
    "occurred_at",
    "reject_reason",
    "description",
    "mta_response",
    "click_url",
    "user_agent",
    "recipient",
    "message_id",
    "email_id_hint",
    "dedup_key",
    "raw",
)


def naive_tracking_received(sender, event, esp_name: str, **kwargs) -> None:
    row = event_row(esp_name, event)
    with scopes_disabled():
        try:
            email = OutboundEmail.objects.get(pk=row.email_id_hint) if row.email_id_hint else None
        except OutboundEmail.DoesNotExist:
            email = None
        now = timezone.now()
        try:
            EmailEvent.objects.create(
                clinic_id=email.clinic_id if email else None,
                email=email,
                matched_at=now if email else None,
                **{field: getattr(row, field) for field in ROW_FIELDS},
            )
        except IntegrityError:
            return  # already stored
        if email and row.status:
            rank = STATUS_RANK[row.status]
            OutboundEmail.objects.filter(pk=email.pk, status_rank__lt=rank).update(
                status=row.status,
                reason=event_words(row) if row.status in EXPLAINED else "",
                status_changed_at=now,
            )
