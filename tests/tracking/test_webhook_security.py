"""Bad auth, bad signatures and malformed bodies: 4xx, and nothing stored."""

import base64
import json
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django_scopes import scopes_disabled

from messaging.models import EmailEvent, ReceivedBatch
from tests.tracking.helpers import (
    basic_auth,
    load,
    mailgun_event,
    mailgun_signed,
    post_fixture,
    post_json,
    tracked_email,
)

ESPS = ["mailgun", "postmark", "amazon_ses", "sendgrid"]
FIRST = {
    "mailgun": "delivered",
    "postmark": "delivery",
    "amazon_ses": "delivery",
    "sendgrid": "delivered",
}


def nothing_stored() -> bool:
    with scopes_disabled():
        return not EmailEvent.objects.exists() and not ReceivedBatch.objects.exists()


@pytest.fixture(autouse=True)
def fixture_signing_key(settings):
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "MAILGUN_WEBHOOK_SIGNING_KEY": "key-fixture-mailgun-signing",
        "WEBHOOK_SECRET": ["old:retiring-secret", "webhook:test-webhook-secret"],
    }


@pytest.mark.parametrize("esp", ESPS)
def test_wrong_basic_auth_is_refused(client, cast, esp):
    response = post_fixture(client, esp, FIRST[esp], auth=basic_auth("webhook:wrong"))
    assert 400 <= response.status_code < 500
    assert nothing_stored()


@pytest.mark.parametrize("esp", ESPS)
def test_every_secret_of_a_rotation_is_accepted(client, cast, esp):
    tracked_email(cast.alice_clinic, cast.bob, esp=esp)
    response = post_fixture(client, esp, FIRST[esp], auth=basic_auth("old:retiring-secret"))
    assert response.status_code == 200


def test_missing_basic_auth_is_refused(client, cast):
    response = client.post(
        "/anymail/postmark/tracking/",
        data=json.dumps(load("postmark", "delivery")),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert nothing_stored()


def test_a_wrong_mailgun_signature_is_refused(client, cast):
    body = mailgun_signed(
        mailgun_event(
            "delivered",
            email_id="5b0d4c1e-6f0a-4f7e-9a51-2f1f0a7c9d11",
            recipient="bob@example.test",
        ),
        key="not-the-key",
    )
    response = post_json(client, "/anymail/mailgun/tracking/", body)
    assert response.status_code == 400
    assert nothing_stored()


MALFORMED_BODIES = ["", "{", "[1, 2", "null", "42", '"text"', "[]", "{}", '{"event-data": 5}']
MALFORMED_BODIES += ["\x00\xff"]
# SendGrid posts a JSON array of events: an empty one is its documented shape, with no event.
EMPTY_BATCHES = {("sendgrid", "[]")}


def post_body(client, esp: str, body: str):
    headers = {}
    if esp == "amazon_ses":
        headers = {"HTTP_X_AMZ_SNS_MESSAGE_TYPE": "Notification", "HTTP_X_AMZ_SNS_MESSAGE_ID": "x"}
    return post_json(client, f"/anymail/{esp}/tracking/", body, **headers)


@pytest.mark.parametrize(
    ("esp", "body"),
    [(esp, body) for esp in ESPS for body in MALFORMED_BODIES if (esp, body) not in EMPTY_BATCHES],
)
def test_malformed_bodies_are_400_and_store_nothing(client, cast, esp, body):
    response = post_body(client, esp, body)
    assert response.status_code == 400, response.content
    assert response.content.endswith(b"nothing stored")
    assert nothing_stored()


@pytest.mark.parametrize(("esp", "body"), sorted(EMPTY_BATCHES))
def test_an_empty_batch_is_200_and_stores_nothing(client, cast, esp, body):
    response = post_body(client, esp, body)
    assert response.status_code == 200
    assert response.content == b"OK (ignored: no tracking events)"
    assert nothing_stored()


def sendgrid_keys():
    private = ec.generate_private_key(ec.SECP256R1())
    public = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, base64.b64encode(public).decode()


def sendgrid_signed(private, payload: bytes, timestamp: str) -> str:
    signature = private.sign(timestamp.encode() + payload, ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(signature).decode()


@pytest.fixture
def sendgrid_key(settings):
    private, public = sendgrid_keys()
    settings.ANYMAIL = {**settings.ANYMAIL, "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": public}
    return private


def test_a_signed_sendgrid_post_is_accepted(client, cast, sendgrid_key):
    tracked_email(cast.alice_clinic, cast.bob, esp="sendgrid")
    payload = json.dumps(load("sendgrid", "delivered")).encode()
    timestamp = str(int(time.time()))
    response = client.post(
        "/anymail/sendgrid/tracking/",
        data=payload,
        content_type="application/json",
        HTTP_AUTHORIZATION=basic_auth(),
        HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE=sendgrid_signed(
            sendgrid_key, payload, timestamp
        ),
        HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP=timestamp,
    )
    assert response.status_code == 200, response.content


def test_a_wrongly_signed_sendgrid_post_is_refused(client, cast, sendgrid_key):
    payload = json.dumps(load("sendgrid", "delivered")).encode()
    other, _ = sendgrid_keys()
    timestamp = str(int(time.time()))
    response = client.post(
        "/anymail/sendgrid/tracking/",
        data=payload,
        content_type="application/json",
        HTTP_AUTHORIZATION=basic_auth(),
        HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE=sendgrid_signed(other, payload, timestamp),
        HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP=timestamp,
    )
    assert response.status_code == 400
    assert nothing_stored()
