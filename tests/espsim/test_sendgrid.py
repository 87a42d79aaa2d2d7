"""SendGrid: anymail's real SendGrid backend sends through the simulator, and its Event Webhook
batches, basic-authenticated or signed, parse in anymail's real SendGrid tracking view."""

import base64
import json
import os
import stat
import uuid

import pytest
import requests
from anymail.exceptions import AnymailAPIError, AnymailWebhookValidationFailure
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import RequestFactory

import espsim

from .anymail_io import VIEWS, anymail_parse, anymail_send, point_anymail_at
from .conftest import FAST, basic_auth

pytestmark = pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning")

API_KEY = "SG.test-key"
METADATA = {"email_id": "42", "clinic_id": 7}


@pytest.fixture
def sendgrid(receiver, settings):
    url = receiver.url(esp="sendgrid")
    with espsim.start(esp="sendgrid", api_key=API_KEY, webhook_url=url, **FAST) as sim:
        point_anymail_at(settings, sim)
        yield sim


@pytest.fixture
def signed_sendgrid(receiver, settings):
    url = f"http://127.0.0.1:{receiver.port}/anymail/sendgrid/tracking/"  # no basic auth
    with espsim.start(esp="sendgrid", api_key=API_KEY, webhook_url=url, signed=True, **FAST) as sim:
        point_anymail_at(settings, sim, WEBHOOK_SECRET=[])
        yield sim


def mail_send(sim, key=API_KEY, **body):
    payload = {
        "personalizations": [{"to": [{"email": "pat@example.com"}]}],
        "from": {"email": "noreply@clinic.example"},
        "subject": "Hello",
        "content": [{"type": "text/plain", "value": "Hi"}],
        **body,
    }
    headers = {"Authorization": f"Bearer {key}"}
    return requests.post(f"{sim.url}/v3/mail/send", json=payload, headers=headers, timeout=5)


def sent_events(receiver):
    """Every event of the posts answered 200, in order (posts are batches)."""
    return [event for post in receiver.accepted_posts() for event in post["json"]]


def test_anymail_send_is_accepted_and_recorded(sendgrid):
    message = anymail_send(["Pat <pat@example.com>"], metadata=METADATA, tags=["reminder"])

    status = message.anymail_status
    assert status.status == {"queued"}
    uuid.UUID(status.message_id)  # anymail's own id, sent as the anymail_id custom arg
    [sent] = sendgrid.messages(message_id=status.message_id)
    assert (sent["recipient"], sent["to"]) == ("pat@example.com", "Pat <pat@example.com>")
    assert sent["metadata"] == {"email_id": "42", "clinic_id": "7", "anymail_id": status.message_id}
    assert sent["tags"] == ["reminder"]
    assert sendgrid.messages(email_id="42") == [sent]


def test_answers_202_with_an_x_message_id(sendgrid):
    response = mail_send(sendgrid)
    assert response.status_code == 202
    assert response.content == b""
    assert len(response.headers["X-Message-Id"]) == 22
    assert sendgrid.messages()[0]["message_id"] == response.headers["X-Message-Id"]


def test_wrong_key_is_refused(sendgrid, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "SENDGRID_API_KEY": "SG.wrong"}
    with pytest.raises(AnymailAPIError) as raised:
        anymail_send(["pat@example.com"])
    assert raised.value.status_code == 401
    assert "authorization grant is invalid" in raised.value.response.json()["errors"][0]["message"]
    assert sendgrid.messages() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"personalizations": []}, "personalizations"),
        ({"personalizations": [{"to": [{"email": "nope"}]}]}, "personalizations.0.to.0.email"),
        ({"from": {"email": "bad"}}, "from.email"),
        ({"content": []}, "content"),
        ({"subject": ""}, "subject"),
        ({"custom_args": {"clinic_id": 7}}, None),  # SendGrid's cryptic "Bad Request"
    ],
)
def test_invalid_requests_get_sendgrids_errors(sendgrid, body, field):
    response = mail_send(sendgrid, **body)
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [field]


# recipient -> [(SendGrid event, anymail event_type)]
OUTCOMES = {
    "pat@example.com": [("processed", "queued"), ("delivered", "delivered")],
    "bounce@example.com": [("processed", "queued"), ("bounce", "bounced")],
    "defer@example.com": [
        ("processed", "queued"),
        ("deferred", "deferred"),
        ("delivered", "delivered"),
    ],
    "complaint@example.com": [
        ("processed", "queued"),
        ("delivered", "delivered"),
        ("spamreport", "complained"),
    ],
    "opener@example.com": [("processed", "queued"), ("delivered", "delivered"), ("open", "opened")],
    "clicker@example.com": [
        ("processed", "queued"),
        ("delivered", "delivered"),
        ("open", "opened"),
        ("click", "clicked"),
    ],
    "pat@nowhere.invalid": [("processed", "queued"), ("bounce", "bounced")],
}


@pytest.mark.parametrize("recipient", list(OUTCOMES))
def test_webhooks_per_outcome_parse_in_anymail(sendgrid, receiver, recipient):
    html = '<p><a href="https://clinic.example/book">Book</a></p>'
    message = anymail_send([recipient], metadata=METADATA, tags=["reminder"], html=html)
    assert sendgrid.wait_idle(10)

    posts = receiver.accepted_posts()
    raw = [event for post in posts for event in post["json"]]
    assert [e["event"] for e in raw] == [name for name, _ in OUTCOMES[recipient]]
    parsed = []
    for post in posts:
        assert post["path"] == "/anymail/sendgrid/tracking/"
        assert post["headers"]["Authorization"] == basic_auth("hook", "secret")
        assert isinstance(post["json"], list)
        parsed += anymail_parse("sendgrid", post)
    assert [e.event_type for e in parsed] == [kind for _, kind in OUTCOMES[recipient]]
    for data, event in zip(raw, parsed, strict=True):
        assert event.message_id == message.anymail_status.message_id
        assert event.event_id == data["sg_event_id"]
        assert event.recipient == recipient
        assert event.tags == ["reminder"]
        assert {"email_id": "42", "clinic_id": "7"}.items() <= event.metadata.items()
        assert isinstance(data["timestamp"], int)
        assert data["sg_message_id"].startswith(sendgrid.messages()[0]["message_id"] + ".")
        if data["event"] == "bounce":
            assert data["type"] == "bounce"
            assert event.mta_response.startswith("550 5.1.")
        if data["event"] == "deferred":
            assert (data["attempt"], event.mta_response[:3]) == ("1", "451")
        if data["event"] == "click":
            assert event.click_url == "https://clinic.example/book"


def test_suppressed_addresses_are_dropped(sendgrid, receiver):
    anymail_send(["bounce@example.com"])
    assert sendgrid.wait_idle(10)
    headers = {"Authorization": f"Bearer {API_KEY}"}
    api = f"{sendgrid.url}/v3"
    [entry] = requests.get(f"{api}/suppression/bounces", headers=headers, timeout=5).json()
    assert (entry["email"], entry["status"]) == ("bounce@example.com", "5.1.1")
    requests.post(
        f"{api}/asm/suppressions/global",
        json={"recipient_emails": ["gone@example.com"]},
        headers=headers,
        timeout=5,
    ).raise_for_status()

    receiver.posts.clear()
    anymail_send(["bounce@example.com"])
    anymail_send(["gone@example.com"])
    assert sendgrid.wait_idle(10)
    dropped = [e for e in sent_events(receiver) if e["event"] == "dropped"]
    assert sorted(e["reason"] for e in dropped) == ["Bounced Address", "Unsubscribed Address"]
    parsed = [e for p in receiver.accepted_posts() for e in anymail_parse("sendgrid", p)]
    rejected = {e.recipient: e.reject_reason for e in parsed if e.event_type == "rejected"}
    assert rejected == {"bounce@example.com": "bounced", "gone@example.com": "unsubscribed"}

    bounce = f"{api}/suppression/bounces/bounce@example.com"
    assert requests.delete(bounce, headers=headers, timeout=5).status_code == 204
    assert requests.delete(bounce, headers=headers, timeout=5).status_code == 404
    anymail_send(["bounce@example.com"])
    assert sendgrid.wait_idle(10)
    assert sendgrid.events(recipient="bounce@example.com")[-1]["event"] == "bounce"


def test_events_due_together_are_posted_in_one_batch(receiver, settings):
    url = receiver.url(esp="sendgrid")
    options = {**FAST, "batch_window": 20.0}  # 0.4 s at this delay scale
    with espsim.start(esp="sendgrid", api_key=API_KEY, webhook_url=url, **options) as sim:
        point_anymail_at(settings, sim)
        anymail_send([f"p{n}@example.com" for n in range(5)])
        assert sim.wait_idle(10)
    first = receiver.accepted_posts()[0]["json"]
    assert [e["event"] for e in first] == ["processed"] * 5
    assert len(anymail_parse("sendgrid", receiver.accepted_posts()[0])) == 5


def test_any_failure_is_retried(sendgrid, receiver):
    receiver.fail_status, receiver.fail_times = 406, 2  # SendGrid has no "stop" answer
    anymail_send(["pat@example.com"])
    assert sendgrid.wait_idle(10)
    assert [p["status"] for p in receiver.posts][:3] == [406, 406, 200]
    assert {e["state"] for e in sendgrid.events()} == {"delivered"}


def test_signed_webhooks_verify_with_the_simulators_public_key(signed_sendgrid, receiver):
    key = signed_sendgrid.config()["verification_key"]
    served = requests.get(f"{signed_sendgrid.url}/sim/sendgrid/verification-key", timeout=5)
    assert served.text == key
    anymail_send(["opener@example.com"], metadata=METADATA)
    assert signed_sendgrid.wait_idle(10)

    public = serialization.load_der_public_key(base64.b64decode(key))
    posts = receiver.accepted_posts()
    for post in posts:
        assert "Authorization" not in post["headers"]
        signature = base64.b64decode(post["headers"]["X-Twilio-Email-Event-Webhook-Signature"])
        timestamp = post["headers"]["X-Twilio-Email-Event-Webhook-Timestamp"].encode()
        public.verify(signature, timestamp + post["body"], ec.ECDSA(hashes.SHA256()))
        with pytest.raises(InvalidSignature):
            tampered = post["body"].replace(b"opener", b"0pener")
            public.verify(signature, timestamp + tampered, ec.ECDSA(hashes.SHA256()))
    kinds = [e.event_type for p in posts for e in anymail_parse("sendgrid", p)]
    assert kinds == ["queued", "delivered", "opened"]

    post = posts[-1]  # anymail's view refuses a post changed after signing
    headers = {k: v for k, v in post["headers"].items() if k.startswith("X-Twilio")}
    tampered = post["body"].replace(b"opener", b"0pener")
    request = RequestFactory().post(
        post["path"], data=tampered, content_type="application/json", headers=headers
    )
    with pytest.raises(AnymailWebhookValidationFailure):  # Django answers it with 400
        VIEWS["sendgrid"].as_view()(request)


def test_signing_key_can_be_kept_in_a_file(tmp_path):
    key_file = str(tmp_path / "sendgrid-ec.pem")
    with espsim.start(esp="sendgrid", signed=True, key_file=key_file) as first:
        key = first.config()["verification_key"]
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    with espsim.start(esp="sendgrid", signed=True, key_file=key_file) as second:
        assert second.config()["verification_key"] == key
        assert (
            json.loads(json.dumps(second.anymail_settings()))[
                "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY"
            ]
            == key
        )
