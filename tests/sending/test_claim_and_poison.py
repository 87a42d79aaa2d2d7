"""An attempt claims its email in a committed state and calls the ESP outside any transaction: a
slow send holds no row lock the drain could wait on, recording it never lowers a status the drain
raised meanwhile, and an email that cannot be prepared ends Failed, in words, with its sender
told. Real PostgreSQL, anymail's Mailgun backend and the ESP simulator."""

import threading
from datetime import timedelta

import pytest
import requests
from django.db import connection, transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from messaging.models import OutboundEmail
from messaging.sending.delivery import email_deliver
from messaging.sending.triggers import direct_message_send, invoice_send
from messaging.tracking.drain import inbox_drain
from messaging.tracking.receive import events_receive
from messaging.tracking.rows import event_row
from notifications.models import Notification
from tests.factories import ClientFactory, InvoiceFactory
from tests.processes import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def send(cast, address: str) -> OutboundEmail:
    with scopes_disabled():
        client = ClientFactory(clinic=cast.alice_clinic, email=address)
    with transaction.atomic(), scope(clinic=cast.alice_clinic):
        return direct_message_send(client=client, subject="Plan", body="x", sent_by=cast.alice)


def delivered_event(email: OutboundEmail):
    """Mailgun's `delivered` for this email as anymail's view would hand it to us."""
    from anymail.signals import AnymailTrackingEvent

    event = AnymailTrackingEvent(
        event_type="delivered",
        timestamp=timezone.now(),
        event_id=f"delivered-{email.pk}",
        message_id=f"msg-{email.pk}",
        recipient=email.to_email,
        metadata={"email_id": str(email.pk)},
        esp_event={"event": "delivered", "id": f"delivered-{email.pk}"},
    )
    return event_row("Mailgun", event)


def deliver(email: OutboundEmail) -> str:
    """One attempt, as the send task makes it: in the email's clinic's scope."""
    with scope(clinic=email.clinic_id):
        return email_deliver(email_id=email.pk).outcome


def status_of(email: OutboundEmail) -> str:
    with scopes_disabled():
        return OutboundEmail.objects.get(pk=email.pk).status


def test_the_drain_applies_events_while_a_send_waits_ten_seconds_for_the_esp(cast, esp_simulator):
    slow, other = send(cast, "slow@example.test"), send(cast, "other@example.test")
    requests.post(f"{esp_simulator.url}/sim/faults", json=[{"timeout": 10}], timeout=5)
    outcome = []
    sending = threading.Thread(target=lambda: (outcome.append(deliver(slow)), connection.close()))
    sending.start()

    def claimed() -> bool:
        with scopes_disabled():
            return OutboundEmail.objects.get(pk=slow.pk).claimed_until is not None

    wait_for(claimed, timeout=5, interval=0.01)
    # The ESP's events for the slow email (it may report one before our call returns) and for
    # another email arrive while the send waits.
    events_receive(esp="mailgun", rows=[delivered_event(slow), delivered_event(other)])

    assert inbox_drain().events == 2
    assert sending.is_alive(), "the drain waited for the send to finish"
    assert status_of(slow) == "delivered"
    assert status_of(other) == "delivered"
    sending.join()
    assert outcome == ["sent"]
    with scopes_disabled():
        recorded = OutboundEmail.objects.get(pk=slow.pk)
    assert recorded.status == "delivered", "recording the send lowered the status"
    assert recorded.esp_message_id
    assert recorded.sent_at is not None and recorded.claimed_until is None


def test_a_claimed_email_is_not_claimed_again_until_its_lease_runs_out(cast, settings):
    email = send(cast, "lease@example.test")
    with scopes_disabled():
        OutboundEmail.objects.filter(pk=email.pk).update(
            claimed_until=timezone.now() + timedelta(minutes=2)
        )
    assert deliver(email) == "skipped"  # an attempt is under way
    with scopes_disabled():
        assert OutboundEmail.objects.get(pk=email.pk).attempts == 0


def test_an_invoice_that_cannot_be_built_fails_after_its_attempts_and_tells_its_sender(
    cast, esp_simulator, settings
):
    settings.SEND_MAX_ATTEMPTS = 3
    with scopes_disabled():
        invoice = InvoiceFactory(
            client=cast.bob,
            line_items=[{"description": "Massage", "quantity": 1}],  # no unit price
        )
    with transaction.atomic(), scope(clinic=cast.alice_clinic):
        email = invoice_send(invoice=invoice, sent_by=cast.alice)

    outcomes = [deliver(email) for _ in range(3)]

    assert outcomes == ["retry", "retry", "failed"]
    with scopes_disabled():
        failed = OutboundEmail.objects.get(pk=email.pk)
        told = Notification.objects.get(recipient=cast.alice)
    assert failed.status == "failed"
    assert failed.reason.startswith("Gave up after 3 attempts. It could not be sent because of a")
    assert "problem on our side (KeyError: 'unit_price')" in failed.reason
    assert "not because of the client's address" in failed.reason
    assert failed.claimed_until is None
    assert failed.reason in told.text
    assert esp_simulator.messages() == [], "nothing was handed to the ESP"


def test_an_email_waiting_to_be_sent_with_no_attempt_under_way_is_flagged_once(cast):
    from messaging.tracking.stuck import stuck_emails_flag

    waiting, retrying, claimed = (send(cast, f"{n}@example.test") for n in "abc")
    later = timezone.now() + timedelta(minutes=5)
    with scopes_disabled():
        eleven_minutes_ago = timezone.now() - timedelta(minutes=11)
        OutboundEmail.objects.update(
            created_at=eleven_minutes_ago, status_changed_at=eleven_minutes_ago
        )
        OutboundEmail.objects.filter(pk=retrying.pk).update(next_attempt_at=later)
        OutboundEmail.objects.filter(pk=claimed.pk).update(claimed_until=later)

    assert stuck_emails_flag(now=timezone.now()) == 1
    assert stuck_emails_flag(now=timezone.now()) == 0
    with scopes_disabled():
        flagged = OutboundEmail.objects.exclude(flagged_stuck_at=None).get()
        told = Notification.objects.get(recipient=cast.alice_admin)
    assert flagged.pk == waiting.pk
    assert "has waited to be sent since" in told.text
    assert "no attempt is under way" in told.text


def died_after_the_esp_took_it(email: OutboundEmail) -> None:
    """As a worker killed between the ESP's answer and our record leaves the email: still
    `sending`, no message id, its lease run out."""
    with scopes_disabled():
        OutboundEmail.objects.filter(pk=email.pk).update(
            status="sending",
            esp_message_id="",
            sent_at=None,
            attempts=1,
            claimed_until=timezone.now() - timedelta(seconds=1),
        )


def test_an_email_the_esp_took_before_the_worker_died_is_recorded_not_sent_again(
    cast, esp_simulator
):
    email = send(cast, "taken@example.test")
    assert deliver(email) == "sent"
    [first] = esp_simulator.messages(email_id=str(email.pk))
    wait_for(lambda: esp_simulator.events(), timeout=10)  # the ESP has logged its acceptance
    died_after_the_esp_took_it(email)

    assert deliver(email) == "sent"

    assert len(esp_simulator.messages(email_id=str(email.pk))) == 1, "sent twice"
    with scopes_disabled():
        recorded = OutboundEmail.objects.get(pk=email.pk)
    assert recorded.esp_message_id.strip("<>") == first["message_id"].strip("<>")
    assert recorded.status != "sending"


def test_an_email_the_esp_never_got_is_sent_when_its_lease_runs_out(cast, esp_simulator):
    """The control for the test above: nothing in the ESP's log, so it goes."""
    email = send(cast, "never@example.test")
    died_after_the_esp_took_it(email)
    assert deliver(email) == "sent"
    assert len(esp_simulator.messages(email_id=str(email.pk))) == 1
