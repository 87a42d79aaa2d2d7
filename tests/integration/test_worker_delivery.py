import pytest
from django.db import transaction
from django_scopes import scope, scopes_disabled

from messaging.models import OutboundEmail
from messaging.sending.triggers import direct_message_send
from messaging.status import EmailStatus
from tests.processes import wait_for

pytestmark = [pytest.mark.integration]


def status_of(email) -> OutboundEmail:
    with scopes_disabled():
        return OutboundEmail.objects.get(pk=email.pk)


def test_an_email_saved_in_a_transaction_reaches_processed_with_the_esps_id(
    cast, esp_simulator, start_worker
):
    start_worker()
    with transaction.atomic(), scope(clinic=cast.alice_clinic):
        email = direct_message_send(
            client=cast.bob, subject="Your plan", body="Stretch daily.", sent_by=cast.alice
        )
        assert status_of(email).status == EmailStatus.SENDING

    processed = wait_for(
        lambda: (row := status_of(email)).status != EmailStatus.SENDING and row, timeout=30
    )
    [sent] = esp_simulator.messages(email_id=str(email.id))
    assert processed.esp_message_id == sent["message_id"]
    assert processed.status_rank >= 10
    assert processed.attempts == 1
