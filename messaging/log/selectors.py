"""What the client's email log shows, read from the database."""

from datetime import timedelta

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from messaging.event_words import WORDS_FIELDS
from messaging.models import EmailEvent, OutboundEmail


def client_email_log(*, client, days: int) -> QuerySet[OutboundEmail]:
    """The client's emails of the last `days` days, newest first, each with its events."""
    since = timezone.now() - timedelta(days=days)
    events = EmailEvent.objects.order_by("occurred_at", "id").only(
        "email_id",
        "event_type",
        "status",
        "occurred_at",
        "click_url",
        *WORDS_FIELDS,
    )
    # The emails that resent each one, for the log's "Resent as" links.
    resends = OutboundEmail.objects.order_by("created_at").only(
        "id", "replaces_id", "created_at", "status", "engagement_tracked"
    )
    return (
        OutboundEmail.objects.filter(client=client, created_at__gte=since)
        .order_by("-created_at", "-id")
        .defer("body_text", "body_html")
        .prefetch_related(Prefetch("events", queryset=events), Prefetch("resends", resends))
    )
