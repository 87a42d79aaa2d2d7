import hashlib
import hmac
import time
from datetime import UTC, datetime

import pytest

from suppression.models import RemovalRequest, Suppression, SuppressionReason
from suppression.services import suppression_record
from tests.otp import support_login
from tests.tracking.helpers import basic_auth

MIME = """\
Return-Path: <bob@example.test>
Received-SPF: pass (mx.clinicmail.test: domain of bob@example.test designates 192.0.2.1)
Authentication-Results: mx.clinicmail.test; dkim=pass header.d=example.test; spf=pass
From: Bob Brown <Bob@example.test>
To: Clinic mail support <support@clinicmail.test>
Subject: Please email me again
Message-ID: <req-1@example.test>
Date: Fri, 20 Nov 2026 10:00:00 +0000
Content-Type: text/plain; charset=utf-8

I marked an appointment email as spam by mistake. Please send them again.
"""


def post_inbound(client, mime: str, key: str = "test-signing-key", **fields):
    timestamp, token = str(int(time.time())), "t" * 50
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    data = {
        "body-mime": mime,
        "timestamp": timestamp,
        "token": token,
        "signature": signature,
        "recipient": "support@clinicmail.test",
        "sender": "bob@example.test",
        **fields,
    }
    return client.post("/anymail/mailgun/inbound/", data, HTTP_AUTHORIZATION=basic_auth())


@pytest.fixture
def complaint(db):
    return suppression_record(
        address="bob@example.test", stream="mailgun", reason=SuppressionReason.SPAM_COMPLAINT
    )


def test_a_message_from_a_suppressed_address_becomes_a_removal_request(client, complaint):
    response = post_inbound(client, MIME)
    assert response.status_code == 200
    request = RemovalRequest.objects.get()
    assert request.suppression == complaint
    assert request.from_address == "bob@example.test"
    assert request.subject == "Please email me again"
    assert (request.spf, request.dkim) == ("pass", "pass")
    assert request.message_id == "<req-1@example.test>"


def test_the_esps_own_verdict_fields_win(client, complaint):
    post_inbound(client, MIME, **{"X-Mailgun-Spf": "Fail", "X-Mailgun-Dkim-Check-Result": "Fail"})
    assert (RemovalRequest.objects.get().spf, RemovalRequest.objects.get().dkim) == ("Fail", "Fail")


def test_the_same_message_twice_files_one_request(client, complaint):
    post_inbound(client, MIME)
    post_inbound(client, MIME)
    assert RemovalRequest.objects.count() == 1


def test_a_message_from_an_address_not_suppressed_files_nothing(client, complaint):
    post_inbound(client, MIME.replace("Bob@example.test", "ann@example.test"))
    assert not RemovalRequest.objects.exists()


def test_a_message_to_another_address_files_nothing(client, complaint):
    post_inbound(
        client,
        MIME.replace("support@clinicmail.test", "hello@clinicmail.test"),
        recipient="hello@clinicmail.test",
    )
    assert not RemovalRequest.objects.exists()


def test_support_approves_it_and_the_address_is_reactivated_with_the_request_as_evidence(
    client, cast, complaint, eager_celery, esp_simulator, django_capture_on_commit_callbacks
):
    post_inbound(client, MIME)
    # Decided days after it came in: the evidence keeps the day it was received.
    RemovalRequest.objects.update(received_at=datetime(2026, 11, 20, 10, 0, tzinfo=UTC))
    support_login(client, cast.support)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/suppression/removalrequest/",
            {"action": "approve", "_selected_action": [RemovalRequest.objects.get().pk]},
        )
    suppression = Suppression.objects.get()
    assert not suppression.active
    evidence = suppression.history.get(action="reactivated").evidence["client_request"]
    assert evidence == {
        "received_on": "2026-11-20",
        "channel": "email",
        "reference": "<req-1@example.test>",
        "from_address": "bob@example.test",
    }
    assert RemovalRequest.objects.get().state == "approved"


def test_support_declines_it(client, cast, complaint):
    post_inbound(client, MIME)
    support_login(client, cast.support)
    client.post(
        "/admin/suppression/removalrequest/",
        {"action": "decline", "_selected_action": [RemovalRequest.objects.get().pk]},
    )
    assert RemovalRequest.objects.get().state == "declined"
    assert Suppression.objects.get().active
