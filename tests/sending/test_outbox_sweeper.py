"""The database, not the broker, is the record of what must be sent."""

import pytest
from django_scopes import scope, scopes_disabled

from config.celery import app
from messaging.models import OutboundEmail
from messaging.sending.tasks import outbox_sweep_task
from messaging.sending.triggers import direct_message_send
from messaging.status import EmailStatus
from tests.processes import celery_broker


@pytest.fixture
def broker_down():
    """Points the real Celery app at a port where no broker listens."""
    with celery_broker("redis://127.0.0.1:9/0"):
        yield


def test_broker_down_at_commit_then_the_sweeper_sends_exactly_once(
    cast, esp_simulator, broker_down, django_capture_on_commit_callbacks, settings, caplog
):
    with scope(clinic=cast.alice_clinic), django_capture_on_commit_callbacks(execute=True):
        email = direct_message_send(client=cast.bob, subject="Hi", body="x", sent_by=cast.alice)
    assert "left for the outbox sweeper" in caplog.text
    with scopes_disabled():
        assert OutboundEmail.objects.get(pk=email.pk).status == EmailStatus.SENDING
    assert esp_simulator.messages() == []

    settings.OUTBOX_SWEEP_AFTER_SECONDS = 0
    app.conf.update(CELERY_TASK_ALWAYS_EAGER=True)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert outbox_sweep_task() == 1
        with django_capture_on_commit_callbacks(execute=True):
            assert outbox_sweep_task() == 0
    finally:
        app.conf.update(CELERY_TASK_ALWAYS_EAGER=False)
    with scopes_disabled():
        assert OutboundEmail.objects.get(pk=email.pk).status == EmailStatus.PROCESSED
    assert len(esp_simulator.messages(email_id=str(email.id))) == 1


def test_the_sweeper_leaves_fresh_and_retrying_emails_alone(cast, eager_celery, settings):
    from datetime import timedelta

    from django.utils import timezone

    with scope(clinic=cast.alice_clinic):
        fresh = direct_message_send(client=cast.bob, subject="Hi", body="x", sent_by=cast.alice)
        waiting = direct_message_send(client=cast.bob, subject="Hi", body="x", sent_by=cast.alice)
    settings.OUTBOX_SWEEP_AFTER_SECONDS = 300
    with scopes_disabled():
        OutboundEmail.objects.filter(pk=waiting.pk).update(
            created_at=timezone.now() - timedelta(hours=1),
            next_attempt_at=timezone.now() + timedelta(minutes=2),
        )
    assert outbox_sweep_task() == 0
    assert fresh.status == EmailStatus.SENDING
