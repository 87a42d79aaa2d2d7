"""A booking, a change and a cancellation each send the client one email, made here, through
the API or in support's admin; each carries the clinic's address, phone and how to change the
booking, and its subject holds only the kind, the date and time, and the clinic."""

from datetime import timedelta

import pytest
from django_scopes import scope, scopes_disabled

from messaging.models import EmailKind, OutboundEmail
from messaging.sending.triggers import (
    AppointmentNotBooked,
    appointment_book,
    appointment_cancel,
    appointment_change,
    reminder_prepare,
)
from tests.booking.dates import at, next_clock_change

pytestmark = pytest.mark.usefixtures("eager_celery")

# The next Sunday New York's clocks go back at 02:00 EDT to 01:00 EST, and 10:00 the days
# either side of it: the same wall-clock time, an hour apart in UTC offset.
BACK = next_clock_change(forward=False)
SATURDAY, MONDAY = BACK - timedelta(days=1), BACK + timedelta(days=1)
SATURDAY_10_EDT, MONDAY_10_EST = at(SATURDAY, 10), at(MONDAY, 10)


@pytest.fixture
def new_york(harbour):
    """The booking tests' New York clinic (tests/booking/conftest.py), entered."""
    with scope(clinic=harbour.clinic):
        yield harbour


def emails_of(client) -> list[OutboundEmail]:
    with scopes_disabled():
        return list(OutboundEmail.objects.filter(client=client).order_by("created_at"))


def test_book_change_and_cancel_send_one_email_each_across_the_clocks_going_back(
    new_york, esp_simulator, django_capture_on_commit_callbacks
):
    practitioner, other, client = new_york.practitioner, new_york.other, new_york.client
    with django_capture_on_commit_callbacks(execute=True):
        appointment = appointment_book(
            client=client,
            practitioner=practitioner,
            start=SATURDAY_10_EDT,
            end=SATURDAY_10_EDT + timedelta(hours=1),
        )
        appointment_change(appointment=appointment, start=MONDAY_10_EST, practitioner=other)
        appointment_change(appointment=appointment, start=MONDAY_10_EST, practitioner=other)
        appointment_cancel(appointment=appointment)
        appointment_cancel(appointment=appointment)
    confirmation, change, cancellation = emails_of(client)
    assert [confirmation.kind, change.kind, cancellation.kind] == [
        EmailKind.APPOINTMENT_CONFIRMATION,
        EmailKind.APPOINTMENT_CHANGE,
        EmailKind.APPOINTMENT_CANCELLATION,
    ]
    # 10:00 on the clinic's clock both sides of the change of clock (EDT, then EST).
    assert confirmation.subject == (
        f"Your appointment at Harbour Physio on {SATURDAY:%A %-d %B} at 10:00 (New York time)"
    )
    assert change.subject == (
        f"Changed: your appointment at Harbour Physio is now on {MONDAY:%A %-d %B} at 10:00 "
        "(New York time)"
    )
    assert f"now with Nina Patel on {MONDAY:%A %-d %B %Y} at 10:00" in change.body_text
    assert f"It was with Aoife O’Brien on {SATURDAY:%A %-d %B %Y} at 10:00." in change.body_text
    assert (SATURDAY_10_EDT.hour, MONDAY_10_EST.hour) == (14, 15)  # either side of the change
    # The length was kept: an hour, in elapsed time.
    appointment.refresh_from_db()
    assert appointment.end - appointment.start == timedelta(hours=1)
    assert len(esp_simulator.messages(recipient="lukasz@example.test")) == 3


def test_a_change_that_moves_nothing_sends_nothing_and_a_cancelled_one_cannot_move(
    new_york, django_capture_on_commit_callbacks
):
    practitioner, client = new_york.practitioner, new_york.client
    appointment = appointment_book(
        client=client,
        practitioner=practitioner,
        start=SATURDAY_10_EDT,
        end=SATURDAY_10_EDT + timedelta(hours=1),
    )
    appointment_change(appointment=appointment, start=SATURDAY_10_EDT, practitioner=practitioner)
    appointment_change(appointment=appointment, end=SATURDAY_10_EDT + timedelta(hours=2))
    assert [email.kind for email in emails_of(client)] == [EmailKind.APPOINTMENT_CONFIRMATION]
    appointment_cancel(appointment=appointment)
    with pytest.raises(AppointmentNotBooked):
        appointment_change(appointment=appointment, start=MONDAY_10_EST)
    assert len(emails_of(client)) == 2


def test_every_appointment_email_says_where_and_how_to_cancel_or_reschedule(new_york):
    practitioner, other, client = new_york.practitioner, new_york.other, new_york.client
    appointment = appointment_book(
        client=client,
        practitioner=practitioner,
        start=SATURDAY_10_EDT,
        end=SATURDAY_10_EDT + timedelta(hours=1),
    )
    appointment_change(appointment=appointment, practitioner=other)
    reminder_prepare(appointment=appointment)
    appointment_cancel(appointment=appointment)
    emails = emails_of(client)
    assert {email.kind for email in emails} == {
        EmailKind.APPOINTMENT_CONFIRMATION,
        EmailKind.APPOINTMENT_CHANGE,
        EmailKind.APPOINTMENT_REMINDER,
        EmailKind.APPOINTMENT_CANCELLATION,
    }
    for email in emails:
        assert "To cancel or reschedule: Call us at least 24 hours before." in email.body_text
        assert "Phone: +1 718 555 0100" in email.body_text
        assert "12 Water Street\nBrooklyn, NY 11201" in email.body_text
        assert "12 Water Street<br>Brooklyn, NY 11201" in email.body_html
        assert "Call us at least 24 hours before." in email.body_html


# Words that would tell anyone who sees a subject line (a shared inbox, a lock screen) why the
# client sees the clinic: the practitioner, the appointment's length, anything typed about it.
def test_subjects_hold_only_the_kind_the_date_and_time_and_the_clinic(new_york):
    practitioner, client = new_york.practitioner, new_york.client
    appointment = appointment_book(
        client=client,
        practitioner=practitioner,
        start=SATURDAY_10_EDT,
        end=SATURDAY_10_EDT + timedelta(minutes=45),
    )
    appointment_change(appointment=appointment, start=MONDAY_10_EST)
    reminder_prepare(appointment=appointment)
    appointment_cancel(appointment=appointment)
    allowed = {
        EmailKind.APPOINTMENT_CONFIRMATION: "Your appointment at Harbour Physio on {day} at 10:00 "
        "(New York time)",
        EmailKind.APPOINTMENT_CHANGE: "Changed: your appointment at Harbour Physio is now on "
        "{day} at 10:00 (New York time)",
        EmailKind.APPOINTMENT_REMINDER: "Reminder: your appointment at Harbour Physio on {day} "
        "at 10:00 (New York time)",
        EmailKind.APPOINTMENT_CANCELLATION: "Cancelled: your appointment at Harbour Physio on "
        "{day} at 10:00 (New York time)",
    }
    emails = emails_of(client)
    assert len(emails) == 4
    for email in emails:
        day = SATURDAY if email.kind == "appointment_confirmation" else MONDAY
        day = f"{day:%A %-d %B}"
        assert email.subject == allowed[email.kind].format(day=day)
        for private in ("Aoife", "O’Brien", "Żółć", "Łukasz", "45", "physio session"):
            assert private not in email.subject
