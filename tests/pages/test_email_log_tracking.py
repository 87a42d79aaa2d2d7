"""The email log of an email whose opens and clicks were not tracked says so in words, on the
client summary and in the API; an open or click an ESP reports for it all the same is not shown
as one."""

import pytest
from rest_framework.test import APIClient

from messaging.log.presentation import NOT_TRACKED_OWN_SERVER, NOT_TRACKED_SWITCHED_OFF
from tests.factories import EmailEventFactory, OutboundEmailFactory

pytestmark = pytest.mark.usefixtures("unscoped")

SWITCHED_OFF = "Opens and clicks are not tracked for this email (the clinic switched tracking off)."


def opened_email(cast, *, tracked: bool):
    """An email delivered, then opened as its ESP reported."""
    email = OutboundEmailFactory(
        client=cast.bob, engagement_tracked=tracked, status="opened", subject="Your exercises"
    )
    EmailEventFactory(email=email, event_type="delivered", status="delivered")
    EmailEventFactory(email=email, event_type="opened", status="opened")
    return email


def summary(client, cast) -> str:
    client.force_login(cast.alice)
    return client.get(f"/clients/{cast.bob.pk}/").content.decode()


def api_emails(cast) -> list[dict]:
    api = APIClient()
    api.force_login(cast.alice)
    return api.get(f"/api/clients/{cast.bob.pk}/emails").json()["emails"]


def test_the_words_the_log_uses():
    assert NOT_TRACKED_SWITCHED_OFF == SWITCHED_OFF


def test_an_untracked_email_says_so_and_an_open_reported_anyway_is_not_shown_as_one(client, cast):
    opened_email(cast, tracked=False)

    body = summary(client, cast)
    assert SWITCHED_OFF in body
    assert 'data-status="delivered">Delivered</span>' in body
    assert 'data-status="opened"' not in body
    assert "<strong>Open</strong>" not in body and ">Open</span>" not in body
    assert "<strong>Not counted</strong>: The email service reported an open although" in body
    assert "A very good sign it was seen" not in body


def test_a_tracked_email_shows_its_open_and_no_such_words(client, cast):
    opened_email(cast, tracked=True)

    body = summary(client, cast)
    assert 'data-status="opened">Open</span>' in body
    assert "<strong>Open</strong>" in body
    assert "not tracked for this email" not in body
    assert "Not counted" not in body


def test_the_api_says_so_too(cast):
    untracked = opened_email(cast, tracked=False)
    tracked = opened_email(cast, tracked=True)

    by_id = {item["id"]: item for item in api_emails(cast)}
    off, on = by_id[str(untracked.id)], by_id[str(tracked.id)]
    assert (off["status"], off["status_label"]) == ("delivered", "Delivered")
    assert (off["engagement_tracked"], off["engagement_note"]) == (False, SWITCHED_OFF)
    assert "not counted" in off["events"][-1]["detail"]
    assert (on["status"], on["engagement_tracked"], on["engagement_note"]) == (
        "opened",
        True,
        None,
    )


def test_an_email_through_the_clinics_own_server_says_why_it_is_not_tracked(client, cast):
    OutboundEmailFactory(client=cast.bob, esp="smtp", engagement_tracked=False, status="sent")

    body = summary(client, cast)
    assert NOT_TRACKED_OWN_SERVER.replace("'", "&#x27;") in body
    assert "the clinic switched tracking off" not in body
