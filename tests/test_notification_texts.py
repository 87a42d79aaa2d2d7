"""Each kind of notification is worded by its template in templates/notifications/, word for word
as the staff have read it so far."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from clinic.models import Client, Clinic
from messaging.models import EmailKind, OutboundEmail
from notifications.rendering import notification_render

LONDON = Clinic(name="Alice Physio", time_zone="Europe/London")


@pytest.fixture
def email() -> OutboundEmail:
    return OutboundEmail(
        kind=EmailKind.APPOINTMENT_REMINDER,
        client=Client(name="Bob O'Brien & Sons"),
        to_email="bob@example.test",
        reason='The email provider said "no" <550>.',
        sent_at=datetime(2026, 3, 1, 9, 5, tzinfo=UTC),
    )


def test_a_failed_email(email):
    assert notification_render("email_failed", {"email": email}, clinic=LONDON) == (
        'Appointment reminder to Bob O\'Brien & Sons failed. The email provider said "no" <550>.'
    )


def test_an_email_not_sent_says_so_once(email):
    email.reason = "The client is opted out of appointment communications."
    assert notification_render("email_not_sent", {"email": email}, clinic=LONDON) == (
        "Appointment reminder to Bob O'Brien & Sons: Not sent. "
        "The client is opted out of appointment communications."
    )


def test_a_spam_complaint_after_delivery(email):
    text = notification_render(
        "address_reported_spam",
        {"email": email, "reason_words": "Only the client can lift it.", "diagnostic": ""},
        clinic=LONDON,
    )
    assert text == (
        "Appointment reminder to Bob O'Brien & Sons was delivered, and then marked as spam in "
        "the client's mailbox: bob@example.test will not be emailed again. Only the client can "
        "lift it."
    )


@pytest.mark.parametrize(
    ("diagnostic", "tail"),
    [("550 5.1.1 no such user", " Provider said: 550 5.1.1 no such user"), ("", "")],
)
def test_a_suppressed_address(email, diagnostic, tail):
    text = notification_render(
        "address_suppressed",
        {
            "email": email,
            "reason_words": "Emails to this address bounce.",
            "diagnostic": diagnostic,
        },
        clinic=LONDON,
    )
    assert text == (
        "Appointment reminder to Bob O'Brien & Sons failed and bob@example.test will not be "
        "emailed again. Emails to this address bounce." + tail
    )


@pytest.mark.parametrize(
    ("zone", "sent_at", "clock"),
    [
        # New York's clocks go forward on 8 March 2026 and back on 1 November 2026.
        ("America/New_York", datetime(2026, 3, 8, 6, 55, tzinfo=UTC), "01:55 EST"),
        ("America/New_York", datetime(2026, 3, 8, 7, 5, tzinfo=UTC), "03:05 EDT"),
        ("America/New_York", datetime(2026, 11, 1, 5, 30, tzinfo=UTC), "01:30 EDT"),
        ("America/New_York", datetime(2026, 11, 1, 6, 30, tzinfo=UTC), "01:30 EST"),
        # London's go forward on 29 March 2026 and back on 25 October 2026.
        ("Europe/London", datetime(2026, 3, 29, 0, 59, tzinfo=UTC), "00:59 GMT"),
        ("Europe/London", datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "02:00 BST"),
        ("Europe/London", datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "01:30 BST"),
        ("Europe/London", datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "01:30 GMT"),
    ],
)
def test_a_stuck_email_is_timed_on_the_clinics_clock_with_its_zone(email, zone, sent_at, clock):
    email.sent_at = sent_at
    with timezone.override("Australia/Sydney"):  # a worker's own zone does not matter
        text = notification_render("email_stuck", {"email": email}, clinic=Clinic(time_zone=zone))
    assert text == (
        f"Appointment reminder to Bob O'Brien & Sons was handed to the email provider at {clock} "
        "and nothing has been heard of it since. Support has been flagged; the client may not "
        "have received it."
    )


def test_an_email_waiting_to_be_sent_is_timed_on_the_clinics_clock(email):
    email.created_at = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
    text = notification_render(
        "email_stuck_sending", {"email": email}, clinic=Clinic(time_zone="America/New_York")
    )
    assert "has waited to be sent since 10:00 EST and no attempt is under way" in text
