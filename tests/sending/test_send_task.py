"""The send task through anymail's real Mailgun backend and the local simulator. These tests are
about the task's decisions, made here: a retry is made at the end of its wait with the clock moved
there (never at once, as eager Celery would). Retries by a real worker in real time are in
tests/integration/test_send_retries.py."""

import pytest
import requests
from django_scopes import scope, scopes_disabled

from messaging.models import OutboundEmail
from messaging.sending.delivery import email_deliver
from messaging.sending.tasks import email_send_task
from messaging.sending.triggers import direct_message_send, invoice_send
from messaging.status import EmailStatus
from notifications.models import Notification
from tests.factories import InvoiceFactory
from tests.sending.timing import deliver_on_time

pytestmark = pytest.mark.usefixtures("eager_celery")


def send(cast, client=None, **kwargs) -> OutboundEmail:
    with scope(clinic=cast.alice_clinic):
        return direct_message_send(
            client=client or cast.bob,
            subject=kwargs.get("subject", "Your exercises"),
            body="Three sets of ten, twice a day.",
            sent_by=cast.alice,
        )


def deliver(email: OutboundEmail) -> OutboundEmail:
    email_send_task.apply(args=[str(email.id)], kwargs={"clinic_id": email.clinic_id})
    with scopes_disabled():
        return OutboundEmail.objects.get(pk=email.pk)


def fault(simulator, **spec) -> None:
    requests.post(f"{simulator.url}/sim/faults", json=spec, timeout=5).raise_for_status()


def test_it_sends_with_only_the_email_id_as_metadata_and_stores_the_esp_id(cast, esp_simulator):
    email = deliver(send(cast))
    assert email.status == EmailStatus.PROCESSED
    [sent] = esp_simulator.messages(email_id=str(email.id))
    assert email.esp_message_id == sent["message_id"]
    assert sent["user_variables"] == {"email_id": str(email.id)}  # nothing about the clinic
    assert sent["tags"] == ["direct_message"]
    assert sent["recipient"] == "bob@example.test"
    assert sent["from"] == "Alice Physio <mail@clinicmail.test>"
    assert email.attempts == 1


def test_the_task_run_twice_sends_once(cast, esp_simulator):
    email = send(cast)
    deliver(email)
    deliver(email)
    assert len(esp_simulator.messages(email_id=str(email.id))) == 1


def test_an_invoice_goes_with_its_pdf(cast, esp_simulator):
    with scope(clinic=cast.alice_clinic):
        invoice = InvoiceFactory(client=cast.bob, number="AP-7")
        email = deliver(invoice_send(invoice=invoice, sent_by=cast.alice))
    [sent] = esp_simulator.messages(email_id=str(email.id))
    [attachment] = sent["attachments"]
    assert attachment["filename"] == "invoice-AP-7.pdf"
    assert attachment["size"] > 500


@pytest.mark.parametrize("status", [500, 503, 429])
def test_transient_errors_are_retried_until_sent(cast, esp_simulator, status, clock, settings):
    settings.SEND_RETRY_BASE_SECONDS = 10
    fault(esp_simulator, status=status, count=2)
    email = send(cast)
    deliveries = deliver_on_time(email, clock)
    assert [delivery.outcome for delivery in deliveries] == ["retry", "retry", "sent"]
    # Waits grow: between half and all of 10 s, then of 20 s.
    assert 5 <= deliveries[0].retry_in <= 10
    assert 10 <= deliveries[1].retry_in <= 20
    with scopes_disabled():
        email.refresh_from_db()
    assert email.status == EmailStatus.PROCESSED
    assert email.attempts == 3
    assert len(esp_simulator.messages(email_id=str(email.id))) == 1


def test_after_a_timeout_the_retry_waits_for_the_esps_events(cast, esp_simulator, settings):
    """The ESP may accept an email after we stopped waiting for its answer: the retry comes late
    enough for its acceptance event to be applied, so that the email is not sent twice."""

    settings.ANYMAIL = {**settings.ANYMAIL, "REQUESTS_TIMEOUT": (1, 0.5)}
    settings.SEND_UNKNOWN_OUTCOME_WAIT_SECONDS = 45
    email = send(cast)
    fault(esp_simulator, timeout=2, count=1)
    with scope(clinic=cast.alice_clinic):
        delivery = email_deliver(email_id=email.id)
        assert (delivery.outcome, delivery.retry_in) == ("retry", 45)
        email.refresh_from_db()
        assert "may have accepted the email" in email.reason

        fault(esp_simulator, status=503, count=1)
        assert email_deliver(email_id=email.id).retry_in < 45  # an answer: no need to wait


def test_an_email_waiting_for_its_retry_is_not_sent_by_the_sweepers_task(cast, esp_simulator):
    """The sweeper can queue an email while its attempt is still under way; if that attempt
    ends in a wait, the queued task must leave the email to its retry."""
    from datetime import timedelta

    from django.utils import timezone

    from messaging.sending.tasks import email_chunk_send_task

    email = send(cast)
    with scopes_disabled():
        OutboundEmail.objects.filter(pk=email.pk).update(
            attempts=1, next_attempt_at=timezone.now() + timedelta(seconds=60)
        )
    chunk = {"args": [[str(email.id)]], "kwargs": {"clinic_id": email.clinic_id}}
    assert email_chunk_send_task.apply(**chunk).get() == {"skipped": 1}
    assert esp_simulator.messages(email_id=str(email.id)) == []

    with scopes_disabled():
        OutboundEmail.objects.filter(pk=email.pk).update(
            next_attempt_at=timezone.now() - timedelta(seconds=1)
        )
    assert email_chunk_send_task.apply(**chunk).get() == {"sent": 1}
    assert len(esp_simulator.messages(email_id=str(email.id))) == 1


def test_it_gives_up_after_the_last_attempt_with_the_esps_words(
    cast, esp_simulator, settings, clock
):
    settings.SEND_MAX_ATTEMPTS = 3
    fault(esp_simulator, status=503, count=10)
    email = send(cast)
    outcomes = [delivery.outcome for delivery in deliver_on_time(email, clock)]
    assert outcomes == ["retry", "retry", "failed"]
    with scopes_disabled():
        email.refresh_from_db()
    assert email.status == EmailStatus.FAILED
    assert email.attempts == 3
    assert email.reason.startswith("Gave up after 3 attempts. The email provider answered 503")
    assert esp_simulator.messages(email_id=str(email.id)) == []


def test_a_permanent_error_fails_at_once_with_the_esps_words(cast, esp_simulator):
    fault(
        esp_simulator,
        status=400,
        message="to parameter is not a valid address. please check documentation",
    )
    email = deliver(send(cast))
    assert email.status == EmailStatus.FAILED
    assert email.attempts == 1
    assert "to parameter is not a valid address" in email.reason
    with scopes_disabled():
        note = Notification.objects.get(email_id=email.id)
    assert note.recipient == cast.alice
    assert "to parameter is not a valid address" in note.text


def test_a_wrong_api_key_fails_at_once(cast, esp_simulator, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_API_KEY": "wrong"}
    email = deliver(send(cast))
    assert email.status == EmailStatus.FAILED
    assert email.attempts == 1
