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

# (ESP, fixture, status or None, suppression reason, whether the client is opted out without
# a suppression, why it failed when not the address: "temporary" or "sender")
CASES = [
    ("mailgun", "accepted", "processed", None, False, ""),
    ("mailgun", "delivered", "delivered", None, False, ""),
    ("mailgun", "failed_permanent_bounce", "failed", HARD, False, ""),
    ("mailgun", "failed_temporary", "deferred", None, False, ""),
    ("mailgun", "failed_suppress_bounce", "failed", REJECTED, False, ""),
    ("mailgun", "failed_suppress_complaint", "failed", REJECTED, False, ""),
    ("mailgun", "opened", "opened", None, False, ""),
    ("mailgun", "clicked", "clicked", None, False, ""),
    ("mailgun", "complained", "spam_report", SPAM, False, ""),
    ("mailgun", "unsubscribed", None, None, True, ""),
    ("mailgun", "rejected", "failed", None, False, "sender"),
    ("mailgun", "failed_temporary_no_mx", "deferred", None, False, ""),
    ("mailgun", "failed_temporary_espblock", "deferred", None, False, ""),
    ("mailgun", "failed_temporary_greylisted", "deferred", None, False, ""),
    ("mailgun", "failed_temporary_blacklisted", "deferred", None, False, ""),
    ("mailgun", "failed_temporary_old", "failed", None, False, "temporary"),
    ("mailgun", "failed_permanent_old", "failed", None, False, "temporary"),
    ("mailgun", "failed_permanent_bounce_mailbox_full", "failed", None, False, "temporary"),
    ("mailgun", "failed_permanent_bounce_policy", "failed", None, False, "sender"),
    ("mailgun", "failed_permanent_generic", "failed", None, False, ""),
    ("mailgun", "failed_permanent_delayed_bounce", "failed", HARD, False, ""),
    ("mailgun", "failed_permanent_espblock", "failed", None, False, "sender"),
    ("mailgun", "failed_permanent_blacklisted", "failed", None, False, "sender"),
    ("mailgun", "failed_suppress_unsubscribe", "failed", "unsubscribed", False, ""),
    ("mailgun", "failed_hardfail_605", "failed", REJECTED, False, ""),
    ("mailgun", "failed_hardfail_606", "failed", "unsubscribed", False, ""),
    ("mailgun", "failed_hardfail_607", "failed", REJECTED, False, ""),
    ("postmark", "delivery", "delivered", None, False, ""),
    ("postmark", "bounce_hard", "failed", HARD, False, ""),
    ("postmark", "bounce_soft", "failed", None, False, "temporary"),
    ("postmark", "bounce_transient", "deferred", None, False, ""),
    ("postmark", "bounce_dns_error", "deferred", None, False, ""),
    ("postmark", "bounce_inactive", "failed", REJECTED, False, ""),
    ("postmark", "spam_complaint", "spam_report", SPAM, False, ""),
    ("postmark", "open", "opened", None, False, ""),
    ("postmark", "click", "clicked", None, False, ""),
    ("postmark", "subscription_change", None, None, True, ""),
    ("postmark", "bounce_hard_policy", "failed", None, False, "sender"),
    ("postmark", "bounce_bad_email_address", "failed", "invalid_address", False, ""),
    ("postmark", "bounce_unknown", "failed", None, False, ""),
    ("postmark", "bounce_unconfirmed", "failed", None, False, ""),
    ("postmark", "bounce_blocked", "failed", None, False, "sender"),
    ("postmark", "bounce_dmarc_policy", "failed", None, False, "sender"),
    ("postmark", "bounce_virus_notification", "failed", None, False, "sender"),
    ("postmark", "bounce_template_rendering_failed", "failed", None, False, "sender"),
    ("postmark", "bounce_smtp_api_error", "failed", None, False, "sender"),
    ("postmark", "bounce_smtp_api_error_inactive", "failed", REJECTED, False, ""),
    ("postmark", "bounce_unsubscribe", None, None, True, ""),
    ("postmark", "bounce_subscribe", None, None, False, ""),
    ("postmark", "bounce_auto_responder", None, None, False, ""),
    ("postmark", "bounce_address_change", None, None, False, ""),
    ("postmark", "bounce_spam_notification", None, None, False, ""),
    ("postmark", "bounce_open_relay_test", None, None, False, ""),
    ("postmark", "bounce_challenge_verification", None, None, False, ""),
    ("postmark", "bounce_inbound_error", None, None, False, ""),
    ("postmark", "subscription_change_hard_bounce", None, None, False, ""),
    ("postmark", "subscription_change_spam_complaint", None, None, False, ""),
    ("amazon_ses", "send", "processed", None, False, ""),
    ("amazon_ses", "delivery", "delivered", None, False, ""),
    ("amazon_ses", "bounce_permanent", "failed", HARD, False, ""),
    ("amazon_ses", "bounce_transient", "failed", None, False, "temporary"),
    ("amazon_ses", "bounce_suppressed", "failed", REJECTED, False, ""),
    ("amazon_ses", "complaint", "spam_report", SPAM, False, ""),
    ("amazon_ses", "delivery_delay", "deferred", None, False, ""),
    ("amazon_ses", "open", "opened", None, False, ""),
    ("amazon_ses", "click", "clicked", None, False, ""),
    ("amazon_ses", "reject", "failed", None, False, "sender"),
    ("amazon_ses", "rendering_failure", "failed", None, False, "sender"),
    ("amazon_ses", "bounce_permanent_no_email", "failed", HARD, False, ""),
    ("amazon_ses", "bounce_permanent_suppressed_global", "failed", REJECTED, False, ""),
    ("amazon_ses", "bounce_transient_general", "failed", None, False, "temporary"),
    ("amazon_ses", "bounce_transient_message_too_large", "failed", None, False, "sender"),
    ("amazon_ses", "bounce_transient_content_rejected", "failed", None, False, "sender"),
    ("amazon_ses", "bounce_transient_attachment_rejected", "failed", None, False, "sender"),
    ("amazon_ses", "bounce_undetermined", "failed", None, False, ""),
    ("amazon_ses", "complaint_fraud", "spam_report", SPAM, False, ""),
    ("amazon_ses", "complaint_other", "spam_report", SPAM, False, ""),
    ("amazon_ses", "complaint_no_feedback_report", "spam_report", SPAM, False, ""),
    ("amazon_ses", "complaint_not_spam", None, None, False, ""),
    ("amazon_ses", "complaint_on_account_suppression_list", "failed", REJECTED, False, ""),
    ("amazon_ses", "delivery_delay_internal_failure", "deferred", None, False, ""),
    ("amazon_ses", "delivery_delay_general", "deferred", None, False, ""),
    ("amazon_ses", "delivery_delay_mailbox_full", "deferred", None, False, ""),
    ("amazon_ses", "delivery_delay_spam_detected", "deferred", None, False, ""),
    ("amazon_ses", "delivery_delay_recipient_server_error", "deferred", None, False, ""),
    ("amazon_ses", "delivery_delay_ip_failure", "deferred", None, False, ""),
    (
        "amazon_ses",
        "delivery_delay_byoip_host_name_lookup_unavailable",
        "deferred",
        None,
        False,
        "",
    ),
    ("amazon_ses", "delivery_delay_undetermined", "deferred", None, False, ""),
    ("amazon_ses", "delivery_delay_sending_deferral", "deferred", None, False, ""),
    ("amazon_ses", "notification_bounce_permanent", "failed", HARD, False, ""),
    ("amazon_ses", "notification_complaint", "spam_report", SPAM, False, ""),
    ("amazon_ses", "notification_delivery", "delivered", None, False, ""),
    ("sendgrid", "processed", "processed", None, False, ""),
    ("sendgrid", "dropped", "failed", REJECTED, False, ""),
    ("sendgrid", "deferred", "deferred", None, False, ""),
    ("sendgrid", "delivered", "delivered", None, False, ""),
    ("sendgrid", "bounce", "failed", HARD, False, ""),
    ("sendgrid", "blocked", "failed", None, False, "sender"),
    ("sendgrid", "open", "opened", None, False, ""),
    ("sendgrid", "click", "clicked", None, False, ""),
    ("sendgrid", "spamreport", "spam_report", SPAM, False, ""),
    ("sendgrid", "unsubscribe", None, None, True, ""),
    ("sendgrid", "bounce_mailbox_unavailable", "failed", None, False, "temporary"),
    ("sendgrid", "bounce_reputation", "failed", None, False, "sender"),
    ("sendgrid", "bounce_content", "failed", None, False, "sender"),
    ("sendgrid", "bounce_frequency_volume", "failed", None, False, "sender"),
    ("sendgrid", "bounce_unclassified", "failed", HARD, False, ""),
    ("sendgrid", "blocked_content", "failed", None, False, "sender"),
    ("sendgrid", "blocked_mailbox_unavailable", "failed", None, False, "temporary"),
    ("sendgrid", "blocked_technical", "failed", None, False, "temporary"),
    ("sendgrid", "blocked_unclassified", "failed", None, False, "temporary"),
    ("sendgrid", "dropped_unsubscribed_address", "failed", "unsubscribed", False, ""),
    ("sendgrid", "dropped_spam_reporting_address", "failed", REJECTED, False, ""),
    ("sendgrid", "dropped_invalid", "failed", "invalid_address", False, ""),
    ("sendgrid", "dropped_invalid_smtpapi_header", "failed", None, False, "sender"),
    ("sendgrid", "dropped_spam_content", "failed", None, False, "sender"),
    ("sendgrid", "dropped_recipient_list_over_package_quota", "failed", None, False, "sender"),
    ("sendgrid", "open_machine", "opened", None, False, ""),
    ("sendgrid", "group_unsubscribe", None, None, True, ""),
    ("sendgrid", "group_resubscribe", None, None, False, ""),
    ("sendgrid", "blocked_invalid_address", "failed", None, False, "temporary"),
    ("sendgrid", "blocked_frequency_volume", "failed", None, False, "sender"),
    ("sendgrid", "bounce_technical", "failed", None, False, "sender"),  # a DMARC reply
    ("amazon_ses", "complaint_auth_failure", None, None, False, ""),
    ("amazon_ses", "complaint_virus", None, None, False, ""),
    # Documented, with a fixture, and read as nothing here: SES's contact-list subscription
    # events (list management, which the platform does not use; docs/esp-events.md).
]


@pytest.fixture
def mailgun_fixture_key(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_FIXTURE_KEY}


@pytest.mark.parametrize(("esp", "name", "status", "suppressed", "opted_out", "cause"), CASES)
def test_each_event_gives_its_status_and_consequence(
    client, cast, mailgun_fixture_key, esp, name, status, suppressed, opted_out, cause
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
    assert email.failure_cause == cause
    if suppressed:
        suppression = Suppression.objects.get(address="bob@example.test", stream=esp)
        assert suppression.reason == suppressed
        assert suppression.source_email_id == email.id
        assert not bob.appointment_comms
        assert [note.recipient for note in notes] == [cast.alice]
    else:
        assert not Suppression.objects.exists()
        assert bob.appointment_comms is not opted_out
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
    from tests.factories import ClientFactory
    from tests.tracking.helpers import load

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
