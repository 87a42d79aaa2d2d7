"""Removal requests by email, end to end through each ESP's inbound webhook as the ESP posts it:
only the ESP's own verdicts count, a request they do not show the client sent is kept unverified
and cannot be approved (admin action, admin button, editing, code), and decisions are audited."""

import json
import time
import uuid
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django_scopes import scopes_disabled

from clinic.models import AuditEntry
from suppression.models import RemovalRequest, Suppression, SuppressionReason
from suppression.removal_requests import removal_request_decide, removal_request_receive
from suppression.sender_auth import EspVerdicts
from suppression.services import Refused, suppression_record
from tests.otp import support_login
from tests.signing import mailgun_signature, sns_certificates
from tests.tracking.helpers import basic_auth

SUPPORT = "support@clinicmail.test"
CHANGELIST = "/admin/suppression/removalrequest/"

GENUINE = """\
Return-Path: <bob@example.com>
DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=s1;
 h=from:to:subject:date:message-id; bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;
 b=dGVzdA==
From: Bob Brown <Bob@example.com>
To: Clinic mail support <support@clinicmail.test>
Subject: Please email me again
Message-ID: <req-1@example.com>
Date: Fri, 20 Nov 2026 10:00:00 +0000
Content-Type: text/plain; charset=utf-8

I marked an appointment email as spam by mistake. Please send them again.
"""

# From the suppressed address, but sent by someone else: the SPF line its receiving server
# would write says Fail, and it carries an Authentication-Results line of its own making.
FORGED = """\
Return-Path: <mallory@attacker.example>
Received-SPF: Fail (mx.clinicmail.test: domain of mallory@attacker.example does not designate
 203.0.113.9 as permitted sender)
Authentication-Results: mx.clinicmail.test; dkim=pass header.d=example.com;
 spf=pass smtp.mailfrom=example.com; dmarc=pass header.from=example.com
From: Bob Brown <bob@example.com>
To: Clinic mail support <support@clinicmail.test>
Subject: Please email me again
Message-ID: <forged-1@attacker.example>
Date: Fri, 20 Nov 2026 10:00:00 +0000
Content-Type: text/plain; charset=utf-8

Please start sending me appointment emails again.
"""


def signed_by(mime: str, domain: str) -> str:
    """The genuine message, its one DKIM signature made by `domain` instead."""
    return mime.replace("d=example.com; s=s1", f"d={domain}; s=s1")


def post_mailgun(client, mime: str, **fields):
    """As a Mailgun route's forward() posts it: signed, with Mailgun's own verdict fields."""
    data = {
        "body-mime": mime,
        "recipient": SUPPORT,
        "sender": "bob@example.com",
        **mailgun_signature(settings.ANYMAIL["MAILGUN_WEBHOOK_SIGNING_KEY"]),
        **fields,
    }
    data = {name: value for name, value in data.items() if value is not None}
    return client.post("/anymail/mailgun/inbound/", data, HTTP_AUTHORIZATION=basic_auth())


def post_amazon_ses(client, mime: str, *, source: str, spf: str, dkim: str, dmarc: str, sign=True):
    """As an SES receipt rule's SNS action publishes it, signed by SNS (tests/signing.py)."""
    notification = {
        "notificationType": "Received",
        "mail": {
            "timestamp": "2026-11-20T10:00:01.000Z",
            "source": source,
            "messageId": uuid.uuid4().hex,
            "destination": [SUPPORT],
        },
        "receipt": {
            "timestamp": "2026-11-20T10:00:01.000Z",
            "processingTimeMillis": 357,
            "recipients": [SUPPORT],
            "spamVerdict": {"status": "PASS"},
            "virusVerdict": {"status": "PASS"},
            "spfVerdict": {"status": spf},
            "dkimVerdict": {"status": dkim},
            "dmarcVerdict": {"status": dmarc},
            "action": {"type": "SNS", "topicArn": "arn:aws:sns:eu-west-1:1:in", "encoding": "UTF8"},
        },
        "content": mime,
    }
    body = {
        "Type": "Notification",
        "MessageId": str(uuid.uuid4()),
        "Subject": "Amazon SES Email Receipt Notification",
        "Message": json.dumps(notification),
        "Timestamp": "2026-11-20T10:00:02.000Z",
    }
    if sign:
        body = sns_certificates().sign(body)
    else:  # signed by SNS, then changed: the verdicts say PASS now
        body = sns_certificates().sign(body)
        body["Message"] = body["Message"].replace('"FAIL"', '"PASS"')
    return client.post(
        "/anymail/amazon_ses/inbound/",
        json.dumps(body),
        content_type="text/plain; charset=UTF-8",
        HTTP_AUTHORIZATION=basic_auth(),
        HTTP_X_AMZ_SNS_MESSAGE_TYPE=body["Type"],
        HTTP_X_AMZ_SNS_MESSAGE_ID=body["MessageId"],
    )


def post_sendgrid(client, mime: str, *, envelope_from: str, spf: str, dkim: str):
    """As Inbound Parse posts it with "send raw": the message, SPF, dkim and the envelope."""
    data = {
        "email": mime,
        "from": "Bob Brown <bob@example.com>",
        "to": SUPPORT,
        "subject": "Please email me again",
        "envelope": json.dumps({"to": [SUPPORT], "from": envelope_from}),
        "sender_ip": "203.0.113.9",
        "SPF": spf,
        "dkim": dkim,
        "spam_score": "0.1",
        "charsets": json.dumps({"to": "UTF-8", "subject": "UTF-8", "from": "UTF-8"}),
    }
    return client.post("/anymail/sendgrid/inbound/", data, HTTP_AUTHORIZATION=basic_auth())


def post_postmark(client, *, received_spf: str, message_id: str):
    """As Postmark's inbound webhook posts it: parsed fields, the headers passed on as they came
    (Postmark puts the envelope's Return-Path first)."""
    payload = {
        "FromName": "Bob Brown",
        "From": "bob@example.com",
        "FromFull": {"Email": "bob@example.com", "Name": "Bob Brown", "MailboxHash": ""},
        "To": SUPPORT,
        "ToFull": [{"Email": SUPPORT, "Name": "Clinic mail support", "MailboxHash": ""}],
        "CcFull": [],
        "BccFull": [],
        "OriginalRecipient": SUPPORT,
        "Subject": "Please email me again",
        "MessageID": str(uuid.uuid4()),
        "ReplyTo": "",
        "MailboxHash": "",
        "Date": "Fri, 20 Nov 2026 10:00:00 +0000",
        "TextBody": "Please send me appointment emails again.",
        "HtmlBody": "",
        "StrippedTextReply": "",
        "Tag": "",
        "Headers": [
            {"Name": "Return-Path", "Value": "<bob@example.com>"},
            {"Name": "Received-SPF", "Value": received_spf},
            {
                "Name": "Authentication-Results",
                "Value": "mx; dkim=pass header.d=example.com; spf=pass; dmarc=pass",
            },
            {"Name": "Message-ID", "Value": message_id},
        ],
        "Attachments": [],
    }
    return client.post(
        "/anymail/postmark/inbound/",
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic_auth(),
    )


# Each ESP: a forged request (its own verdicts fail, or it gives none) and a genuine one.
FORGED_POSTS = {
    "mailgun": lambda c: post_mailgun(
        c,
        FORGED,
        sender="mallory@attacker.example",
        **{"X-Mailgun-Spf": "Fail", "X-Mailgun-Dkim-Check-Result": "Fail"},
    ),
    "mailgun without verdicts": lambda c: post_mailgun(c, FORGED, sender="bob@example.com"),
    "amazon_ses": lambda c: post_amazon_ses(
        c, FORGED, source="mallory@attacker.example", spf="FAIL", dkim="GRAY", dmarc="FAIL"
    ),
    "sendgrid": lambda c: post_sendgrid(
        c, FORGED, envelope_from="mallory@attacker.example", spf="fail", dkim="none"
    ),
    "postmark": lambda c: post_postmark(
        c,
        received_spf="Fail (sender not authorized) identity=mailfrom; envelope-from=b@example.com",
        message_id="<forged-1@attacker.example>",
    ),
    # Unsigned: whoever knows the webhook's password could post these passes.
    "sendgrid claiming passes": lambda c: post_sendgrid(
        c, GENUINE, envelope_from="bob@example.com", spf="pass", dkim="{@example.com : pass}"
    ),
}
GENUINE_POSTS = {
    "mailgun": lambda c: post_mailgun(
        c, GENUINE, **{"X-Mailgun-Spf": "Pass", "X-Mailgun-Dkim-Check-Result": "Pass"}
    ),
    "amazon_ses": lambda c: post_amazon_ses(
        c, GENUINE, source="bob@example.com", spf="PASS", dkim="PASS", dmarc="PASS"
    ),
}


@pytest.fixture
def complaint(db):
    return suppression_record(
        address="bob@example.com", stream="mailgun", reason=SuppressionReason.SPAM_COMPLAINT
    )


def the_request() -> RemovalRequest:
    return RemovalRequest.objects.get()


def audit_entries(action: str | None = None) -> list[tuple[str, str, dict]]:
    with scopes_disabled():
        entries = AuditEntry.objects.order_by("at")
        if action is not None:
            entries = entries.filter(action=action)
        return [(e.action, e.target, e.detail) for e in entries]


DECIDED = AuditEntry.Action.DECIDED_REMOVAL_REQUEST


def approve_in_admin(client, request: RemovalRequest):
    return client.post(CHANGELIST, {"action": "approve", "_selected_action": [request.pk]})


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.mark.parametrize("esp", FORGED_POSTS)
def test_a_forged_request_is_kept_unverified_and_nothing_approves_it(client, cast, complaint, esp):
    assert FORGED_POSTS[esp](client).status_code == 200
    request = the_request()
    assert request.from_address == "bob@example.com"
    assert not request.verified
    assert "cannot be approved" in request.verification
    if esp != "sendgrid claiming passes":  # unsigned: what it claims is kept, never proof
        assert "pass" not in (request.spf.lower(), request.dkim.lower(), request.dmarc.lower())

    support_login(client, cast.support)
    refused = approve_in_admin(client, request)
    assert any("cannot be approved" in text for text in messages_of(refused))
    button = client.post(f"{CHANGELIST}{request.pk}/decide/", {"approve": "1"})
    assert button.status_code == 302
    edited = client.post(f"{CHANGELIST}{request.pk}/change/", {"state": "approved"})
    assert edited.status_code == 403
    request.verified = True  # whatever the object in hand says, the stored request decides
    with pytest.raises(Refused, match="cannot be approved"):
        removal_request_decide(request=request, actor=cast.support, approve=True)

    assert the_request().state == RemovalRequest.State.PENDING
    assert Suppression.objects.get().active
    assert audit_entries() == []


@pytest.mark.parametrize("esp", GENUINE_POSTS)
def test_a_genuine_request_is_verified_and_approving_it_reactivates_the_address(
    client, cast, complaint, esp
):
    assert GENUINE_POSTS[esp](client).status_code == 200
    request = the_request()
    assert request.verified, request.verification
    assert "aligned with example.com" in request.verification or "DMARC" in request.verification
    # Decided days after it came in: the evidence keeps the day it was received.
    RemovalRequest.objects.update(received_at=datetime(2026, 11, 20, 10, 0, tzinfo=UTC))

    support_login(client, cast.support)
    approve_in_admin(client, request)

    suppression = Suppression.objects.get()
    assert not suppression.active
    evidence = suppression.history.get(action="reactivated").evidence["client_request"]
    assert evidence["received_on"] == "2026-11-20"
    assert evidence["from_address"] == "bob@example.com"
    assert the_request().state == RemovalRequest.State.APPROVED
    assert the_request().decided_by == cast.support
    assert audit_entries(DECIDED) == [
        (
            DECIDED,
            f"removal request {request.pk}",
            {"decision": "approved"},
        )
    ]


def test_the_approve_button_approves_a_verified_request(client, cast, complaint):
    GENUINE_POSTS["mailgun"](client)
    support_login(client, cast.support)
    page = client.get(f"{CHANGELIST}{the_request().pk}/change/")
    assert b"Approve: reactivate the address" in page.content
    client.post(f"{CHANGELIST}{the_request().pk}/decide/", {"approve": "1"})
    assert the_request().state == RemovalRequest.State.APPROVED
    assert not Suppression.objects.get().active


def test_support_sees_why_an_unverified_request_cannot_be_approved(client, cast, complaint):
    FORGED_POSTS["mailgun"](client)
    GENUINE_POSTS["mailgun"](client)
    support_login(client, cast.support)

    listed = client.get(CHANGELIST, {"verified__exact": "0"})
    assert listed.status_code == 200
    assert listed.context["cl"].result_count == 1
    assert "SPF: fail" in listed.content.decode()

    forged = RemovalRequest.objects.get(verified=False)
    page = client.get(f"{CHANGELIST}{forged.pk}/change/").content.decode()
    assert "This request cannot be approved." in page
    assert "Approve: reactivate the address" not in page
    assert 'name="decline"' in page


def test_declining_an_unverified_request_works_and_is_audited(client, cast, complaint):
    FORGED_POSTS["sendgrid"](client)
    support_login(client, cast.support)
    client.post(CHANGELIST, {"action": "decline", "_selected_action": [the_request().pk]})
    assert the_request().state == RemovalRequest.State.DECLINED
    assert Suppression.objects.get().active
    assert audit_entries(DECIDED) == [
        (
            DECIDED,
            f"removal request {the_request().pk}",
            {"decision": "declined"},
        )
    ]


def test_a_decided_request_is_not_decided_again(client, cast, complaint):
    GENUINE_POSTS["mailgun"](client)
    removal_request_decide(request=the_request(), actor=cast.support, approve=False)
    with pytest.raises(Refused, match="already been decided"):
        removal_request_decide(request=the_request(), actor=cast.support, approve=True)
    assert Suppression.objects.get().active


@pytest.mark.parametrize(
    ("post", "verified", "words"),
    [
        # DKIM passed, but the signer is not the client's domain.
        (
            lambda c: post_sendgrid(
                c,
                GENUINE,
                envelope_from="bob@example.com",
                spf="softfail",
                dkim="{@attacker.example : pass}",
            ),
            False,
            "SendGrid signs no Inbound Parse post",
        ),
        (
            lambda c: post_mailgun(
                c,
                signed_by(GENUINE, "attacker.example"),
                **{"X-Mailgun-Spf": "Fail", "X-Mailgun-Dkim-Check-Result": "Pass"},
            ),
            False,
            "DKIM passed for attacker.example, not aligned with example.com",
        ),
        # SPF passed, for an envelope sender of another domain.
        (
            lambda c: post_mailgun(
                c,
                FORGED,
                sender="mallory@attacker.example",
                **{"X-Mailgun-Spf": "Pass", "X-Mailgun-Dkim-Check-Result": "Fail"},
            ),
            False,
            "SPF passed for the envelope sender's domain attacker.example, which is not aligned",
        ),
        (
            lambda c: post_amazon_ses(
                c, FORGED, source="m@attacker.example", spf="PASS", dkim="GRAY", dmarc="FAIL"
            ),
            False,
            "SPF passed for the envelope sender's domain attacker.example, which is not aligned",
        ),
        # Mailgun's DKIM pass names no domain: with two signatures it is tied to none.
        (
            lambda c: post_mailgun(
                c,
                GENUINE.replace(
                    "From: Bob", "DKIM-Signature: v=1; d=attacker.example; s=a; b=eA==\nFrom: Bob"
                ),
                sender="mallory@attacker.example",
                **{"X-Mailgun-Spf": "Fail", "X-Mailgun-Dkim-Check-Result": "Pass"},
            ),
            False,
            "does not have exactly one DKIM signature",
        ),
        # A subdomain of the client's domain is aligned (relaxed alignment).
        (
            lambda c: post_mailgun(
                c,
                signed_by(GENUINE, "mail.example.com"),
                sender="bounces@mail.example.com",
                **{"X-Mailgun-Spf": "Fail", "X-Mailgun-Dkim-Check-Result": "Pass"},
            ),
            True,
            "DKIM pass for the signing domain mail.example.com, which is aligned with example.com",
        ),
        (
            lambda c: post_sendgrid(
                c, GENUINE, envelope_from="bounces@mail.example.com", spf="pass", dkim="none"
            ),
            False,  # unsigned: SendGrid's verdicts are kept, never proof
            "SendGrid signs no Inbound Parse post",
        ),
        (
            lambda c: post_amazon_ses(
                c, GENUINE, source="b@mail.example.com", spf="PASS", dkim="FAIL", dmarc="FAIL"
            ),
            True,
            "SPF pass for the envelope sender's domain mail.example.com, which is aligned",
        ),
    ],
    ids=[
        "sendgrid dkim unaligned",
        "mailgun dkim unaligned",
        "mailgun spf unaligned",
        "ses spf unaligned",
        "mailgun dkim two signatures",
        "mailgun dkim subdomain",
        "sendgrid spf subdomain",
        "ses spf subdomain",
    ],
)
def test_only_a_pass_aligned_with_the_from_domain_verifies(
    client, complaint, post, verified, words
):
    assert post(client).status_code == 200
    request = the_request()
    assert (request.verified, words in request.verification) == (verified, True), (
        request.verification
    )


def test_postmark_requests_are_never_verified_whatever_their_headers_say(client, complaint):
    post_postmark(
        client,
        received_spf="Pass (sender SPF authorized) identity=mailfrom; envelope-from=b@example.com",
        message_id="<req-1@example.com>",
    )
    request = the_request()
    assert not request.verified
    assert "Postmark reports no SPF, DKIM or DMARC verdict of its own" in request.verification
    assert (request.spf, request.dkim, request.dmarc) == ("", "", "")


def test_an_ses_notification_changed_after_sns_signed_it_is_refused(client, complaint):
    response = post_amazon_ses(
        client, FORGED, source="bob@example.com", spf="FAIL", dkim="FAIL", dmarc="FAIL", sign=False
    )
    assert response.status_code == 400
    assert not RemovalRequest.objects.exists()


def test_a_mailgun_verdict_posted_twice_is_no_verdict(client, complaint):
    post_mailgun(
        client,
        FORGED,
        sender="bob@example.com",
        **{"X-Mailgun-Spf": ["Pass", "Fail"], "X-Mailgun-Dkim-Check-Result": "Fail"},
    )
    assert not the_request().verified
    assert the_request().spf == ""


def post_mailgun_parsed(client, headers: list[list[str]], **fields):
    """As a route's forward() posts a fully parsed message: each header also a field of its
    own, Mailgun's verdict headers among them."""
    data = {
        "recipient": SUPPORT,
        "sender": "bob@example.com",
        "from": "Bob Brown <bob@example.com>",
        "subject": "Please email me again",
        "body-plain": "Please send me appointment emails again.",
        "message-headers": json.dumps(headers),
        **mailgun_signature(settings.ANYMAIL["MAILGUN_WEBHOOK_SIGNING_KEY"]),
        **fields,
    }
    return client.post("/anymail/mailgun/inbound/", data, HTTP_AUTHORIZATION=basic_auth())


PARSED_HEADERS = [
    ["X-Mailgun-Spf", "Pass"],
    ["X-Mailgun-Dkim-Check-Result", "Pass"],
    ["Dkim-Signature", "v=1; a=rsa-sha256; d=example.com; s=s1; b=dGVzdA=="],
    ["From", "Bob Brown <bob@example.com>"],
    ["To", SUPPORT],
    ["Subject", "Please email me again"],
    ["Message-Id", "<req-2@example.com>"],
]


def test_a_fully_parsed_mailgun_post_is_read_from_mailguns_fields(client, complaint):
    post_mailgun_parsed(
        client, PARSED_HEADERS, **{"X-Mailgun-Spf": "Pass", "X-Mailgun-Dkim-Check-Result": "Pass"}
    )
    assert the_request().verified, the_request().verification


def test_a_sender_written_mailgun_verdict_beside_mailguns_own_is_no_verdict(client, complaint):
    written = [["X-Mailgun-Spf", "Pass"], ["X-Mailgun-Dkim-Check-Result", "Pass"]]
    headers = [
        ["X-Mailgun-Spf", "Fail"],
        ["X-Mailgun-Dkim-Check-Result", "Fail"],
        *written,
        *PARSED_HEADERS[3:],
    ]
    post_mailgun_parsed(
        client,
        headers,
        sender="mallory@attacker.example",
        **{"X-Mailgun-Spf": "Pass", "X-Mailgun-Dkim-Check-Result": "Pass"},
    )
    assert not the_request().verified
    assert (the_request().spf, the_request().dkim) == ("", "")


def test_a_replayed_mailgun_signature_files_nothing_whatever_the_body(client, complaint):
    """Mailgun signs a timestamp and a token, not the verdict fields: a captured signature must
    not carry a forged "Pass" in a new body."""
    signature = mailgun_signature(settings.ANYMAIL["MAILGUN_WEBHOOK_SIGNING_KEY"])
    first = post_mailgun(client, FORGED, sender="mallory@attacker.example", **signature)
    assert first.status_code == 200
    replayed = post_mailgun(
        client,
        FORGED.replace("forged-1", "forged-2"),
        sender="bob@example.com",
        **{**signature, "X-Mailgun-Spf": "Pass", "X-Mailgun-Dkim-Check-Result": "Pass"},
    )
    assert replayed.status_code == 200
    assert b"duplicate" in replayed.content
    assert [r.verified for r in RemovalRequest.objects.all()] == [False]


def test_a_stale_mailgun_signature_is_refused(client, complaint):
    stale = mailgun_signature(
        settings.ANYMAIL["MAILGUN_WEBHOOK_SIGNING_KEY"], timestamp=time.time() - 2 * 24 * 3600
    )
    response = post_mailgun(client, GENUINE, **stale)
    assert response.status_code == 400
    assert not RemovalRequest.objects.exists()


def test_the_same_message_twice_files_one_request(client, complaint):
    GENUINE_POSTS["mailgun"](client)
    GENUINE_POSTS["mailgun"](client)
    assert RemovalRequest.objects.count() == 1


def test_a_message_from_an_address_not_suppressed_files_nothing(client, complaint):
    post_mailgun(client, GENUINE.replace("Bob@example.com", "ann@example.com"))
    assert not RemovalRequest.objects.exists()


def test_a_message_to_another_address_files_nothing(client, complaint):
    post_mailgun(
        client,
        GENUINE.replace("support@clinicmail.test", "hello@clinicmail.test"),
        recipient="hello@clinicmail.test",
    )
    assert not RemovalRequest.objects.exists()


def test_a_forged_message_without_a_message_id_does_not_take_the_clients_place(complaint):
    """Requests are told apart by Message-ID; without one, by their content and verdicts, so a
    forged message cannot take the place of the client's own request that also lacks one."""
    forged = EspVerdicts(esp="mailgun", spf="Fail", dkim="Fail")
    genuine = EspVerdicts(esp="mailgun", dmarc="pass")
    for verdicts in (forged, genuine, genuine):  # the genuine one twice: filed once
        removal_request_receive(
            from_address="bob@example.com",
            subject="Please email me again",
            text="Sorry, that was a mistake.",
            message_id="",
            esp="mailgun",
            verdicts=verdicts,
        )
    requests = RemovalRequest.objects.order_by("received_at")
    assert [request.verified for request in requests] == [False, True]
    assert all(request.message_id.startswith("(no Message-ID) ") for request in requests)
