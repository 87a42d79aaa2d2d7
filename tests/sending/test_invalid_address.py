"""An address anymail finds is not a valid email address fails the email at once, before any
request: the words say to correct it in the client's details and blame no provider, and nothing
is suppressed (the address was never tried)."""

import pytest
from django_scopes import scope, scopes_disabled

from messaging.models import OutboundEmail
from messaging.sending.policy import INVALID_ADDRESS_WORDS
from messaging.sending.tasks import email_send_task
from messaging.sending.triggers import direct_message_send
from messaging.status import EmailStatus
from notifications.models import Notification
from suppression.models import Suppression
from tests.factories import ClientFactory

pytestmark = pytest.mark.usefixtures("eager_celery")


def test_it_fails_at_once_and_says_to_correct_the_address(cast, esp_simulator):
    with scopes_disabled():
        client = ClientFactory(
            clinic=cast.alice_clinic, name="Typo", email="bob..smith@example.test"
        )
    with scope(clinic=cast.alice_clinic):
        email = direct_message_send(client=client, subject="Hi", body="x", sent_by=cast.alice)
    email_send_task.apply(args=[str(email.id)], kwargs={"clinic_id": email.clinic_id})
    with scopes_disabled():
        email = OutboundEmail.objects.get(pk=email.pk)
        note = Notification.objects.get(email_id=email.id)
        client.refresh_from_db()
        assert not Suppression.objects.exists()
    assert (email.status, email.attempts) == (EmailStatus.FAILED, 1)
    assert (
        email.reason
        == INVALID_ADDRESS_WORDS
        == (
            "The client's email address is not valid, so this email could not be sent. Correct the "
            "address in the client's details."
        )
    )
    assert esp_simulator.health()["messages"] == 0
    assert (note.recipient, note.text) == (
        cast.alice,
        f"Direct message to Typo failed. {email.reason}",
    )
    assert client.appointment_comms
