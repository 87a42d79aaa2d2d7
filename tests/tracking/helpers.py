import base64
import json
import time
import uuid
from pathlib import Path

from django.conf import settings
from django_scopes import scopes_disabled

from messaging.models import EmailKind, OutboundEmail
from messaging.tracking.drain import inbox_drain
from tests.signing import mailgun_resigned, mailgun_signature, sns_certificates

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "esp"
FIXTURE_EMAIL_ID = uuid.UUID("5b0d4c1e-6f0a-4f7e-9a51-2f1f0a7c9d11")
MESSAGE_IDS = {
    "mailgun": "<20240611143012.1.5B0D4C1E6F0A4F7E@mg.example.test>",
    "postmark": "4a6b1e2c-9d3f-4c8a-b5e7-1f2d3c4b5a69",
    "amazon_ses": "0100018fffa1b2c3-7e5d9a40-3c1b-4f2e-8a6d-9b0c1d2e3f40-000000",
    "sendgrid": "3f9b1c2e-7a4d-4e8b-9c1f-2a3b4c5d6e7f",
}
MAILGUN_FIXTURE_KEY = "key-fixture-mailgun-signing"
SECRET = "webhook:test-webhook-secret"


def basic_auth(secret: str = SECRET) -> str:
    return "Basic " + base64.b64encode(secret.encode()).decode()


def load(esp: str, name: str):
    return json.loads((FIXTURES / esp / f"{name}.json").read_text())


def tracked_email(
    clinic,
    client,
    *,
    esp: str,
    email_id=FIXTURE_EMAIL_ID,
    status="processed",
    sent_by=None,
    appointment=None,
) -> OutboundEmail:
    with scopes_disabled():
        return OutboundEmail.objects.create(
            id=email_id,
            clinic=clinic,
            client=client,
            kind=EmailKind.DIRECT_MESSAGE
            if appointment is None
            else EmailKind.APPOINTMENT_REMINDER,
            to_email=client.email,
            subject="Hello",
            body_text="Hello",
            esp=esp,
            esp_message_id=MESSAGE_IDS.get(esp, ""),
            status=status,
            sent_by=sent_by,
            appointment=appointment,
        )


def post_json(
    client,
    path: str,
    body,
    *,
    auth: str | None = None,
    content_type: str = "application/json",
    **headers,
):
    """Posts a webhook, then does the worker's share here: applies what it received."""
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    response = client.post(
        path,
        data=data,
        content_type=content_type,
        HTTP_AUTHORIZATION=auth or basic_auth(),
        **headers,
    )
    inbox_drain()
    return response


def post_fixture(client, esp: str, name: str, *, auth: str | None = None):
    """Posts a documented payload as its ESP would now: a Mailgun post signed afresh with the
    configured key, an SNS message signed with the tests' certificate from the tests' topic."""
    body = load(esp, name)
    path = f"/anymail/{esp}/tracking/"
    if esp == "mailgun":
        body = mailgun_resigned(body, settings.ANYMAIL["MAILGUN_WEBHOOK_SIGNING_KEY"])
    if esp == "amazon_ses":
        body = sns_certificates().sign(body)
    if esp != "amazon_ses":
        return post_json(client, path, body, auth=auth)
    return post_json(
        client,
        path,
        body,
        auth=auth,
        content_type="text/plain; charset=UTF-8",  # as SNS posts it
        HTTP_X_AMZ_SNS_MESSAGE_TYPE=body["Type"],
        HTTP_X_AMZ_SNS_MESSAGE_ID=body["MessageId"],
    )


def mailgun_signed(event_data: dict, key: str) -> dict:
    return {"signature": mailgun_signature(key), "event-data": event_data}


def mailgun_event(
    kind: str, *, email_id, recipient: str, event_id: str | None = None, **extra
) -> dict:
    data = {
        "event": kind,
        "id": event_id or uuid.uuid4().hex,
        "timestamp": time.time(),
        "recipient": recipient,
        "user-variables": {"email_id": str(email_id)},
        "message": {"headers": {"message-id": "msg-" + str(email_id)}},
    }
    data.update(extra)
    return data


def mailgun_hard_bounce(http, email, message: str = "5.1.1 no such user") -> None:
    """Mailgun's signed webhook for a hard bounce of the email, posted to our webhook view (the
    tests' eager settings apply it at once, as a worker would)."""
    from django.conf import settings

    data = mailgun_event(
        "failed",
        email_id=email.pk,
        recipient=email.to_email,
        severity="permanent",
        reason="bounce",
        **{"delivery-status": {"code": 550, "message": message}},
    )
    signed = mailgun_signed(data, settings.ANYMAIL["MAILGUN_WEBHOOK_SIGNING_KEY"])
    response = post_json(http, "/anymail/mailgun/tracking/", signed)
    assert response.status_code == 200, response.content


def emails_aged(clinic, client, ages, *, esp="mailgun", subject="Email {n}") -> list:
    """One tracked email per age (a timedelta), the n-th created that long ago."""
    from django.utils import timezone

    emails = []
    with scopes_disabled():
        for n, age in enumerate(ages):
            email = tracked_email(
                clinic, client, esp=esp, email_id=f"00000000-0000-4000-8000-{n:012d}"
            )
            OutboundEmail.objects.filter(pk=email.pk).update(
                subject=subject.format(n=n), created_at=timezone.now() - age
            )
            emails.append(email)
    return emails
