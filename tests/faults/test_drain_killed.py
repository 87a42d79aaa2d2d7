"""A worker SIGKILLed while it applies received webhook batches: the group it held rolls back,
and the next worker applies every batch, each event exactly once."""

import json

import pytest
from django.test import RequestFactory
from django_scopes import scopes_disabled

from messaging.models import EmailEvent, EmailKind, OutboundEmail, ReceivedBatch
from messaging.tracking.receive import events_receive
from messaging.tracking.rows import event_row
from messaging.tracking.tasks import inbox_drain_task
from messaging.tracking.webhooks import SendGridTracking
from tests.faults.conftest import kill_process_group
from tests.load.test_webhook_flood import sendgrid_event
from tests.processes import wait_for

pytestmark = [pytest.mark.fault, pytest.mark.integration]

EMAILS, BATCH = 7500, 1000


def received_batches(emails) -> int:
    """Four events per email (processed, delivered, open, click), kept as the webhook view keeps
    them, in batches of BATCH."""
    events = [
        sendgrid_event(email, kind)
        for email in emails
        for kind in ("processed", "delivered", "open", "click")
    ]
    for start in range(0, len(events), BATCH):
        body = json.dumps(events[start : start + BATCH])
        request = RequestFactory().post("/", body, content_type="application/json")
        rows = [event_row("SendGrid", event) for event in SendGridTracking().parse_events(request)]
        events_receive(esp="sendgrid", rows=rows)
    return len(events)


def test_a_worker_killed_mid_drain_then_a_new_worker(cast, private_redis, start_worker):
    with scopes_disabled():
        emails = OutboundEmail.objects.bulk_create(
            OutboundEmail(
                clinic=cast.alice_clinic,
                client=cast.bob,
                kind=EmailKind.DIRECT_MESSAGE,
                to_email=cast.bob.email,
                subject="Plan",
                body_text="x",
                esp="sendgrid",
                status="processed",
            )
            for _ in range(EMAILS)
        )
    sent = received_batches(emails)
    worker = start_worker(CELERY_BROKER_URL=private_redis.url)
    inbox_drain_task.delay()

    def some_applied() -> bool:
        with scopes_disabled():
            return EmailEvent.objects.exists()

    wait_for(some_applied, timeout=60, interval=0.02)
    kill_process_group(worker.process)
    assert ReceivedBatch.objects.exists(), "the drain ended before the kill: nothing was tested"

    start_worker(CELERY_BROKER_URL=private_redis.url)
    inbox_drain_task.delay()  # as the beat schedule would
    wait_for(lambda: not ReceivedBatch.objects.exists(), timeout=120, interval=0.5)
    with scopes_disabled():
        assert EmailEvent.objects.count() == sent
        statuses = set(OutboundEmail.objects.values_list("status", flat=True))
    assert statuses == {"clicked"}
