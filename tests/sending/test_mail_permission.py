""" "May this address be mailed?" is asked once per send and answered with a code and words; the
refused email keeps the code, which the API, the send forms and the smart form use as it is."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from knox.models import AuthToken
from rest_framework.test import APIClient

from clinic.models import SmartFormRequest
from messaging.models import OutboundEmail
from messaging.sending import outbox
from messaging.sending.triggers import appointment_book, direct_message_send, smart_form_send
from suppression.models import Refusal, SuppressionReason
from suppression.selectors import mail_permission
from suppression.services import client_opt_out, suppression_record
from tests.factories import ClientFactory, SmartFormFactory


def suppress_bob(cast) -> None:
    suppression_record(
        address="bob@example.test",
        stream="mailgun",
        clinic=cast.alice_clinic,
        reason=SuppressionReason.HARD_BOUNCE,
        diagnostic="550 5.1.1 no such user",
    )


@pytest.fixture
def asked(monkeypatch) -> list:
    """Every time the outbox asks whether a client may be mailed."""
    calls = []

    def counted(**kwargs):
        calls.append(kwargs)
        return mail_permission(**kwargs)

    monkeypatch.setattr(outbox, "mail_permission", counted)
    return calls


def test_a_client_who_may_be_mailed_has_no_refusal(cast):
    permission = mail_permission(client=cast.bob, appointment_mail=True)
    assert (permission.allowed, permission.refusal, permission.reason) == (True, "", "")


def test_no_address_is_its_own_code(cast):
    with scopes_disabled():
        client = ClientFactory(clinic=cast.alice_clinic, email="")
    permission = mail_permission(client=client)
    assert not permission.allowed
    assert permission.refusal == Refusal.NO_ADDRESS == "no_address"
    assert permission.reason == "This client has no email address on file."


def test_a_suppressed_address_has_the_code_the_reasons_words_and_the_providers(cast):
    suppress_bob(cast)
    permission = mail_permission(client=cast.bob)
    assert permission.refusal == Refusal.SUPPRESSED == "suppressed"
    assert permission.words.startswith("Emails to this address bounce")
    assert permission.reason.endswith("(Provider said: 550 5.1.1 no such user)")


def test_an_opt_out_refuses_appointment_mail_only(cast):
    with scope(clinic=cast.alice_clinic):
        client_opt_out(client=cast.bob, reason="Asked by phone")
    appointment = mail_permission(client=cast.bob, appointment_mail=True)
    assert appointment.refusal == Refusal.OPTED_OUT == "opted_out"
    assert "opted out of appointment communications since" in appointment.words
    assert appointment.words.endswith("Reason: Asked by phone")
    assert mail_permission(client=cast.bob).allowed


def test_the_refused_email_keeps_the_code_and_is_asked_about_once(cast, asked):
    suppress_bob(cast)
    with scope(clinic=cast.alice_clinic):
        email = direct_message_send(client=cast.bob, subject="Hi", body="x", sent_by=cast.alice)
    assert len(asked) == 1
    assert (email.status, email.refusal) == ("failed", "suppressed")
    assert email.reason.startswith("Emails to this address bounce")
    with scopes_disabled():
        assert OutboundEmail.objects.get(pk=email.pk).refusal == "suppressed"


def test_a_sent_email_has_no_refusal(cast, asked):
    with scope(clinic=cast.alice_clinic):
        email = direct_message_send(client=cast.bob, subject="Hi", body="x", sent_by=cast.alice)
    assert (email.status, email.refusal, len(asked)) == ("sending", "", 1)


def test_a_triggered_email_to_an_opted_out_client_keeps_the_code(cast):
    start = timezone.now() + timedelta(days=2)
    with scope(clinic=cast.alice_clinic):
        client_opt_out(client=cast.bob, reason="Asked by phone")
        appointment_book(
            client=cast.bob, practitioner=cast.alice, start=start, end=start + timedelta(hours=1)
        )
    with scopes_disabled():
        [email] = OutboundEmail.objects.filter(client=cast.bob)
    assert email.refusal == "opted_out"


@pytest.mark.parametrize("suppressed", [False, True])
def test_a_smart_form_send_asks_once(cast, asked, suppressed):
    if suppressed:
        suppress_bob(cast)
    with scope(clinic=cast.alice_clinic):
        form = SmartFormFactory(clinic=cast.alice_clinic)
        email = smart_form_send(form=form, client=cast.bob, sent_by=cast.alice)
        requests = SmartFormRequest.objects.count()
    assert len(asked) == 1
    assert email.refusal == ("suppressed" if suppressed else "")
    assert requests == (0 if suppressed else 1)  # a refused send creates no form request


@pytest.fixture
def api(cast):
    client = APIClient()
    _, token = AuthToken.objects.create(user=cast.alice)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def post_message(api, client):
    return api.post(
        f"/api/clients/{client.pk}/emails",
        {"kind": "direct_message", "subject": "Hi", "body": "x"},
        format="json",
    )


def test_the_api_answers_a_client_without_an_address_with_no_address(api, cast, asked):
    with scopes_disabled():
        client = ClientFactory(clinic=cast.alice_clinic, email="")
    response = post_message(api, client)
    assert response.status_code == 409
    assert response.json() == {
        "error": "no_address",
        "reason": "Not sent. This client has no email address on file.",
    }
    assert len(asked) == 1


def test_the_api_answers_a_suppressed_address_with_suppressed_asking_once(api, cast, asked):
    suppress_bob(cast)
    response = post_message(api, cast.bob)
    assert response.status_code == 409
    assert response.json()["error"] == "suppressed"
    assert "(Provider said: 550 5.1.1 no such user)" in response.json()["reason"]
    assert len(asked) == 1
