"""Postmark: anymail's real Postmark backend sends through the simulator, and the webhooks it
posts for each outcome are Postmark's and parse in anymail's real Postmark tracking view."""

import re
import time
import uuid

import pytest
import requests
from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused

import espsim

from .anymail_io import anymail_parse, anymail_send, point_anymail_at
from .conftest import FAST, basic_auth

TOKEN = "postmark-server-token"
METADATA = {"email_id": "42", "clinic_id": 7}
SUBMITTED_AT_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$")


@pytest.fixture
def postmark(receiver, settings):
    url = receiver.url(esp="postmark")
    with espsim.start(esp="postmark", api_key=TOKEN, webhook_url=url, **FAST) as sim:
        point_anymail_at(settings, sim)
        yield sim


def post_email(sim, token=TOKEN, **message):
    fields = {"From": "Clinic <noreply@clinic.example>", "TextBody": "Hi", **message}
    headers = {"X-Postmark-Server-Token": token, "Accept": "application/json"}
    return requests.post(f"{sim.url}/email", json=fields, headers=headers, timeout=5)


def test_anymail_send_is_accepted_and_recorded(postmark):
    message = anymail_send(["Pat <pat@example.com>"], metadata=METADATA, tags=["reminder"])

    status = message.anymail_status
    assert status.status == {"sent"}
    [sent] = postmark.messages()
    assert sent["message_id"] == status.message_id
    uuid.UUID(sent["message_id"])
    assert (sent["recipient"], sent["to"], sent["domain"]) == (
        "pat@example.com",
        "Pat <pat@example.com>",
        "outbound",
    )
    assert sent["metadata"] == {"email_id": "42", "clinic_id": "7"}  # Postmark keeps strings
    assert sent["tags"] == ["reminder"]
    assert sent["has_text"] and not sent["has_html"]
    assert postmark.messages(email_id="42", message_id=status.message_id) == [sent]


def test_answers_like_postmark(postmark):
    response = post_email(postmark, To="Pat <pat@example.com>")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"To", "SubmittedAt", "MessageID", "ErrorCode", "Message"}
    assert (body["To"], body["ErrorCode"], body["Message"]) == ("Pat <pat@example.com>", 0, "OK")
    assert SUBMITTED_AT_RE.match(body["SubmittedAt"])


def test_wrong_server_token_is_refused(postmark, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "POSTMARK_SERVER_TOKEN": "wrong"}
    with pytest.raises(AnymailAPIError) as raised:
        anymail_send(["pat@example.com"])
    assert raised.value.status_code == 401
    assert post_email(postmark, token="", To="pat@example.com").json()["ErrorCode"] == 10
    assert postmark.messages() == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"To": "nope"}, "Invalid 'To' address: 'nope'."),
        ({"To": "pat@example.com", "Cc": "a@b@c"}, "Invalid 'Cc' address: 'a@b@c'."),
        ({"To": "pat@example.com", "TextBody": ""}, "Provide either email TextBody or HtmlBody"),
        ({}, "Zero recipients specified"),
    ],
)
def test_invalid_requests_get_error_code_300(postmark, fields, message):
    response = post_email(postmark, **fields)
    assert response.status_code == 422
    assert response.json()["ErrorCode"] == 300
    assert response.json()["Message"].startswith(message)


# recipient -> [(RecordType, anymail event_type)] posted for it
OUTCOMES = {
    "pat@example.com": [("Delivery", "delivered")],
    "bounce@example.com": [("Bounce", "bounced")],
    "defer@example.com": [("Delivery", "delivered")],  # Postmark retries; no deferral event
    "complaint@example.com": [("Delivery", "delivered"), ("SpamComplaint", "complained")],
    "opener@example.com": [("Delivery", "delivered"), ("Open", "opened")],
    "clicker@example.com": [("Delivery", "delivered"), ("Open", "opened"), ("Click", "clicked")],
    "pat@nowhere.invalid": [("Bounce", "bounced")],
}


@pytest.mark.parametrize("recipient", list(OUTCOMES))
def test_webhooks_per_outcome_parse_in_anymail(postmark, receiver, recipient):
    html = '<p><a href="https://clinic.example/book">Book</a></p>'
    message = anymail_send([recipient], metadata=METADATA, tags=["reminder"], html=html)
    assert postmark.wait_idle(10)

    posts = receiver.accepted_posts()
    assert [p["json"]["RecordType"] for p in posts] == [kind for kind, _ in OUTCOMES[recipient]]
    for post, (record_type, event_type) in zip(posts, OUTCOMES[recipient], strict=True):
        assert post["path"] == "/anymail/postmark/tracking/"
        assert post["headers"]["Authorization"] == basic_auth("hook", "secret")
        assert post["headers"]["Content-Type"] == "application/json"
        data = post["json"]
        assert data["MessageStream"] == "outbound"
        assert data["Metadata"] == {"email_id": "42", "clinic_id": "7"}
        [event] = anymail_parse("postmark", post)
        assert event.event_type == event_type
        assert event.message_id == message.anymail_status.message_id
        assert event.recipient == recipient
        assert event.metadata == {"email_id": "42", "clinic_id": "7"}
        assert event.tags == ["reminder"]
        assert event.timestamp is not None
        if record_type == "Bounce":
            assert (data["Type"], data["TypeCode"], data["Inactive"]) == ("HardBounce", 1, True)
            assert event.reject_reason == "bounced"
            assert event.mta_response.startswith("smtp;550 5.1.")
            assert event.event_id == str(data["ID"])
        if record_type == "SpamComplaint":
            assert event.reject_reason == "spam"
        if record_type == "Click":
            assert event.click_url == "https://clinic.example/book"
            assert event.user_agent


def test_hard_bounce_and_complaint_make_addresses_inactive(postmark):
    anymail_send(["bounce@example.com"])
    anymail_send(["complaint@example.com"])
    assert postmark.wait_idle(10)

    with pytest.raises(AnymailRecipientsRefused):
        anymail_send(["bounce@example.com"])
    refused = post_email(postmark, To="Bounce@Example.com, complaint@example.com").json()
    assert refused["ErrorCode"] == 406
    assert (
        "Found inactive addresses: bounce@example.com, complaint@example.com."
        in (refused["Message"])
    )

    mixed = anymail_send(["bounce@example.com", "ann@example.com"])
    assert mixed.anymail_status.recipients["bounce@example.com"].status == "rejected"
    assert mixed.anymail_status.recipients["ann@example.com"].status == "sent"
    assert postmark.messages()[-1]["recipient"] == "ann@example.com"


def test_suppressions_api_lists_and_lifts_all_but_spam_complaints(postmark):
    anymail_send(["bounce@example.com"])
    anymail_send(["complaint@example.com"])
    assert postmark.wait_idle(10)
    headers = {"X-Postmark-Server-Token": TOKEN, "Accept": "application/json"}
    base = f"{postmark.url}/message-streams/outbound/suppressions"

    dump = requests.get(f"{base}/dump", headers=headers, timeout=5).json()["Suppressions"]
    assert sorted((s["EmailAddress"], s["SuppressionReason"], s["Origin"]) for s in dump) == [
        ("bounce@example.com", "HardBounce", "Recipient"),
        ("complaint@example.com", "SpamComplaint", "Recipient"),
    ]
    body = {
        "Suppressions": [
            {"EmailAddress": a} for a in ("bounce@example.com", "complaint@example.com")
        ]
    }
    lifted = requests.post(f"{base}/delete", json=body, headers=headers, timeout=5).json()
    assert [(s["EmailAddress"], s["Status"]) for s in lifted["Suppressions"]] == [
        ("bounce@example.com", "Deleted"),
        ("complaint@example.com", "Failed"),
    ]
    assert anymail_send(["bounce@example.com"]).anymail_status.status == {"sent"}

    added = requests.post(
        base, json={"Suppressions": [{"EmailAddress": "x@example.com"}]}, headers=headers, timeout=5
    ).json()
    assert added["Suppressions"][0]["Status"] == "Suppressed"
    with pytest.raises(AnymailRecipientsRefused):
        anymail_send(["x@example.com"])


def test_batch_send_carries_each_recipients_metadata(postmark, receiver):
    message = anymail_send(
        ["ann@example.com", "bob@example.com"],
        merge_metadata={"ann@example.com": {"email_id": "1"}, "bob@example.com": {"email_id": "2"}},
    )
    assert postmark.wait_idle(10)

    ann, bob = (
        message.anymail_status.recipients[a] for a in ("ann@example.com", "bob@example.com")
    )
    assert ann.status == bob.status == "sent"
    assert ann.message_id != bob.message_id
    by_recipient = {p["json"]["Recipient"]: p for p in receiver.accepted_posts()}
    [event] = anymail_parse("postmark", by_recipient["bob@example.com"])
    assert (event.message_id, event.metadata) == (bob.message_id, {"email_id": "2"})


def test_403_stops_retries(postmark, receiver):
    receiver.fail_status, receiver.fail_times = 403, 1
    anymail_send(["complaint@example.com"])
    assert postmark.wait_idle(10)
    assert [(e["event"], e["state"]) for e in postmark.events()] == [
        ("Delivery", "refused"),
        ("SpamComplaint", "delivered"),
    ]


def test_events_keep_their_outcome_kind(postmark):
    anymail_send(["defer@example.com"])
    assert postmark.wait_idle(10)
    [delivery] = postmark.events()
    assert (delivery["kind"], delivery["event"]) == ("delivered", "Delivery")
    assert delivery["timestamp"] <= time.time()
