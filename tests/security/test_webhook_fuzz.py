"""Malformed, truncated, oversized and wrongly-signed bodies on every webhook URL: each is
answered 4xx, nothing is stored, nothing crashes."""

import json

from django.test import Client as HttpClient
from django_scopes import scopes_disabled
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messaging.models import EmailEvent, ReceivedBatch
from suppression.models import RemovalRequest
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
