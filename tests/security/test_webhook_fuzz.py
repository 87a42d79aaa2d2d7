"""Malformed, truncated, oversized and wrongly-signed bodies on every webhook URL: each is
answered 4xx, nothing is stored, nothing crashes."""

import hashlib
import hmac
import json
import time
import uuid

import hypothesis
import pytest
from django.test import Client as HttpClient
from django_scopes import scopes_disabled
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messaging.models import EmailEvent, ReceivedBatch
from messaging.tracking.drain import inbox_drain
from suppression.models import RemovalRequest
from tests.signing import sns_certificates
from tests.tracking.helpers import basic_auth, load

WEBHOOKS = {
    "mailgun": ("delivered", "application/json"),
    "postmark": ("delivery", "application/json"),
    "sendgrid": ("delivered", "application/json"),
    "amazon_ses": ("delivery", "text/plain; charset=UTF-8"),
}
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def post(esp: str, body: bytes, *, auth: str | None = None):
    content_type = WEBHOOKS[esp][1]
    headers = {"HTTP_AUTHORIZATION": auth or basic_auth()}
    if esp == "amazon_ses":
        headers |= {
            "HTTP_X_AMZ_SNS_MESSAGE_TYPE": "Notification",
            "HTTP_X_AMZ_SNS_MESSAGE_ID": "fuzz",
        }
    # generic() sends the bytes as they are, undecoded, as an ESP would.
    return HttpClient().generic("POST", f"/anymail/{esp}/tracking/", body, content_type, **headers)


def nothing_stored() -> bool:
    with scopes_disabled():
        return not (
            EmailEvent.objects.exists()
            or ReceivedBatch.objects.exists()
            or RemovalRequest.objects.exists()
        )


def valid_body(esp: str) -> bytes:
    return json.dumps(load(esp, WEBHOOKS[esp][0])).encode()


@FUZZ
@given(esp=st.sampled_from(sorted(WEBHOOKS)), body=st.binary(max_size=400))
def test_random_bytes(db, esp, body):
    response = post(esp, body)
    assert 400 <= response.status_code < 500 or response.content.startswith(b"OK (ignored")
    assert nothing_stored()


@FUZZ
@given(esp=st.sampled_from(sorted(WEBHOOKS)), value=json_values)
def test_json_of_any_other_shape(db, esp, value):
    response = post(esp, json.dumps(value).encode())
    assert 400 <= response.status_code < 500 or response.content.startswith(b"OK (ignored")
    assert nothing_stored()


@FUZZ
@given(esp=st.sampled_from(sorted(WEBHOOKS)), data=st.data())
def test_truncated_documented_payloads(db, esp, data):
    body = valid_body(esp)
    cut = data.draw(st.integers(min_value=0, max_value=len(body) - 1))
    response = post(esp, body[:cut])
    assert 400 <= response.status_code < 500
    assert nothing_stored()


@FUZZ
@given(
    esp=st.sampled_from(sorted(WEBHOOKS)),
    secret=st.text(min_size=1, max_size=30).filter(lambda s: s != "webhook:test-webhook-secret"),
)
def test_wrong_credentials(db, esp, secret):
    import base64

    auth = "Basic " + base64.b64encode(secret.encode()).decode()
    response = post(esp, valid_body(esp), auth=auth)
    assert 400 <= response.status_code < 500
    assert nothing_stored()


@FUZZ
@given(data=st.data())
def test_wrong_mailgun_signatures(db, data):
    body = load("mailgun", "delivered")
    field = data.draw(st.sampled_from(["signature", "token", "timestamp"]))
    body["signature"][field] = data.draw(st.text(min_size=1, max_size=64))
    response = post("mailgun", json.dumps(body).encode())
    assert response.status_code == 400
    assert nothing_stored()


def test_oversized_bodies_are_refused(db):
    for esp in WEBHOOKS:
        body = b'{"pad": "' + b"x" * (3 * 1024 * 1024) + b'"}'
        response = post(esp, body)
        assert 400 <= response.status_code < 500, esp
    assert nothing_stored()


# Past the ESP's checks: Mailgun's body signed with the signing key, SES's SNS headers matching
# its body, so that every example reaches anymail's parser and ours.
SIGNING_KEY = "test-signing-key"


def mailgun_envelope(event_data) -> dict:
    timestamp, token = str(int(time.time())), uuid.uuid4().hex * 2
    signature = hmac.new(
        SIGNING_KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256
    ).hexdigest()
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": event_data,
    }


def sns_envelope(message) -> dict:
    envelope = load("amazon_ses", "delivery")
    envelope["MessageId"] = str(uuid.uuid4())
    envelope["Message"] = message if isinstance(message, str) else json.dumps(message)
    return sns_certificates().sign(envelope)  # as SNS signs it, so the parser is reached


def post_past_the_checks(esp: str, events):
    """Posts `events` as the ESP's body, wrapped so that the ESP's checks pass."""
    headers = {"HTTP_AUTHORIZATION": basic_auth()}
    if esp == "mailgun":
        body = mailgun_envelope(events)
    elif esp == "amazon_ses":
        body = sns_envelope(events)
        headers |= {
            "HTTP_X_AMZ_SNS_MESSAGE_TYPE": "Notification",
            "HTTP_X_AMZ_SNS_MESSAGE_ID": body["MessageId"],
        }
    else:
        body = events
    return HttpClient().generic(
        "POST", f"/anymail/{esp}/tracking/", json.dumps(body), WEBHOOKS[esp][1], **headers
    )


def documented_events(esp: str):
    """The documented delivery event, as the part of the body the parser reads."""
    body = load(esp, WEBHOOKS[esp][0])
    if esp == "mailgun":
        return body["event-data"]
    if esp == "amazon_ses":
        return json.loads(body["Message"])
    return body


def paths(value, prefix=()) -> list[tuple]:
    """Every key or index path inside a JSON value."""
    if not isinstance(value, dict | list):
        return []
    found = []
    for key, item in value.items() if isinstance(value, dict) else enumerate(value):
        found += [(*prefix, key), *paths(item, (*prefix, key))]
    return found


def altered(value, path: tuple, replacement, delete: bool):
    *parents, last = path
    target = value
    for key in parents:
        target = target[key]
    if delete:
        del target[last]
    else:
        target[last] = replacement


@st.composite
def damaged_documented_events(draw, esp: str):
    events = documented_events(esp)
    for path in draw(st.lists(st.sampled_from(paths(events)), min_size=1, max_size=4)):
        try:
            altered(events, path, draw(json_values), delete=draw(st.booleans()))
        except (KeyError, IndexError, TypeError):  # an earlier change removed its parent
            continue
    return events


def answered_without_harm(response) -> None:
    """Refused as malformed with nothing kept, or kept whole: what it said it received."""
    assert not response.content.startswith(b"Refused"), "the ESP's checks stopped it"
    with scopes_disabled():
        kept = sum(ReceivedBatch.objects.values_list("event_count", flat=True))
    hypothesis.event(response.content.split(b"(")[0].decode())
    if response.status_code == 200 and response.content.startswith(b"OK ("):
        said = response.content.removeprefix(b"OK (").split(b" ")[0]
        assert kept == (0 if said == b"ignored:" else int(said)), response.content
    else:
        assert response.status_code == 400, response.content
        assert response.content.startswith(b"Malformed")
        assert nothing_stored()


def start_clean() -> None:
    with scopes_disabled():
        ReceivedBatch.objects.all().delete()
        EmailEvent.objects.all().delete()


@FUZZ
@given(esp=st.sampled_from(sorted(WEBHOOKS)), value=json_values)
def test_any_json_past_the_esps_checks_is_refused_or_kept_whole(db, esp, value):
    start_clean()
    answered_without_harm(post_past_the_checks(esp, value))


@FUZZ
@given(esp=st.sampled_from(sorted(WEBHOOKS)), data=st.data())
def test_damaged_documented_events_are_refused_or_kept_and_applied(db, esp, data):
    start_clean()
    events = data.draw(damaged_documented_events(esp))
    response = post_past_the_checks(esp, events)
    answered_without_harm(response)
    inbox_drain()  # whatever was kept is applied, or set aside for support with why
    with scopes_disabled():
        assert not ReceivedBatch.objects.filter(failed_at__isnull=True).exists()
        assert all(ReceivedBatch.objects.values_list("error", flat=True))


@pytest.mark.parametrize("esp", sorted(WEBHOOKS))
def test_the_documented_event_past_the_checks_is_kept(db, esp):
    """The control for the two tests above: undamaged, the same post is received."""
    response = post_past_the_checks(esp, documented_events(esp))
    assert response.content == b"OK (1 received)"
    assert ReceivedBatch.objects.count() == 1


@pytest.mark.parametrize("timestamp", [10**20, -(10**20)])
def test_a_sendgrid_timestamp_out_of_any_clocks_range_is_malformed(db, timestamp):
    """Found by the fuzzing above: anymail reads SendGrid's timestamp with fromtimestamp, which
    raises OverflowError or OSError past the platform's range; the post is refused as malformed,
    nothing kept, instead of a 500 (which SendGrid would retry for a day)."""
    events = documented_events("sendgrid")
    events[0]["timestamp"] = timestamp
    response = post_past_the_checks("sendgrid", events)
    assert response.status_code == 400, response.content
    assert response.content.startswith(b"Malformed")
    assert nothing_stored()
