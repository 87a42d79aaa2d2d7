"""Webhook posts of every ESP for any email: the documented fixtures (tests/fixtures/esp) with the
fixture email's ids and address replaced by another email's, posted as each ESP posts them."""

import hashlib
import hmac
import json
import time
import uuid

from tests.signing import sns_certificates
from tests.tracking.helpers import FIXTURE_EMAIL_ID, MESSAGE_IDS, basic_auth, load

ESPS = ("mailgun", "postmark", "amazon_ses", "sendgrid")
FIXTURE_RECIPIENT = "bob@example.test"
# Mailgun's fixtures are signed with this key (tests/fixtures/esp/README.md).
MAILGUN_FIXTURE_KEY = "key-fixture-mailgun-signing"


def new_message_id(esp: str, email_id: uuid.UUID) -> str:
    """A message id in the shape the ESP gives, unique to the email."""
    if esp == "mailgun":
        return f"<20260611143012.1.{email_id.hex[:16].upper()}@mg.example.test>"
    if esp == "amazon_ses":
        return f"0100018fffa1b2c3-{email_id}-000000"
    return str(email_id)


def _replaced(value, replacements: dict[str, str]):
    if isinstance(value, str):
        for old, new in replacements.items():
            value = value.replace(old, new)
        return value
    if isinstance(value, dict):
        return {key: _replaced(item, replacements) for key, item in value.items()}
    if isinstance(value, list):
        return [_replaced(item, replacements) for item in value]
    return value


def esp_body(esp: str, name: str, *, email_id, message_id: str, recipient: str):
    """The fixture `name` of `esp` as the ESP would post it about this email."""
    replacements = {
        str(FIXTURE_EMAIL_ID): str(email_id),
        MESSAGE_IDS[esp].strip("<>"): message_id.strip("<>"),
        FIXTURE_RECIPIENT: recipient,
    }
    body = _replaced(load(esp, name), replacements)
    if esp == "amazon_ses":
        body["Message"] = json.dumps(_replaced(json.loads(body["Message"]), replacements))
        # One SNS notification per event: its id is the event's id.
        body["MessageId"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{email_id}/{name}"))
        body = sns_certificates().sign(body)  # as SNS signs it, from the tests' topic
    if esp == "sendgrid":
        for event in body:
            event["sg_event_id"] = f"{event['sg_event_id']}-{uuid.UUID(str(email_id)).hex[:8]}"
    if esp == "mailgun":  # signed now, with a token of its own, as Mailgun signs each post
        body["signature"] = mailgun_signature(f"{email_id}/{name}")
    return body


def mailgun_signature(seed: str, key: str = MAILGUN_FIXTURE_KEY) -> dict:
    timestamp = str(int(time.time()))
    token = hashlib.sha256(f"{seed}/{time.time_ns()}".encode()).hexdigest()[:50]
    signed = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256)
    return {"timestamp": timestamp, "token": token, "signature": signed.hexdigest()}


def post_body(http, esp: str, body):
    """Posts as the ESP does, and nothing more: no worker's share is done here."""
    headers = {"HTTP_AUTHORIZATION": basic_auth()}
    content_type = "application/json"
    if esp == "amazon_ses":
        content_type = "text/plain; charset=UTF-8"
        headers |= {
            "HTTP_X_AMZ_SNS_MESSAGE_TYPE": body["Type"],
            "HTTP_X_AMZ_SNS_MESSAGE_ID": body["MessageId"],
        }
    return http.post(
        f"/anymail/{esp}/tracking/", data=json.dumps(body), content_type=content_type, **headers
    )
