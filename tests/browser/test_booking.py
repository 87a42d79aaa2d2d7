"""A receptionist books from the client page on the clinic's clock: 10:00 typed in a New York
clinic is 10:00 in the client's confirmation and in the log; on a phone, a time the clocks skip
(or show twice) on the night they change is refused (or asked about) in words."""

from datetime import time
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from clinic.models import Appointment, Membership
from messaging.booking.local_time import local_time_read
from tests.browser.conftest import log_in, screenshot
from tests.browser.test_accessibility import assert_readable
from tests.browser.test_time_zones import next_clock_change, next_weekday, no_horizontal_scroll
from tests.factories import PASSWORD, ClientFactory, ClinicFactory, MembershipFactory

pytestmark = [pytest.mark.browser]

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def harbour(db):
    with scopes_disabled():
        clinic = ClinicFactory(
            name="Harbour Physio",
            time_zone="America/New_York",
            postal_address="12 Water Street\nBrooklyn, NY 11201",
            phone="+1 718 555 0100",
            booking_changes="Call us at least 24 hours before.",
        )
        MembershipFactory(clinic=clinic, user__first_name="Aoife", user__last_name="O’Brien")
        MembershipFactory(
            clinic=clinic, role=Membership.Role.RECEPTIONIST, user__email="desk@harbour.test"
        )
        client = ClientFactory(clinic=clinic, name="Łukasz Żółć", email="lukasz@example.test")
    return client


def book(page, day, at: str, practitioner: str = "Aoife O’Brien") -> None:
    form = page.get_by_role("form", name="Book an appointment")
    form.get_by_label("Date").fill(day.isoformat())
    form.get_by_label("Time").fill(at)
    form.get_by_label("Practitioner").select_option(label=practitioner)
    form.get_by_role("button", name="Book and send the confirmation").click()


def test_a_receptionist_books_at_ten_new_york_time_and_the_confirmation_says_ten(
    harbour, new_page, eager_celery, esp_simulator
):
    tuesday = next_weekday(timezone.localdate(timezone=NEW_YORK), 1, at_least=3)
    page = new_page()
    log_in(page, "desk@harbour.test", PASSWORD)
    page.goto(f"/clients/{harbour.pk}/")
    book(page, tuesday, "10:00")

    day_words = f"{tuesday:%A} {tuesday.day} {tuesday:%B}"
    expect(page.get_by_role("status")).to_contain_text(
        f"Booked for {day_words} {tuesday:%Y}, 10:00"
    )
    upcoming = page.get_by_role("region", name="Upcoming appointments")
    expect(upcoming).to_contain_text(f"{tuesday:%a} {tuesday.day} {tuesday:%b %Y}, 10:00 with")
    subject = f"Your appointment at Harbour Physio on {day_words} at 10:00 (New York time)"
    expect(page.locator("#email-log .subject").first).to_have_text(subject)
    with scopes_disabled():
        appointment = Appointment.objects.get(client=harbour)
    local = timezone.localtime(appointment.start, NEW_YORK)
    assert (local.date(), local.time()) == (tuesday, time(10, 0))
    assert_readable(page)
    # Handed to the email service: the log, refreshing itself, says so before the picture.
    expect(page.locator("#email-log .badge").first).to_have_text("Processed", timeout=15_000)
    assert len(esp_simulator.messages(recipient="lukasz@example.test")) == 1
    screenshot(page, "booking-1280")


def test_on_a_phone_a_time_the_clocks_skip_or_repeat_is_refused_or_asked_about(harbour, new_page):
    night = next_clock_change(NEW_YORK, timezone.localdate(timezone=NEW_YORK))
    forward = local_time_read(night, time(2, 30), NEW_YORK).skipped
    page = new_page(width=390, height=844)
    log_in(page, "desk@harbour.test", PASSWORD)
    page.goto(f"/clients/{harbour.pk}/")
    book(page, night, "02:30" if forward else "01:30")
    form = page.get_by_role("form", name="Book an appointment")
    if forward:
        expect(form.get_by_role("alert")).to_contain_text(
            f"02:30 on {night.day} {night:%B %Y} does not exist in New York time"
        )
    else:
        expect(form.get_by_role("alert")).to_contain_text("happens twice in New York time")
        form.get_by_label("The second 01:30 EST (after the clocks go back)").check()
    no_horizontal_scroll(page)
    assert_readable(page)
    screenshot(page, "booking-390")
    with scopes_disabled():
        assert not Appointment.objects.filter(client=harbour).exists()
    if not forward:
        form.get_by_role("button", name="Book and send the confirmation").click()
        expect(page.get_by_role("region", name="Upcoming appointments")).to_contain_text("01:30")
