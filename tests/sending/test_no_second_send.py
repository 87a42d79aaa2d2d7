"""After a worker died with an email in flight, or the ESP did not answer in time, the next
attempt first asks the ESP's own log whether an earlier attempt was taken: Postmark's outbound
message search and SendGrid's Email Activity API, answered by a local server with their
documented JSON (Mailgun's, through the simulator, is in test_claim_and_poison.py)."""

import uuid

import pytest
from django_scopes import scopes_disabled

from messaging.models import EmailKind, OutboundEmail
from messaging.sending.delivery import _accepted_earlier
from tests.factories import ClientFactory
from tests.tracking.api_server import ApiServer, documented

EMAIL_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")  # in the documented answers
PATIENT = "patient@example.test"


@pytest.fixture
def api():
    server = ApiServer()
    yield server
    server.stop()


def retried_email(cast, esp: str, email_id=EMAIL_ID, attempts: int = 2) -> OutboundEmail:
    with scopes_disabled():
        patient = ClientFactory(clinic=cast.alice_clinic, email=PATIENT)
        return OutboundEmail.objects.create(
            id=email_id,
            clinic=cast.alice_clinic,
            client=patient,
            kind=EmailKind.DIRECT_MESSAGE,
            to_email=PATIENT,
            subject="Your plan",
            body_text="x",
            esp=esp,
            attempts=attempts,
        )


@pytest.fixture
def postmark(api, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "POSTMARK_API_URL": api.url + "/"}
    api.on("/messages/outbound", documented("postmark_outbound_search"))
    return api


@pytest.fixture
def sendgrid(api, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "SENDGRID_API_URL": api.url + "/v3/"}
    api.on("/v3/messages", documented("sendgrid_messages"))
    msg_id = documented("sendgrid_messages")["messages"][0]["msg_id"]
    api.on(f"/v3/messages/{msg_id}", documented("sendgrid_message"))
    return api


def test_postmark_names_the_message_an_earlier_attempt_sent(cast, postmark):
    email = retried_email(cast, "postmark")
    assert _accepted_earlier(email) == "883953f4-6105-42a2-a16a-77a8eac79483"
    [(path, query, _)] = postmark.requests
    assert (path, query["recipient"]) == ("/messages/outbound", PATIENT)


def test_sendgrid_names_the_message_an_earlier_attempt_sent(cast, sendgrid):
    email = retried_email(cast, "sendgrid")
    assert _accepted_earlier(email) is not None
    assert "email_id" in sendgrid.requests[0][1]["query"]


@pytest.mark.parametrize("esp", ["postmark", "sendgrid"])
def test_another_emails_message_to_the_same_address_does_not_count(cast, esp, request):
    request.getfixturevalue(esp)
    email = retried_email(cast, esp, email_id=uuid.uuid4())
    assert _accepted_earlier(email) is None


def test_a_first_attempt_asks_nothing(cast, postmark):
    assert _accepted_earlier(retried_email(cast, "postmark", attempts=1)) is None
    assert postmark.requests == []
