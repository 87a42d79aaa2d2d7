"""Opted-out and suppressed recipients get nothing, and the reason is recorded and told."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from messaging.models import EmailKind, OutboundEmail
from messaging.sending.triggers import appointment_book, direct_message_send
from messaging.status import EmailStatus
from notifications.models import Notification
from suppression.models import SuppressionReason
from suppression.services import client_opt_out, suppression_record

pytestmark = pytest.mark.usefixtures("eager_celery")


def book(cast):
    start = timezone.now() + timedelta(days=3)
    return appointment_book(
        client=cast.bob, practitioner=cast.alice, start=start, end=start + timedelta(hours=1)
    )


def emails_of(client):
    with scopes_disabled():
        return list(OutboundEmail.objects.filter(client=client))


def test_an_opted_out_client_gets_no_appointment_email(
    cast, esp_simulator, django_capture_on_commit_callbacks
):
    with scope(clinic=cast.alice_clinic), django_capture_on_commit_callbacks(execute=True):
        client_opt_out(client=cast.bob, reason="Asked not to be emailed")
        book(cast)
    [email] = emails_of(cast.bob)
    assert email.kind == EmailKind.APPOINTMENT_CONFIRMATION
    assert email.status == EmailStatus.FAILED
    assert "opted out of appointment communications" in email.reason
    assert "Asked not to be emailed" in email.reason
    assert esp_simulator.messages() == []


def test_an_opted_out_client_still_gets_a_direct_message(
    cast, esp_simulator, django_capture_on_commit_callbacks
):
    with scope(clinic=cast.alice_clinic), django_capture_on_commit_callbacks(execute=True):
        client_opt_out(client=cast.bob, reason="Asked not to be emailed")
        email = direct_message_send(client=cast.bob, subject="Hi", body="x", sent_by=cast.alice)
    assert email.status == EmailStatus.SENDING
    assert len(esp_simulator.messages(email_id=str(email.id))) == 1


def test_a_suppressed_address_gets_nothing_and_the_sender_is_told_why(
    cast, esp_simulator, django_capture_on_commit_callbacks
):
    suppression_record(
        address="BOB@example.test",
        stream="mailgun",
        clinic=cast.alice_clinic,
        reason=SuppressionReason.HARD_BOUNCE,
        diagnostic="550 5.1.1 mailbox does not exist",
    )
    with scope(clinic=cast.alice_clinic), django_capture_on_commit_callbacks(execute=True):
        email = direct_message_send(client=cast.bob, subject="Hi", body="x", sent_by=cast.alice)
    assert email.status == EmailStatus.FAILED
    assert "the mailbox or its domain does not exist" in email.reason
    assert "550 5.1.1 mailbox does not exist" in email.reason
    assert esp_simulator.messages() == []


def test_a_triggered_send_to_a_suppressed_address_notifies_the_practitioner(
    cast, esp_simulator, django_capture_on_commit_callbacks
):
    suppression_record(
        address="bob@example.test",
        stream="mailgun",
        clinic=cast.alice_clinic,
        reason=SuppressionReason.SPAM_COMPLAINT,
    )
    with scope(clinic=cast.alice_clinic), django_capture_on_commit_callbacks(execute=True):
        book(cast)
    [email] = emails_of(cast.bob)
    assert email.status == EmailStatus.FAILED
    with scopes_disabled():
        note = Notification.objects.get(recipient=cast.alice)
    assert note.client == cast.bob
    assert note.email_id == email.id
    assert "marked one of our emails as spam" in note.text
    assert esp_simulator.messages() == []


def test_a_suppression_on_the_esp_does_not_block_a_clinic_on_its_own_smtp(cast):
    suppression_record(
        address="bob@example.test", stream="mailgun", reason=SuppressionReason.HARD_BOUNCE
    )
    cast.alice_clinic.sending_connection = "own_smtp"
    cast.alice_clinic.save()
    with scope(clinic=cast.alice_clinic):
        email = direct_message_send(client=cast.bob, subject="Hi", body="x", sent_by=cast.alice)
    assert email.status == EmailStatus.SENDING
