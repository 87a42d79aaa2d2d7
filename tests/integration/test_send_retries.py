"""Retries in real time, by a real worker: a send the ESP did not answer in time waits for the
ESP's events before it is tried again, so an email the ESP accepted all the same is not sent
twice, and one it did not accept is sent after the wait."""

import time
from datetime import timedelta

import pytest
import requests
from django.db import transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from messaging.models import OutboundEmail
from messaging.sending.triggers import direct_message_send
from tests.processes import wait_for

pytestmark = [pytest.mark.integration]

TIMING = {
    "EMAIL_TIMEOUT": "1",  # the worker stops waiting for the ESP's answer after 1 s
    "SEND_UNKNOWN_OUTCOME_WAIT_SECONDS": "5",
    "SEND_RETRY_BASE_SECONDS": "1",
}
SLOW_ANSWER = 2.5  # the simulator answers after this: too late for the worker


def fault(simulator, **spec) -> None:
    requests.post(f"{simulator.url}/sim/faults", json=spec, timeout=5).raise_for_status()


def send(cast) -> OutboundEmail:
    with transaction.atomic(), scope(clinic=cast.alice_clinic):
        return direct_message_send(
            client=cast.bob, subject="Your plan", body="Stretch daily.", sent_by=cast.alice
        )


def row(email) -> OutboundEmail:
    with scopes_disabled():
        return OutboundEmail.objects.get(pk=email.pk)


def recorded(email: OutboundEmail, *, attempts: int) -> OutboundEmail | None:
    """The email once its attempt number `attempts` is over: the claim counts an attempt as it
    begins, and is let go when its outcome is recorded."""
    return email if email.attempts == attempts and email.claimed_until is None else None


def waiting_for_its_retry(email) -> OutboundEmail:
    """The email as it is once its first attempt timed out: the fault, seen happening."""
    return wait_for(
        lambda: (now := row(email)).reason.startswith("Retrying: ") and now,
        timeout=30,
        interval=0.05,
    )


def test_a_timed_out_send_the_esp_accepted_is_not_sent_again(cast, esp_simulator, start_worker):
    fault(esp_simulator, timeout=SLOW_ANSWER, count=1)
    start_worker(**TIMING)
    email = send(cast)

    waiting = waiting_for_its_retry(email)
    assert "did not answer in time; it may have accepted the email" in waiting.reason
    assert waiting.attempts == 1
    assert waiting.next_attempt_at - timezone.now() > timedelta(seconds=2)

    # The ESP accepted it after the worker stopped waiting, and said so by webhook (then that it
    # was delivered).
    heard = wait_for(lambda: (now := row(email)).status != "sending" and now, timeout=30)
    assert heard.esp_message_id == ""  # its answer never reached the worker
    # Past the retry's time, and then some: the retry found the email no longer `sending`.
    time.sleep(max(0.0, (waiting.next_attempt_at - timezone.now()).total_seconds()) + 3)
    assert len(esp_simulator.messages(email_id=str(email.id))) == 1
    assert row(email).attempts == 1
    assert row(email).status == "delivered"


def test_a_timed_out_send_the_esp_refused_is_sent_after_the_wait(cast, esp_simulator, start_worker):
    fault(esp_simulator, timeout=SLOW_ANSWER, status=503, count=1)
    start_worker(**TIMING)
    email = send(cast)

    waiting = waiting_for_its_retry(email)
    assert "may have accepted the email" in waiting.reason
    due = waiting.next_attempt_at

    sent = wait_for(lambda: (now := row(email)).esp_message_id and now, timeout=30)
    [message] = esp_simulator.messages(email_id=str(email.id))
    assert sent.esp_message_id == message["message_id"]
    assert sent.attempts == 2
    # Not before the wait for the ESP's events was over (less a little clock skew).
    assert message["accepted_at"] >= due.timestamp() - 0.2


def test_transient_errors_are_retried_after_growing_waits(cast, esp_simulator, start_worker):
    fault(esp_simulator, status=503, count=2)
    start_worker(**TIMING)
    email = send(cast)

    first = waiting_for_its_retry(email)
    assert first.reason.startswith("Retrying: The email provider answered 503")
    second = wait_for(lambda: recorded(row(email), attempts=2), timeout=30, interval=0.05)
    assert second.next_attempt_at > first.next_attempt_at
    sent = wait_for(lambda: (now := row(email)).esp_message_id and now, timeout=30)
    [message] = esp_simulator.messages(email_id=str(email.id))
    assert sent.attempts == 3
    assert message["accepted_at"] >= second.next_attempt_at.timestamp() - 0.2
