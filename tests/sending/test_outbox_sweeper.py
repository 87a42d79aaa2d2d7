"""The database, not the broker, is the record of what must be sent."""

import time
from datetime import timedelta

import pytest
from django_scopes import scope, scopes_disabled

from messaging.models import OutboundEmail
from messaging.sending.tasks import outbox_sweep_task
from messaging.sending.triggers import direct_message_send
from messaging.status import EmailStatus
from tests.processes import celery_broker, wait_for


def status_of(email) -> str:
    with scopes_disabled():
        return OutboundEmail.objects.get(pk=email.pk).status


@pytest.mark.integration
def test_broker_down_at_commit_then_the_sweeper_sends_exactly_once(
    cast, esp_simulator, start_worker, settings, caplog
):
    """In real time, with a real worker: the sweep leaves the email alone while it is younger
    than OUTBOX_SWEEP_AFTER_SECONDS, then hands it over, once."""
    settings.OUTBOX_SWEEP_AFTER_SECONDS = 4
    with celery_broker("redis://127.0.0.1:9/0"), scope(clinic=cast.alice_clinic):
        email = direct_message_send(client=cast.bob, subject="Hi", body="x", sent_by=cast.alice)
    created = time.monotonic()
    assert "left for the outbox sweeper" in caplog.text  # the broker refused: the fault happened
    assert outbox_sweep_task() == 0  # too young to be called left behind
    start_worker()
    time.sleep(1)
    assert status_of(email) == EmailStatus.SENDING  # no task carries it
    assert esp_simulator.messages() == []

    time.sleep(max(0.0, 4.5 - (time.monotonic() - created)))
    assert outbox_sweep_task() == 1
    wait_for(lambda: status_of(email) != EmailStatus.SENDING, timeout=30)
    assert outbox_sweep_task() == 0
    assert esp_simulator.wait_idle(timeout=30)
    assert len(esp_simulator.messages(email_id=str(email.id))) == 1


def test_the_sweeper_leaves_fresh_and_retrying_emails_alone(
    cast, settings, clock, django_capture_on_commit_callbacks
):
    with scope(clinic=cast.alice_clinic):
        fresh = direct_message_send(client=cast.bob, subject="Hi", body="x", sent_by=cast.alice)
        waiting = direct_message_send(client=cast.bob, subject="Hi", body="x", sent_by=cast.alice)
        left = direct_message_send(client=cast.bob, subject="Hi", body="x", sent_by=cast.alice)
    settings.OUTBOX_SWEEP_AFTER_SECONDS = 300
    with scopes_disabled():
        OutboundEmail.objects.filter(pk__in=[waiting.pk, left.pk]).update(
            created_at=clock() - timedelta(hours=1), status_changed_at=clock() - timedelta(hours=1)
        )
        OutboundEmail.objects.filter(pk=waiting.pk).update(
            next_attempt_at=clock() + timedelta(minutes=2)
        )
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert outbox_sweep_task() == 1  # the control: only the one left behind
    assert [callback.args[0] for callback in queued] == [[str(left.pk)]]

    clock.move_by(timedelta(minutes=2) + timedelta(seconds=301))  # the retry's time is long past
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert outbox_sweep_task() == 3
    assert {status_of(email) for email in (fresh, waiting, left)} == {EmailStatus.SENDING}
