"""The booking form on the client page reads the time on the clinic's clock: a time the clock
skips is refused, a time it shows twice is asked about, and the confirmation goes at once."""

import re
from datetime import UTC, datetime

import pytest
from django_scopes import scopes_disabled

from clinic.models import Appointment
from messaging.models import EmailKind, OutboundEmail

pytestmark = pytest.mark.usefixtures("eager_celery", "in_january_2026")


@pytest.fixture
def in_january_2026(clock):
    """Before both of New York's clock changes of 2026 (8 March, 1 November)."""
    clock.move_to(datetime(2026, 1, 15, 12, tzinfo=UTC))
    return clock


def book(browser, harbour, **fields):
    data = {
        "booking-day": "2026-11-02",
        "booking-time": "10:00",
        "booking-practitioner": harbour.practitioner.pk,
        "booking-duration": "60",
        **{f"booking-{name}": value for name, value in fields.items()},
    }
    browser.force_login(harbour.receptionist)
    return browser.post(f"/clients/{harbour.client.pk}/appointments/book/", data, follow=True)


def appointments_of(client) -> list[Appointment]:
    with scopes_disabled():
        return list(Appointment.objects.filter(client=client))


def emails_of(client) -> list[OutboundEmail]:
    with scopes_disabled():
        return list(OutboundEmail.objects.filter(client=client))


def test_the_client_page_offers_the_clinics_practitioners_not_its_receptionists(client, harbour):
    client.force_login(harbour.receptionist)
    body = client.get(f"/clients/{harbour.client.pk}/").content.decode()
    assert "Book an appointment" in body
    assert "Aoife O’Brien" in body and "Nina Patel" in body
    [choices] = re.findall(r'<select name="booking-practitioner".*?</select>', body, re.DOTALL)
    assert f'<option value="{harbour.practitioner.pk}"' in choices
    assert f'<option value="{harbour.receptionist.pk}"' not in choices
    assert "أويفه" not in choices
    assert "On the clinic&#x27;s clock (New York time)." in body


def test_a_receptionist_books_and_the_confirmation_goes_at_once(
    client, harbour, esp_simulator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        page = book(client, harbour)
    body = page.content.decode()
    assert "Booked for Monday 2 November 2026, 10:00 EST with Aoife O’Brien" in body
    (appointment,) = appointments_of(harbour.client)
    assert appointment.start == datetime(2026, 11, 2, 15, tzinfo=UTC)
    assert (appointment.end - appointment.start).seconds == 3600
    (confirmation,) = emails_of(harbour.client)
    assert confirmation.kind == EmailKind.APPOINTMENT_CONFIRMATION
    assert "at 10:00 (New York time)" in confirmation.subject
    assert len(esp_simulator.messages(recipient="lukasz@example.test")) == 1


def test_a_time_the_clocks_skip_is_refused_and_nothing_is_booked(client, harbour):
    # Sunday 8 March 2026: New York's clocks go from 02:00 straight to 03:00.
    page = book(client, harbour, day="2026-03-08", time="02:30")
    assert page.status_code == 400
    body = page.content.decode()
    assert "02:30 on 8 March 2026 does not exist in New York time" in body
    assert 'value="2026-03-08"' in body  # what was typed is kept
    assert appointments_of(harbour.client) == []
    assert emails_of(harbour.client) == []


def test_a_time_the_clocks_show_twice_is_asked_about_then_booked_as_chosen(client, harbour):
    # Sunday 1 November 2026: 01:30 happens at 05:30 UTC (EDT) and again at 06:30 UTC (EST).
    page = book(client, harbour, day="2026-11-01", time="01:30")
    assert page.status_code == 400
    body = page.content.decode()
    assert "01:30 on 1 November 2026 happens twice in New York time" in body
    assert "The first 01:30 EDT (before the clocks go back)" in body
    assert "The second 01:30 EST (after the clocks go back)" in body
    assert appointments_of(harbour.client) == []

    page = book(client, harbour, day="2026-11-01", time="01:30", occurrence="second")
    assert page.status_code == 200
    (appointment,) = appointments_of(harbour.client)
    assert appointment.start == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    # An hour long in elapsed time, though the clock reads 01:30 to 01:30... then 02:30.
    assert appointment.end == datetime(2026, 11, 1, 7, 30, tzinfo=UTC)
    (confirmation,) = emails_of(harbour.client)
    assert "at 01:30 (New York time)" in confirmation.subject


def test_a_time_that_has_passed_is_refused(client, harbour, in_january_2026):
    in_january_2026.move_to(datetime(2026, 11, 2, 15, 1, tzinfo=UTC))  # 10:01 in New York
    page = book(client, harbour, day="2026-11-02", time="10:00")
    assert page.status_code == 400
    assert "10:00 on 2 November 2026 has passed in New York time." in page.content.decode()
    assert appointments_of(harbour.client) == []


def test_another_clinics_practitioner_is_refused(client, harbour):
    page = book(client, harbour, practitioner=harbour.cast.charlie.pk)
    assert page.status_code == 400
    assert appointments_of(harbour.client) == []


def test_another_clinic_cannot_book_for_the_client(client, harbour):
    client.force_login(harbour.cast.charlie)
    page = client.post(
        f"/clients/{harbour.client.pk}/appointments/book/",
        {
            "booking-day": "2026-11-02",
            "booking-time": "10:00",
            "booking-practitioner": harbour.cast.charlie.pk,
            "booking-duration": "60",
        },
    )
    assert page.status_code == 404
    assert appointments_of(harbour.client) == []
