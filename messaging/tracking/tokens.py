"""One-time webhook tokens (messaging.models.WebhookToken), kept with their posts by
messaging/tracking/receive.py, forgotten once their signatures would be refused as stale."""

from datetime import datetime

from django.conf import settings

from messaging.models import WebhookToken


def webhook_tokens_forget(*, now: datetime) -> int:
    """Forgets tokens older than any signature still accepted; returns how many."""
    expired = WebhookToken.objects.filter(received_at__lt=now - settings.MAILGUN_SIGNATURE_MAX_AGE)
    return expired.delete()[0]
