"""A real worker sends through the simulator, which posts signed Mailgun webhooks back to the
live server: each outcome ends in its status, with its consequences."""

import pytest
from django.db import transaction
from django_scopes import scope, scopes_disabled

from clinic.models import Client
from messaging.models import EmailEvent, OutboundEmail
from messaging.sending.triggers import direct_message_send
from notifications.models import Notification
from suppression.models import Suppression
from tests.factories import ClientFactory
from tests.processes import wait_for

pytestmark = [pytest.mark.integration]

FINAL = {
    "click.carla@example.test": "clicked",
    "bounce.ben@example.test": "failed",
    "complaint.cora@example.test": "spam_report",
    "defer.dev@example.test": "delivered",
}


def test_each_simulated_outcome_reaches_its_status(cast, esp_simulator, start_worker):
    start_worker()
    with scopes_disabled():
        clients = {
            address: ClientFactory(clinic=cast.alice_clinic, email=address) for address in FINAL
        }
    with transaction.atomic(), scope(clinic=cast.alice_clinic):
        emails = {
            address: direct_message_send(
                client=client, subject="Your plan", body="Stretch daily.", sent_by=cast.alice
            )
            for address, client in clients.items()
        }

    def settled():
        with scopes_disabled():
            now = {a: OutboundEmail.objects.get(pk=e.pk).status for a, e in emails.items()}
        return now == FINAL

    wait_for(settled, timeout=60)
    assert esp_simulator.wait_idle(timeout=30)

    with scopes_disabled():
        bounced = OutboundEmail.objects.get(pk=emails["bounce.ben@example.test"].pk)
        ben = Client.objects.get(pk=clients["bounce.ben@example.test"].pk)
        note = Notification.objects.get(email_id=bounced.id)
        deferred_first = EmailEvent.objects.filter(
            email=emails["defer.dev@example.test"], status="deferred"
        ).exists()
    assert "5.1.1" in bounced.reason
    assert Suppression.objects.get(address="bounce.ben@example.test").reason == "hard_bounce"
    assert not ben.appointment_comms
    assert note.recipient == cast.alice
    assert Suppression.objects.get(address="complaint.cora@example.test").reason == (
        "spam_complaint"
    )
    assert deferred_first
