"""The status of an email is the highest-ranked status among its events."""

from django.db import models
from django.db.models import Case, PositiveSmallIntegerField, Value, When


class EmailStatus(models.TextChoices):
    HELD = "held", "Held"
    SENDING = "sending", "Sending"
    PROCESSED = "processed", "Processed"
    DEFERRED = "deferred", "Deferred"
    DELIVERED = "delivered", "Delivered"
    OPENED = "opened", "Open"
    CLICKED = "clicked", "Clicked"
    FAILED = "failed", "Failed"
    SPAM_REPORT = "spam_report", "Spam report"
    SENT = "sent", "Sent"


# Own-SMTP mail ends at `sent` and never hears of anything later, so its rank sits with `processed`.
# `held` (the clinic's mail to new addresses is on hold: messaging/reputation/) ranks below
# `sending`: it was never handed over, and only a release moves it on, never an event. In SQL it
# has no rank at all (NULL): no `status_rank < n` comparison is ever true of it, and the ranks
# the email table already stores did not change when it came.
STATUS_RANK: dict[str, int] = {
    EmailStatus.HELD: -1,
    EmailStatus.SENDING: 0,
    EmailStatus.PROCESSED: 10,
    EmailStatus.SENT: 10,
    EmailStatus.DEFERRED: 20,
    EmailStatus.DELIVERED: 30,
    EmailStatus.OPENED: 40,
    EmailStatus.CLICKED: 50,
    EmailStatus.FAILED: 60,
    EmailStatus.SPAM_REPORT: 70,
}


def status_rank(status: str) -> int:
    return STATUS_RANK[status]


def status_rank_expression() -> Case:
    """STATUS_RANK in SQL: how the database derives an email's `status_rank` from its status
    (`held`, ranked below zero, gets none: NULL)."""
    return Case(
        *(
            When(status=status, then=Value(rank))
            for status, rank in STATUS_RANK.items()
            if rank >= 0
        ),
        output_field=PositiveSmallIntegerField(),
    )


def highest_status(statuses: list[str]) -> str:
    return max(statuses, key=status_rank, default=EmailStatus.SENDING)
