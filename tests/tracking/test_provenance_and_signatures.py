"""No event is accepted that its ESP did not send: an event changes an email only when it comes
from the ESP the email went through and names its recipient; Mailgun signatures are fresh and used
once; SNS messages are signed by SNS's certificate for a topic of ours; only the ESPs the
platform uses have endpoints; and a production process will not start with webhooks open."""

import base64
import json
import logging
import os
import subprocess
import sys
import time
import types

import pytest
from django.test import override_settings
from django.urls import clear_url_caches, include, path
from django_scopes import scopes_disabled

from messaging.admin import EmailEventAdmin
from messaging.models import EmailEvent, OutboundEmail, ReceivedBatch, WebhookToken
from messaging.urls import webhook_patterns
from suppression.models import Suppression
from tests.signing import TEST_TOPIC, mailgun_signature, sns_certificates
from tests.tracking.helpers import (
    FIXTURE_EMAIL_ID,
    MAILGUN_FIXTURE_KEY,
    basic_auth,
    load,
    mailgun_event,
    post_fixture,
    post_json,
    tracked_email,
)

SES_PATH = "/anymail/amazon_ses/tracking/"


@pytest.fixture(autouse=True)
def fixture_signing_key(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_FIXTURE_KEY}


def status_of(email) -> str:
    with scopes_disabled():
        return OutboundEmail.objects.get(pk=email.pk).status


def why_unmatched(event: EmailEvent) -> str:
    with scopes_disabled():  # as in admin
        return EmailEventAdmin(EmailEvent, None).why_unmatched(event)


def test_a_post_from_another_esp_naming_the_email_changes_nothing(client, cast):
    email = tracked_email(cast.alice_clinic, cast.bob, esp="mailgun", email_id=FIXTURE_EMAIL_ID)
    response = post_fixture(client, "postmark", "spam_complaint")  # names it by email_id
    assert response.status_code == 200
    assert status_of(email) == "processed"
    assert not Suppression.objects.exists()
    with scopes_disabled():
        event = EmailEvent.objects.get()
    assert event.email_id is None
    assert why_unmatched(event) == "The email went through mailgun; this event came from postmark."


def test_an_event_naming_another_recipient_changes_nothing(client, cast):
    email = tracked_email(cast.alice_clinic, cast.dana, esp="postmark", email_id=FIXTURE_EMAIL_ID)
    post_fixture(client, "postmark", "bounce_hard")  # names bob@example.test
    assert status_of(email) == "processed"
    assert not Suppression.objects.exists()
    with scopes_disabled():
        event = EmailEvent.objects.get()
    assert why_unmatched(event) == (
        "The email went to dana@example.test; this event names bob@example.test."
    )


def test_the_same_event_from_the_right_esp_for_the_right_recipient_applies(client, cast):
    """The control for the two tests above."""
    email = tracked_email(cast.alice_clinic, cast.bob, esp="postmark", email_id=FIXTURE_EMAIL_ID)
    post_fixture(client, "postmark", "spam_complaint")
    assert status_of(email) == "spam_report"
    assert Suppression.objects.filter(address="bob@example.test").exists()


def mailgun_post(client, body: dict):
    return post_json(client, "/anymail/mailgun/tracking/", body)


def test_a_replayed_mailgun_signature_is_answered_duplicate_and_changes_nothing(client, cast):
    email = tracked_email(cast.alice_clinic, cast.bob, esp="mailgun")
    signature = mailgun_signature(MAILGUN_FIXTURE_KEY)
    delivered = mailgun_event("delivered", email_id=email.pk, recipient="bob@example.test")
    first = mailgun_post(client, {"signature": signature, "event-data": delivered})
    assert first.content == b"OK (1 received)"
    # The captured signature on another body: Mailgun signs only its timestamp and token.
    forged = mailgun_event("complained", email_id=email.pk, recipient="bob@example.test")
    replay = mailgun_post(client, {"signature": signature, "event-data": forged})

    assert replay.status_code == 200
    assert replay.content == b"OK (duplicate: this signed post was received before)"
    assert status_of(email) == "delivered"
    with scopes_disabled():
        assert EmailEvent.objects.count() == 1
    assert WebhookToken.objects.filter(esp="mailgun", token=signature["token"]).count() == 1


@pytest.mark.parametrize("offset", [-25 * 3600, 10 * 60], ids=["25 hours old", "10 minutes ahead"])
def test_a_mailgun_signature_outside_its_window_is_refused(client, cast, offset):
    email = tracked_email(cast.alice_clinic, cast.bob, esp="mailgun")
    signature = mailgun_signature(MAILGUN_FIXTURE_KEY, timestamp=time.time() + offset)
    data = mailgun_event("delivered", email_id=email.pk, recipient="bob@example.test")
    response = mailgun_post(client, {"signature": signature, "event-data": data})
    assert response.status_code == 400
    assert response.content == b"Refused Mailgun webhook: nothing stored"
    assert not ReceivedBatch.objects.exists()
    assert not WebhookToken.objects.exists()


def sns_post(client, body: dict):
    return post_json(
        client,
        SES_PATH,
        body,
        content_type="text/plain; charset=UTF-8",
        HTTP_X_AMZ_SNS_MESSAGE_TYPE=body["Type"],
        HTTP_X_AMZ_SNS_MESSAGE_ID=body["MessageId"],
    )


def flipped(signature: str) -> str:
    raw = bytearray(base64.b64decode(signature))
    raw[10] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


SES_FORGERIES = {
    "unsigned": lambda body: {k: v for k, v in body.items() if k != "Signature"},
    "one bit of the signature changed": lambda body: {
        **body,
        "Signature": flipped(body["Signature"]),
    },
    "the message changed after signing": lambda body: {
        **body,
        "Message": body["Message"].replace("Delivery", "Complaint"),
    },
    "a certificate from elsewhere": lambda body: {
        **body,
        "SigningCertURL": "https://attacker.example/cert.pem",
    },
    "an unknown signature version": lambda body: {**body, "SignatureVersion": "3"},
}


@pytest.mark.parametrize("forgery", sorted(SES_FORGERIES))
def test_an_sns_message_not_signed_by_sns_is_refused(client, cast, forgery):
    email = tracked_email(cast.alice_clinic, cast.bob, esp="amazon_ses")
    body = SES_FORGERIES[forgery](sns_certificates().sign(load("amazon_ses", "delivery")))
    response = sns_post(client, body)
    assert response.status_code == 400
    assert response.content == b"Refused Amazon SES webhook: nothing stored"
    assert status_of(email) == "processed"
    assert not ReceivedBatch.objects.exists()


def test_an_sns_message_from_another_topic_is_refused(client, cast):
    body = sns_certificates().sign(load("amazon_ses", "delivery"), topic="arn:aws:sns:x:1:theirs")
    assert sns_post(client, body).status_code == 400


def test_an_sns_message_signed_by_sns_for_our_topic_is_kept(client, cast):
    """The control: the same message, untouched, with either signature version."""
    email = tracked_email(cast.alice_clinic, cast.bob, esp="amazon_ses")
    response = sns_post(client, sns_certificates().sign(load("amazon_ses", "delivery")))
    assert response.content == b"OK (1 received)"
    assert status_of(email) == "delivered"


def confirmation(topic: str = TEST_TOPIC) -> dict:
    certificates = sns_certificates()
    message = load("amazon_ses", "subscription_confirmation")
    message["SubscribeURL"] = f"{certificates.prefix}confirm?Token={message['Token']}"
    return certificates.sign(message, topic=topic)


def test_a_subscription_to_our_topic_is_confirmed_by_fetching_its_url(client, db):
    fetched = sns_certificates().requested
    before = len(fetched)
    response = sns_post(client, confirmation())
    assert response.status_code == 200
    assert any(path.startswith("/sns/confirm?Token=") for path in fetched[before:])


def test_a_subscription_to_another_topic_is_refused_and_never_confirmed(client, db):
    fetched = sns_certificates().requested
    before = len(fetched)
    response = sns_post(client, confirmation(topic="arn:aws:sns:eu-west-1:666:theirs"))
    assert response.status_code == 400
    assert not any("confirm" in path for path in fetched[before:])


def test_deeply_nested_json_is_refused_without_an_error_before_or_after_the_secret(client, db):
    deep = "[" * 100_000 + "]" * 100_000
    headers = {"HTTP_X_AMZ_SNS_MESSAGE_TYPE": "Notification", "HTTP_X_AMZ_SNS_MESSAGE_ID": "x"}
    wrong = client.post(
        SES_PATH, deep, "text/plain", HTTP_AUTHORIZATION=basic_auth("a:b"), **headers
    )
    right = client.post(SES_PATH, deep, "text/plain", HTTP_AUTHORIZATION=basic_auth(), **headers)
    assert (wrong.status_code, wrong.content) == (
        400,
        b"Refused Amazon SES webhook: nothing stored",
    )
    assert right.status_code == 400
    assert not ReceivedBatch.objects.exists()


def test_a_line_break_in_a_post_cannot_forge_a_log_line(client, db, caplog):
    body = sns_certificates().sign(
        load("amazon_ses", "delivery"), topic="arn:x\n2026-11-30 INFO forged line"
    )
    with caplog.at_level(logging.WARNING, logger="django.security.webhooks"):
        sns_post(client, body)
    from config.logging import EscapeLineBreaks

    [record] = [r for r in caplog.records if r.name == "django.security.webhooks"]
    EscapeLineBreaks().filter(record)
    assert "\n" not in record.getMessage()
    assert "arn:x\\n2026-11-30 INFO forged line" in record.getMessage()


def served(esps: list[str]):
    """A URLconf serving these ESPs' webhooks only, as `WEBHOOK_ESPS` decides at start."""
    clear_url_caches()
    from config import urls

    urlconf = types.ModuleType("served_webhooks")
    urlconf.urlpatterns = [
        path("anymail/", include(webhook_patterns(esps))),
        *(pattern for pattern in urls.urlpatterns if str(pattern.pattern) != "anymail/"),
    ]
    return override_settings(ROOT_URLCONF=urlconf)


@pytest.mark.parametrize(
    "path",
    [
        "/anymail/postmark/tracking/",
        "/anymail/amazon_ses/tracking/",
        "/anymail/sendgrid/tracking/",
        "/anymail/postmark/inbound/",
        "/anymail/sendgrid/inbound/",
    ],
)
def test_an_esp_the_platform_does_not_use_has_no_endpoint(client, db, path):
    with served(["mailgun"]):
        assert client.post(path, "{}", "application/json").status_code == 404
        assert (
            client.post("/anymail/mailgun/tracking/", "{}", "application/json").status_code == 400
        )
    clear_url_caches()


def start(**environment: str) -> subprocess.CompletedProcess:
    code = "from django.conf import settings; settings.DEBUG"
    base = {k: v for k, v in os.environ.items() if k not in environment}
    env = {**base, "DEBUG": "false", **{k: v for k, v in environment.items() if v is not None}}
    for name, value in environment.items():
        if value is None:
            env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("missing", "extra", "words"),
    [
        ("ANYMAIL_WEBHOOK_SECRET", {}, "ANYMAIL_WEBHOOK_SECRET must be set"),
        ("MAILGUN_WEBHOOK_SIGNING_KEY", {}, "MAILGUN_WEBHOOK_SIGNING_KEY must be set"),
        ("AMAZON_SNS_TOPICS", {"EMAIL_ESP": "amazon_ses"}, "AMAZON_SNS_TOPICS must be set"),
    ],
)
def test_a_production_process_will_not_start_with_webhooks_open(missing, extra, words):
    result = start(**{missing: None}, **extra)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert words in result.stderr


def test_a_production_process_starts_when_the_webhooks_are_closed():
    """The control for the test above: everything set, it starts."""
    assert start().returncode == 0, json.dumps(start().stderr[-500:])


def test_tokens_are_forgotten_once_their_signatures_would_be_refused_as_stale(db):
    from datetime import timedelta

    from django.utils import timezone

    from messaging.tracking.tokens import webhook_tokens_forget

    now = timezone.now()
    WebhookToken.objects.create(esp="mailgun", token="old", received_at=now - timedelta(hours=25))
    WebhookToken.objects.create(esp="mailgun", token="new", received_at=now - timedelta(hours=23))
    assert webhook_tokens_forget(now=now) == 1
    assert list(WebhookToken.objects.values_list("token", flat=True)) == ["new"]
