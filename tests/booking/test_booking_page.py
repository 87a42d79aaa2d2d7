"""The booking form on the client page reads the time on the clinic's clock: a time the clock
skips is refused, a time it shows twice is asked about, and the confirmation goes at once."""

import re
from datetime import UTC, datetime, time, timedelta

import pytest
from django_scopes import scopes_disabled

from clinic.models import Appointment
from messaging.models import EmailKind, OutboundEmail
from tests.booking.dates import NEW_YORK, at, next_clock_change, next_weekday

pytestmark = pytest.mark.usefixtures("eager_celery")

# A Monday to come; the next nights New York's clocks go forward (02:00 to 03:00) and back
# (02:00 EDT to 01:00 EST), found from today, so these cases never fall into the past.
MONDAY = next_weekday(0)
FORWARD, BACK = next_clock_change(forward=True), next_clock_change(forward=False)


def book(browser, harbour, **fields):
    data = {
        "booking-day": f"{MONDAY}",
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
    zone = at(MONDAY, 10).astimezone(NEW_YORK).tzname()
    assert f"Booked for {MONDAY:%A %-d %B %Y}, 10:00 {zone} with Aoife O’Brien" in body
    (appointment,) = appointments_of(harbour.client)
    assert appointment.start == at(MONDAY, 10)
    assert (appointment.end - appointment.start).seconds == 3600
    (confirmation,) = emails_of(harbour.client)
    assert confirmation.kind == EmailKind.APPOINTMENT_CONFIRMATION
    assert "at 10:00 (New York time)" in confirmation.subject
    assert len(esp_simulator.messages(recipient="lukasz@example.test")) == 1


def test_a_time_the_clocks_skip_is_refused_and_nothing_is_booked(client, harbour):
    page = book(client, harbour, day=f"{FORWARD}", time="02:30")
    assert page.status_code == 400
    body = page.content.decode()
    assert f"02:30 on {FORWARD:%-d %B %Y} does not exist in New York time" in body
    assert f'value="{FORWARD}"' in body  # what was typed is kept
    assert appointments_of(harbour.client) == []
    assert emails_of(harbour.client) == []


def test_a_time_the_clocks_show_twice_is_asked_about_then_booked_as_chosen(client, harbour):
    # 01:30 happens at 05:30 UTC (EDT) and again an hour later, at 06:30 UTC (EST).
    page = book(client, harbour, day=f"{BACK}", time="01:30")
    assert page.status_code == 400
    body = page.content.decode()
    assert f"01:30 on {BACK:%-d %B %Y} happens twice in New York time" in body
    assert "The first 01:30 EDT (before the clocks go back)" in body
    assert "The second 01:30 EST (after the clocks go back)" in body
    assert appointments_of(harbour.client) == []

    page = book(client, harbour, day=f"{BACK}", time="01:30", occurrence="second")
    assert page.status_code == 200
    (appointment,) = appointments_of(harbour.client)
    second = datetime.combine(BACK, time(6, 30), UTC)
    assert appointment.start == second
    # An hour long in elapsed time, though the clock reads 01:30 to 01:30... then 02:30.
    assert appointment.end == second + timedelta(hours=1)
    (confirmation,) = emails_of(harbour.client)
    assert "at 01:30 (New York time)" in confirmation.subject


def test_a_time_that_has_passed_is_refused(client, harbour, clock):
    clock.move_to(at(MONDAY, 10, minute=1))  # 10:01 in New York
    page = book(client, harbour, day=f"{MONDAY}", time="10:00")
    assert page.status_code == 400
    assert f"10:00 on {MONDAY:%-d %B %Y} has passed in New York time." in page.content.decode()
    assert appointments_of(harbour.client) == []


def test_the_booking_page_has_one_heading_that_names_its_form(client, harbour):
    page = book(client, harbour, day=f"{FORWARD}", time="02:30")  # sent back to be corrected
    body = page.content.decode()
    headings = re.findall(r"<h[1-6][^>]*>([^<]*)</h[1-6]>", body)
    assert [h for h in headings if "Book an appointment" in h] == [
        "Book an appointment for Łukasz Żółć"
    ]
    assert 'aria-labelledby="book-page-heading"' in body
    client_page = client.get(f"/clients/{harbour.client.pk}/").content.decode()
    assert '<h3 id="book-heading">Book an appointment</h3>' in client_page
    assert 'aria-labelledby="book-heading"' in client_page


def test_another_clinics_practitioner_is_refused(client, harbour):
    page = book(client, harbour, practitioner=harbour.cast.charlie.pk)
    assert page.status_code == 400
    assert appointments_of(harbour.client) == []


def test_another_clinic_cannot_book_for_the_client(client, harbour):
    client.force_login(harbour.cast.charlie)
    page = client.post(
        f"/clients/{harbour.client.pk}/appointments/book/",
        {
            "booking-day": f"{MONDAY}",
            "booking-time": "10:00",
            "booking-practitioner": harbour.cast.charlie.pk,
            "booking-duration": "60",
        },
    )
    assert page.status_code == 404
    assert appointments_of(harbour.client) == []
