import io
import logging
import re

import pytest
from anymail.webhooks import base as anymail_webhooks
from django.test import Client as HttpClient
from django_scopes import scope, scopes_disabled

from clinic.models import SmartFormRequest
from config.logging import RedactPersonalData
from messaging.sending.triggers import direct_message_send, smart_form_send
from tests.factories import PASSWORD, SmartFormFactory
from tests.tracking.helpers import post_fixture, tracked_email

FORMS = [
    "/clients/{bob}/edit/",
    "/clients/{bob}/emails/send/",
    "/clients/{bob}/opt-in/",
    "/settings/",
    "/settings/smtp-test/",
    "/notifications/read-all/",
    "/accounts/logout/",
]


@pytest.mark.parametrize("path", FORMS)
def test_every_form_needs_its_csrf_token(cast, path):
    client = HttpClient(enforce_csrf_checks=True)
    client.force_login(cast.alice_admin)
    response = client.post(path.format(bob=cast.bob.pk), {"kind": "direct_message"})
    assert response.status_code == 403


def test_the_public_smart_form_needs_its_csrf_token(cast):
    with scopes_disabled():
        request = SmartFormFactory(clinic=cast.alice_clinic).requests.create(
            clinic=cast.alice_clinic, client=cast.bob
        )
    client = HttpClient(enforce_csrf_checks=True)
    assert client.post(f"/forms/{request.token}/", {"reason": "x"}).status_code == 403


def test_the_login_form_needs_its_csrf_token(db):
    client = HttpClient(enforce_csrf_checks=True)
    assert client.post("/accounts/login/", {"username": "a@b.test"}).status_code == 403


def test_login_attempts_are_throttled(cast, settings):
    settings.AXES_ENABLED = True
    client = HttpClient()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        wrong = client.post("/accounts/login/", {"username": "alice@alice.test", "password": "no"})
        assert wrong.status_code == 200
    locked = client.post("/accounts/login/", {"username": "alice@alice.test", "password": "no"})
    assert locked.status_code == 429
    right = client.post("/accounts/login/", {"username": "alice@alice.test", "password": PASSWORD})
    assert right.status_code == 429
    assert "Too many attempts" in right.content.decode()


def test_the_webhook_secret_is_compared_in_constant_time(client, cast, monkeypatch):
    compared = []
    real = anymail_webhooks.constant_time_compare

    def spy(given, expected):
        compared.append(expected)
        return real(given, expected)

    monkeypatch.setattr(anymail_webhooks, "constant_time_compare", spy)
    tracked_email(cast.alice_clinic, cast.bob, esp="postmark")
    assert post_fixture(client, "postmark", "delivery").status_code == 200
    assert "webhook:test-webhook-secret" in compared


def test_smart_form_tokens_are_long_random_and_distinct(cast):
    with scopes_disabled():
        form = SmartFormFactory(clinic=cast.alice_clinic)
        tokens = {
            SmartFormRequest.objects.create(
                clinic=cast.alice_clinic, form=form, client=cast.bob
            ).token
            for _ in range(300)
        }
    assert len(tokens) == 300
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43,}", token) for token in tokens)  # >= 256 bits


@pytest.fixture
def app_log():
    """What the configured console handler writes."""
    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RedactPersonalData) for f in h.filters)
    )
    stream = io.StringIO()
    previous = handler.setStream(stream)
    logging.getLogger().setLevel(logging.INFO)
    yield stream
    handler.setStream(previous)


def test_no_address_body_or_token_reaches_the_logs_at_info(
    client, cast, app_log, esp_simulator, eager_celery, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level(logging.INFO)
    with scope(clinic=cast.alice_clinic), django_capture_on_commit_callbacks(execute=True):
        direct_message_send(
            client=cast.bob, subject="Private subject", body="Private body text", sent_by=cast.alice
        )
        email = smart_form_send(
            form=SmartFormFactory(clinic=cast.alice_clinic), client=cast.bob, sent_by=cast.alice
        )
    token = email.form_request.token
    client.get(f"/forms/{token}/")
    logging.getLogger("probe").info("visited /forms/%s/ for %s", token, "bob@example.test")
    written = app_log.getvalue()
    assert "visited /forms/<token>/ for <address>" in written
    for secret in ("bob@example.test", "Private body text", token):
        assert secret not in written
