"""Mailgun, the same way as the other ESPs: anymail's real Mailgun backend sends through the
simulator, and its signed webhooks parse in anymail's real Mailgun tracking view."""

import pytest

import espsim

from .anymail_io import anymail_parse, anymail_send, point_anymail_at
from .conftest import API_KEY, FAST, SIGNING_KEY

DOMAIN = "mail.clinic.example"
METADATA = {"email_id": "42", "clinic_id": 7}
OUTCOMES = {
    "pat@example.com": ["queued", "delivered"],
    "bounce@example.com": ["queued", "bounced"],
    "defer@example.com": ["queued", "deferred", "delivered"],
    "complaint@example.com": ["queued", "delivered", "complained"],
    "clicker@example.com": ["queued", "delivered", "opened", "clicked"],
    "pat@nowhere.invalid": ["queued", "bounced"],
}


@pytest.fixture
def mailgun(receiver, settings):
    with espsim.start(
        api_key=API_KEY, signing_key=SIGNING_KEY, webhook_url=receiver.url(), **FAST
    ) as sim:
        point_anymail_at(settings, sim, MAILGUN_SENDER_DOMAIN=DOMAIN)
        yield sim


@pytest.mark.parametrize("recipient", list(OUTCOMES))
def test_webhooks_per_outcome_parse_in_anymail(mailgun, receiver, recipient):
    message = anymail_send([recipient], metadata=METADATA, tags=["reminder"])
    assert message.anymail_status.status == {"queued"}
    assert mailgun.wait_idle(10)

    events = [e for post in receiver.accepted_posts() for e in anymail_parse("mailgun", post)]
    assert [e.event_type for e in events] == OUTCOMES[recipient]
    for event in events:
        assert event.message_id == message.anymail_status.message_id
        assert event.recipient == recipient
        assert event.metadata == {"email_id": "42", "clinic_id": "7"}  # Mailgun keeps strings
        assert event.tags == ["reminder"]
