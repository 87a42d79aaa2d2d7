"""Deleting the log past its retention period, in small batches so no lock is held for long."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django_scopes import scopes_disabled

from messaging.models import EmailEvent, OutboundEmail

logger = logging.getLogger(__name__)


def _delete_batch(queryset, size: int) -> int:
    # Unordered: any expired rows will do, and sorting every expired row per batch is not free.
    ids = list(queryset.order_by().values_list("pk", flat=True)[:size])
    if ids:
        queryset.model.objects.filter(pk__in=ids).delete()
    return len(ids)


def log_purge(*, before: datetime, batch_size: int = 500, max_batches: int = 100_000) -> int:
    """Deletes events, then emails (with any later events of theirs), from before `before`.
    Returns how many rows of the two went."""
    total = 0
    with scopes_disabled():
        for queryset in (
            EmailEvent.objects.filter(received_at__lt=before),
            OutboundEmail.objects.filter(created_at__lt=before),
        ):
            for _ in range(max_batches):
                deleted = _delete_batch(queryset, batch_size)
                total += deleted
                if deleted < batch_size:
                    break
    return total


def log_expire(*, now: datetime) -> int:
    """Deletes the log older than EMAIL_LOG_RETENTION_DAYS; returns how many rows went."""
    cutoff = now - timedelta(days=settings.EMAIL_LOG_RETENTION_DAYS)
    deleted = log_purge(before=cutoff)
    logger.info("Retention removed %d emails and events older than %s", deleted, cutoff)
    return deleted
