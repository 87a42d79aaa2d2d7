"""A released hold's emails go through a real Celery worker to the ESP (the simulator) exactly
once, however often they are released or enqueued; an email held at delivery by the worker is
never handed to the ESP."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from messaging.models import MailHold, OutboundEmail
from messaging.reputation.guard import ReleaseRefused, hold_release
from messaging.sending.outbox import emails_enqueue
from messaging.sending.triggers import direct_message_send
from messaging.status import EmailStatus
from tests.factories import ClientFactory, MailHoldFactory
from tests.processes import wait_for

pytestmark = [pytest.mark.integration]


def rows(emails) -> list[OutboundEmail]:
    with scopes_disabled():
        return list(OutboundEmail.objects.filter(pk__in=[e.pk for e in emails]))


def test_a_release_sends_each_held_email_once_through_the_worker(cast, esp_simulator, start_worker):
    start_worker()
    with scopes_disabled():
        hold = MailHoldFactory(clinic=cast.alice_clinic)
        clients = [ClientFactory(clinic=cast.alice_clinic) for _ in range(3)]
        held = [
            direct_message_send(client=c, subject="Plan", body="Rest.", sent_by=cast.alice)
            for c in clients
        ]
    assert {email.status for email in rows(held)} == {EmailStatus.HELD}

    hold_release(hold=hold, by=cast.support, reason="Reviewed with the clinic.")
    with pytest.raises(ReleaseRefused):
        hold_release(hold=hold, by=cast.support, reason="Twice.")
    with scopes_disabled():
        emails_enqueue(emails=rows(held))  # and a stray second enqueue (the sweeper's, say)

    wait_for(lambda: all(e.status != EmailStatus.SENDING for e in rows(held)), timeout=30)
    for email in held:
        assert len(esp_simulator.messages(email_id=str(email.id))) == 1
    assert {email.attempts for email in rows(held)} == {1}


def test_an_email_queued_before_a_hold_is_held_by_the_worker_not_sent(
    cast, esp_simulator, start_worker
):
    with scopes_disabled():
        newcomer = ClientFactory(clinic=cast.alice_clinic)
        email = direct_message_send(client=newcomer, subject="Plan", body="Rest.", sent_by=None)
        MailHold.objects.create(
            clinic=cast.alice_clinic,
            why="Test.",
            sends=0,
            bounces=0,
            complaints=0,
            started_at=timezone.now() - timedelta(seconds=1),
        )
    start_worker()  # the email was committed, and queued, before the hold began
    wait_for(lambda: rows([email])[0].status == EmailStatus.HELD, timeout=30)
    assert esp_simulator.messages(email_id=str(email.id)) == []
