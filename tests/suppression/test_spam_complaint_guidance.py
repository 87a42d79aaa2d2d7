"""Wherever a spam complaint is explained, it says where the client writes to lift it (the
setting SUPPORT_EMAIL), and nothing tells staff to ask support instead; the notification of a
complaint says the email was delivered, not that it failed."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from clinic.models import Client
from messaging.sending.triggers import appointment_book
from notifications.models import Notification
from suppression.models import SuppressionReason
from suppression.selectors import address_block
from suppression.services import suppression_record
from tests.tracking.helpers import post_fixture, tracked_email

SUPPORT = "removals@aoife-physio.test"


@pytest.fixture(autouse=True)
def support_address(settings):
    settings.SUPPORT_EMAIL = SUPPORT


def suppressed(cast, reason, clinic=None):
    return suppression_record(
        address="bob@example.test",
        stream="mailgun",
        reason=reason,
        clinic=cast.alice_clinic if clinic is None else clinic,
    )


def test_a_spam_complaint_names_the_address_the_client_writes_to(cast):
    complaint = suppressed(cast, SuppressionReason.SPAM_COMPLAINT)
    assert f"ask them to email {SUPPORT} from this address" in complaint.words
    block = address_block(clinic=cast.alice_clinic, address="bob@example.test")
    assert SUPPORT in block.words
    assert block.what_to_do == (
        f"Only the client can lift it, by emailing {SUPPORT} from this address; if the "
        "address is wrong, correct it."
    )
    assert "ask support to reactivate" not in block.what_to_do


def test_a_bounce_is_corrected_or_reactivated_by_support(cast):
    bounce = suppressed(cast, SuppressionReason.HARD_BOUNCE)
    assert SUPPORT not in bounce.words
    block = address_block(clinic=cast.alice_clinic, address="bob@example.test")
    assert block.what_to_do == "Correct the address, or ask support to reactivate it."


def test_another_clinics_complaint_is_not_disclosed_in_what_to_do(cast):
    suppressed(cast, SuppressionReason.SPAM_COMPLAINT, clinic=cast.charlie_clinic)
    block = address_block(clinic=cast.alice_clinic, address="bob@example.test")
    assert not block.disclosed
    assert SUPPORT not in block.what_to_do


def test_the_client_page_tells_staff_where_the_client_writes(client, cast):
    suppressed(cast, SuppressionReason.SPAM_COMPLAINT)
    with scopes_disabled():
        Client.objects.filter(pk=cast.bob.pk).update(appointment_comms=False)
    client.force_login(cast.alice)
    body = client.get(f"/clients/{cast.bob.pk}/").content.decode()
    assert f"ask them to email {SUPPORT} from this address" in body
    assert f"Only the client can lift it, by emailing {SUPPORT}" in body
    assert "ask support to reactivate it" not in body


def test_a_complaint_after_delivery_is_told_as_one_not_as_a_failure(client, cast, settings):
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "MAILGUN_WEBHOOK_SIGNING_KEY": "key-fixture-mailgun-signing",
    }
    tracked_email(
        cast.alice_clinic, cast.bob, esp="mailgun", sent_by=cast.alice, status="delivered"
    )
    post_fixture(client, "mailgun", "complained")
    with scopes_disabled():
        [note] = Notification.objects.filter(recipient=cast.alice)
        bob = Client.objects.get(pk=cast.bob.pk)
    assert note.text.startswith(
        "Direct message to Bob Brown was delivered, and then marked as spam in the client's "
        "mailbox: bob@example.test will not be emailed again."
    )
    assert "failed" not in note.text
    assert f"ask them to email {SUPPORT} from this address" in note.text
    assert SUPPORT in bob.appointment_comms_reason


def test_a_refused_triggered_email_says_not_sent_once(cast, django_capture_on_commit_callbacks):
    suppressed(cast, SuppressionReason.HARD_BOUNCE)
    start = timezone.now() + timedelta(days=3)
    with scope(clinic=cast.alice_clinic), django_capture_on_commit_callbacks(execute=True):
        appointment_book(
            client=cast.bob, practitioner=cast.alice, start=start, end=start + timedelta(hours=1)
        )
    with scopes_disabled():
        [note] = Notification.objects.filter(recipient=cast.alice)
    assert note.text.lower().count("not sent") == 1, note.text
    assert note.text.startswith("Appointment confirmation to Bob Brown: Not sent. Emails to")
