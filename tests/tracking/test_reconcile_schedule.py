"""Which emails are reconciled with their ESP's event log, when, and when the stuck flag may
follow (messaging/tracking/reconcile.py, stuck.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from messaging.models import OutboundEmail
from messaging.tracking.reconcile import emails_awaiting_outcome, next_reconcile_at
from messaging.tracking.stuck import stuck_emails_flag
from tests.tracking.helpers import tracked_email

MINUTE = timedelta(minutes=1)


def test_each_reconciliation_that_settles_nothing_waits_as_long_as_the_email_is_old():
    sent = timezone.now()
    at, waits = sent + 10 * MINUTE, []
    for _ in range(8):
        following = next_reconcile_at(sent_at=sent, now=at)
        waits.append((following - at) / MINUTE)
        at = following
    assert waits == [10, 20, 40, 80, 160, 320, 360, 360], "10 minutes, doubling, at most 6 hours"
    assert next_reconcile_at(sent_at=sent, now=sent) - sent == 10 * MINUTE


def email(cast, n: int, **fields) -> OutboundEmail:
    """A tracked email sent 11 minutes ago; a time given as a timedelta is from now."""
    now = timezone.now()
    fields = {k: now + v if isinstance(v, timedelta) else v for k, v in fields.items()}
    made = tracked_email(
        cast.alice_clinic,
        cast.bob,
        esp=fields.pop("esp", "mailgun"),
        email_id=f"00000000-0000-4000-8000-{n:012d}",
    )
    fields.setdefault("sent_at", now - 11 * MINUTE)
    with scopes_disabled():
        OutboundEmail.objects.filter(pk=made.pk).update(**fields)
    return made


@pytest.mark.parametrize(
    ("fields", "due"),
    [
        ({}, True),
        ({"status": "deferred"}, True),
        ({"esp": "postmark"}, True),
        ({"esp": "sendgrid"}, True),
        ({"sent_at": -9 * MINUTE}, False),  # RECONCILE_AFTER_SECONDS: 600
        ({"reconcile_at": MINUTE}, False),
        ({"reconcile_at": -MINUTE, "sent_at": -MINUTE}, True),
        ({"status": "delivered"}, False),
        ({"status": "failed"}, False),
        ({"status": "sending"}, False),
        ({"esp": "amazon_ses"}, False),  # keeps no event log
        ({"esp": "smtp", "status": "sent"}, False),
        ({"esp_message_id": ""}, False),
        ({"sent_at": -timedelta(days=31)}, False),  # gone from the log
    ],
)
def test_which_emails_are_due(cast, settings, fields, due):
    settings.RECONCILE_AFTER_SECONDS = 600
    made = email(cast, 1, **fields)
    with scopes_disabled():
        found = list(emails_awaiting_outcome(now=timezone.now()).values_list("pk", flat=True))
    assert [str(pk) for pk in found] == ([str(made.pk)] if due else [])


def test_the_stuck_flag_waits_for_a_reconciliation_where_the_esp_keeps_a_log(cast):
    unread = email(cast, 1)
    email(cast, 2, reconciled_at=timezone.now())
    email(cast, 3, esp="amazon_ses")  # no log to wait for
    assert stuck_emails_flag(now=timezone.now()) == 2
    with scopes_disabled():
        assert OutboundEmail.objects.get(pk=unread.pk).flagged_stuck_at is None


def test_beat_runs_the_reconciliation_every_minute_under_its_lasting_name(db):
    from config.celery import app
    from messaging.tracking.tasks import emails_reconcile_task

    entry = app.conf.beat_schedule["emails-reconcile"]
    assert entry == {"task": "messaging.tasks.emails_reconcile_task", "schedule": 60.0}
    assert emails_reconcile_task.name == entry["task"]
    assert emails_reconcile_task() == 0, "nothing due"
