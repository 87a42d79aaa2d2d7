"""Every documented event kind of every ESP, replayed through its real webhook view."""

import pytest
from django_scopes import scopes_disabled

from clinic.models import Client
from messaging.models import EmailEvent, OutboundEmail
from notifications.models import Notification
from suppression.models import Suppression
from tests.tracking.helpers import (
    FIXTURE_EMAIL_ID,
    MAILGUN_FIXTURE_KEY,
    post_fixture,
    tracked_email,
)

HARD, SPAM, REJECTED = "hard_bounce", "spam_complaint", "esp_rejected"

# Each case's email starts in `sending`, below every status an event can give, so the status it
# ends in is the event's doing. None: the event is kept but changes no status.

CASES = [
    ("mailgun", "accepted", "processed", None),
    ("mailgun", "delivered", "delivered", None),
    ("mailgun", "failed_permanent_bounce", "failed", HARD),
    ("mailgun", "failed_temporary", "deferred", None),
    ("mailgun", "failed_suppress_bounce", "failed", REJECTED),
    ("mailgun", "failed_suppress_complaint", "failed", REJECTED),
    ("mailgun", "opened", "opened", None),
    ("mailgun", "clicked", "clicked", None),
    ("mailgun", "complained", "spam_report", SPAM),
    ("mailgun", "unsubscribed", None, None),
    ("mailgun", "rejected", "failed", None),
    ("postmark", "delivery", "delivered", None),
    ("postmark", "bounce_hard", "failed", HARD),
    ("postmark", "bounce_soft", "deferred", None),
    ("postmark", "bounce_transient", "deferred", None),
    ("postmark", "bounce_dns_error", "deferred", None),
    ("postmark", "bounce_inactive", "failed", REJECTED),
    ("postmark", "spam_complaint", "spam_report", SPAM),
    ("postmark", "open", "opened", None),
    ("postmark", "click", "clicked", None),
    ("postmark", "subscription_change", None, None),
    ("amazon_ses", "send", "processed", None),
    ("amazon_ses", "delivery", "delivered", None),
    ("amazon_ses", "bounce_permanent", "failed", HARD),
    ("amazon_ses", "bounce_transient", "deferred", None),
    ("amazon_ses", "bounce_suppressed", "failed", REJECTED),
    ("amazon_ses", "complaint", "spam_report", SPAM),
    ("amazon_ses", "delivery_delay", "deferred", None),
    ("amazon_ses", "open", "opened", None),
    ("amazon_ses", "click", "clicked", None),
    ("amazon_ses", "reject", "failed", None),
    ("amazon_ses", "rendering_failure", "failed", None),
    ("sendgrid", "processed", "processed", None),
    ("sendgrid", "dropped", "failed", REJECTED),
    ("sendgrid", "deferred", "deferred", None),
    ("sendgrid", "delivered", "delivered", None),
    ("sendgrid", "bounce", "failed", HARD),
    ("sendgrid", "blocked", "deferred", None),
    ("sendgrid", "open", "opened", None),
    ("sendgrid", "click", "clicked", None),
    ("sendgrid", "spamreport", "spam_report", SPAM),
    ("sendgrid", "unsubscribe", None, None),
]


@pytest.fixture
def mailgun_fixture_key(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_FIXTURE_KEY}


@pytest.mark.parametrize(("esp", "name", "status", "suppressed"), CASES)
def test_each_event_gives_its_status_and_consequence(
    client, cast, mailgun_fixture_key, esp, name, status, suppressed
):
    email = tracked_email(
        cast.alice_clinic, cast.bob, esp=esp, sent_by=cast.alice, status="sending"
    )
    response = post_fixture(client, esp, name)
    assert response.status_code == 200, response.content
    assert response.content == b"OK (1 received)"
    with scopes_disabled():
        email.refresh_from_db()
        event = EmailEvent.objects.get()
        bob = Client.objects.get(pk=cast.bob.pk)
        notes = list(Notification.objects.filter(email_id=email.id))
    assert event.email_id == FIXTURE_EMAIL_ID
    assert event.status == (status or "")
    assert email.status == (status or "sending")
    if suppressed:
        suppression = Suppression.objects.get(address="bob@example.test", stream=esp)
        assert suppression.reason == suppressed
        assert suppression.source_email_id == email.id
        assert not bob.appointment_comms
        assert [note.recipient for note in notes] == [cast.alice]
    else:
        assert not Suppression.objects.exists()
        assert bob.appointment_comms
        assert notes == []


@pytest.mark.parametrize(
    ("esp", "name", "words"),
    [
        ("mailgun", "failed_permanent_bounce", "5.1.1 The email account that you tried to reach"),
        ("postmark", "bounce_hard", "smtp;550 5.1.1"),
        ("amazon_ses", "bounce_permanent", "smtp; 550 5.1.1 user unknown"),
        ("sendgrid", "bounce", "550 5.1.1"),
        ("postmark", "bounce_soft", "smtp;452 4.2.2"),
    ],
)
def test_the_reason_keeps_the_esps_words(client, cast, mailgun_fixture_key, esp, name, words):
    email = tracked_email(cast.alice_clinic, cast.bob, esp=esp)
    post_fixture(client, esp, name)
    with scopes_disabled():
        email.refresh_from_db()
    assert words in email.reason


def test_a_repeated_event_changes_nothing(client, cast, mailgun_fixture_key):
    tracked_email(cast.alice_clinic, cast.bob, esp="postmark", sent_by=cast.alice)
    post_fixture(client, "postmark", "bounce_hard")
    response = post_fixture(client, "postmark", "bounce_hard")
    assert response.content == b"OK (1 received)"
    with scopes_disabled():
        assert EmailEvent.objects.count() == 1
        assert Notification.objects.count() == 1
    assert Suppression.objects.get().times_seen == 1


def test_a_sendgrid_batch_is_applied_at_once(client, cast):
    from tests.tracking.helpers import load

    from tests.factories import ClientFactory

    # Each email to the recipient its events name: an event for another address changes nothing.
    recipients = {event["email_id"]: event["email"] for event in load("sendgrid", "batch_mixed")}
    with scopes_disabled():
        clients = {
            address: ClientFactory(clinic=cast.alice_clinic, email=address)
            for address in set(recipients.values())
        }
    emails = [
        tracked_email(
            cast.alice_clinic,
            clients[recipients[email_id]],
            esp="sendgrid",
            email_id=email_id,
            status="sending",
        )
        for email_id in sorted(recipients)
    ]
    response = post_fixture(client, "sendgrid", "batch_mixed")
    assert response.status_code == 200
    assert response.content == f"OK ({len(load('sendgrid', 'batch_mixed'))} received)".encode()
    with scopes_disabled():
        assert EmailEvent.objects.count() == len(load("sendgrid", "batch_mixed")) - 1
        statuses = {str(e.id): OutboundEmail.objects.get(pk=e.id).status for e in emails}
    # Each email ends at the highest of its own events: A clicked, B reported as spam after it
    # was delivered and opened, C bounced.
    assert statuses == {
        "5b0d4c1e-6f0a-4f7e-9a51-2f1f0a7c9d11": "clicked",
        "0c7a3f52-1d2e-4b7a-8f3c-6e5d4c3b2a10": "spam_report",
        "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b": "failed",
    }
