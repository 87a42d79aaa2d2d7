"""One-time webhook tokens (messaging.models.WebhookToken), kept with their posts by
messaging/tracking/receive.py, forgotten once their signatures would be refused as stale."""

from datetime import datetime

from django.conf import settings
from django.db import connection
from django.utils import timezone

from messaging.models import WebhookToken

_KEEP_ONCE = """
    INSERT INTO messaging_webhooktoken (esp, token, received_at) VALUES (%s, %s, %s)
    ON CONFLICT DO NOTHING RETURNING 1
"""


def webhook_token_keep(*, esp: str, token: str) -> bool:
    """Keeps a signed post's one-time token; False when it was kept before (a replay). Called
    in the transaction that keeps what the post brought, so a post that fails may come again."""
    with connection.cursor() as cursor:
        cursor.execute(_KEEP_ONCE, [esp, token[:128], timezone.now()])
        return cursor.fetchone() is not None


def webhook_tokens_forget(*, now: datetime) -> int:
    """Forgets tokens older than any signature still accepted; returns how many."""
    expired = WebhookToken.objects.filter(received_at__lt=now - settings.MAILGUN_SIGNATURE_MAX_AGE)
    return expired.delete()[0]
