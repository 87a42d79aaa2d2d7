"""Each kind of notification is worded by its template in templates/notifications/, word for word
as the staff have read it so far."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from clinic.models import Client
from messaging.models import EmailKind, OutboundEmail
from notifications.rendering import notification_render


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
    assert notification_render("email_failed", {"email": email}) == (
        'Appointment reminder to Bob O\'Brien & Sons failed. The email provider said "no" <550>.'
    )


def test_an_email_not_sent(email):
    assert notification_render("email_not_sent", {"email": email}) == (
        "Appointment reminder to Bob O'Brien & Sons was not sent. "
        'The email provider said "no" <550>.'
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
    )
    assert text == (
        "Appointment reminder to Bob O'Brien & Sons failed and bob@example.test will not be "
        "emailed again. Emails to this address bounce." + tail
    )


def test_a_stuck_email_is_timed_in_utc_whatever_the_time_zone(email):
    with timezone.override("Europe/Paris"):
        text = notification_render("email_stuck", {"email": email})
    assert text == (
        "Appointment reminder to Bob O'Brien & Sons was handed to the email provider at 09:05 UTC "
        "and nothing has been heard of it since. Support has been flagged; the client may not "
        "have received it."
    )
