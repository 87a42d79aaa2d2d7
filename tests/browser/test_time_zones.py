"""A clinic's staff read every time on their clinic's clock, as its clients do in their emails:
a clinic admin in New York reads the upcoming appointment and its reminder (rendered by a real
Celery worker, sent through the ESP simulator) at the same local time; a London practitioner
books an appointment on the Sunday the clocks change and reads it, on a phone, as the client's
confirmation says it."""

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from playwright.sync_api import expect

from clinic.models import Membership
from messaging.models import EmailKind, OutboundEmail
from messaging.sending.tasks import reminders_send_task
from messaging.sending.triggers import appointment_book
from tests.browser.conftest import log_in, screenshot, support_log_in
from tests.factories import (
    PASSWORD,
    AppointmentFactory,
    ClientFactory,
    ClinicFactory,
    MembershipFactory,
)
from tests.processes import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.integration]

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


def next_weekday(after: date, weekday: int, *, at_least: int) -> date:
    day = after + timedelta(days=at_least)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def next_clock_change(zone: ZoneInfo, after: date) -> date:
    """The next day whose clock goes forward or back in the zone."""
    day = after + timedelta(days=1)
    while (
        datetime.combine(day, time(0), zone).utcoffset()
        == datetime.combine(day + timedelta(days=1), time(0), zone).utcoffset()
    ):
        day += timedelta(days=1)
    return day


def local_ten_oclock(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(10, 0), zone)


def no_horizontal_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"the page is {width}px wide"


def test_a_new_york_admin_reads_the_appointment_and_its_reminder_at_the_same_time(
    esp_simulator, start_worker, new_page
):
    friday = next_weekday(timezone.localdate(timezone=NEW_YORK), 4, at_least=2)
    start = local_ten_oclock(friday, NEW_YORK)
    with scopes_disabled():
        clinic = ClinicFactory(
            name="O’Brien & Ní Bhriain Physiotherapy",
            time_zone="America/New_York",
            reminder_lead_hours=24 * 7,  # so its reminder is due now
        )
        admin = MembershipFactory(
            clinic=clinic, user__email="niamh@obrien.test", role=Membership.Role.CLINIC_ADMIN
        ).user
        aoife = ClientFactory(clinic=clinic, name="Aoife O’Brien", email="aoife@example.test")
        AppointmentFactory(
            client=aoife, practitioner=admin, start=start, end=start + timedelta(hours=1)
        )
    start_worker()
    reminders_send_task.delay()  # the beat's job, in the worker: rendered there, in UTC
    wait_for(lambda: esp_simulator.messages(), timeout=60)
    sent = esp_simulator.messages()[0]

    day_words = f"{start:%A} {start.day} {start:%B}"
    subject = f"Reminder: your appointment at {clinic.name} on {day_words} at 10:00 (New York time)"
    assert sent["subject"] == subject
    with scope(clinic=clinic):
        email = OutboundEmail.objects.get(kind=EmailKind.APPOINTMENT_REMINDER)
    assert f"on {day_words} {start:%Y} at 10:00 (New York time)." in email.body_text

    page = new_page()
    log_in(page, "niamh@obrien.test", PASSWORD)
    page.goto(f"/clients/{aoife.pk}/")
    upcoming = page.get_by_role("region", name="Upcoming appointments")
    expect(upcoming).to_contain_text(f"{start:%a} {start.day} {start:%b %Y}, 10:00 with")
    reminder = page.locator("#email-log .email").filter(has_text="Reminder")
    expect(reminder.locator(".subject")).to_have_text(subject)
    expect(reminder.locator(".badge")).to_have_text("Delivered", timeout=45_000)

    logged = timezone.localtime(email.created_at, NEW_YORK)
    expect(reminder.locator(".when")).to_have_text(f"{logged.day} {logged:%b %Y, %H:%M}")
    reminder.locator("summary").click()
    with scope(clinic=clinic):
        delivered = email.events.get(status="delivered").occurred_at
    delivered_at = timezone.localtime(delivered, NEW_YORK)
    expect(reminder.locator(".timeline")).to_contain_text(
        f"{delivered_at.day} {delivered_at:%b, %H:%M:%S}"
    )
    expect(page.locator("footer")).to_have_text(
        "Times are in New York time (America/New_York), the clinic's time zone."
    )
    screenshot(page, "time-zone-new-york")


def test_a_london_booking_on_the_day_the_clocks_change_reads_the_same_on_a_phone(
    esp_simulator, start_worker, new_page
):
    sunday = next_clock_change(LONDON, timezone.localdate(timezone=LONDON))
    start = local_ten_oclock(sunday, LONDON)
    with scopes_disabled():
        clinic = ClinicFactory(name="Łódź Osteo — Gabinet Żółć", time_zone="Europe/London")
        practitioner = MembershipFactory(clinic=clinic, user__email="lukasz@lodz.test").user
        lukasz = ClientFactory(clinic=clinic, name="Łukasz Żółć", email="lukasz@example.test")
    start_worker()
    with scope(clinic=clinic):
        appointment_book(
            client=lukasz, practitioner=practitioner, start=start, end=start + timedelta(hours=1)
        )
    wait_for(lambda: esp_simulator.messages(), timeout=60)
    day_words = f"{start:%A} {start.day} {start:%B}"
    subject = f"Your appointment at {clinic.name} on {day_words} at 10:00 (London time)"
    assert esp_simulator.messages()[0]["subject"] == subject

    page = new_page(width=390, height=844)
    log_in(page, "lukasz@lodz.test", PASSWORD)
    page.goto(f"/clients/{lukasz.pk}/")
    upcoming = page.get_by_role("region", name="Upcoming appointments")
    expect(upcoming).to_contain_text(f"{start:%a} {start.day} {start:%b %Y}, 10:00 with")
    utc_hour = start.astimezone(ZoneInfo("UTC")).strftime("%H:%M")
    if utc_hour != "10:00":
        expect(upcoming).not_to_contain_text(utc_hour)
    expect(page.locator("#email-log .subject").first).to_have_text(subject)
    expect(page.locator("footer")).to_contain_text(re.compile(r"Times are in London time"))
    no_horizontal_scroll(page)
    screenshot(page, "time-zone-london-phone")


def test_support_reads_admin_in_utc_and_each_clinics_emails_on_its_clock(cast, new_page):
    from tests.factories import OutboundEmailFactory

    with scopes_disabled():
        clinic = ClinicFactory(name="O’Brien & Ní Bhriain Physiotherapy", time_zone=NEW_YORK.key)
        aoife = ClientFactory(clinic=clinic, name="Aoife O’Brien", email="aoife@example.test")
        email = OutboundEmailFactory(client=aoife, subject="Your exercise plan")
    shown = timezone.localtime(email.created_at, NEW_YORK)
    page = new_page()
    support_log_in(page, cast.support, PASSWORD)
    page.goto("/admin/messaging/outboundemail/")
    expect(page.locator("#zone-note")).to_have_text(
        "Times are UTC unless a zone is named beside them (a clinic's rows: its own clock)."
    )
    row = page.get_by_role("row").filter(has_text="aoife@example.test")
    expect(row).to_contain_text(f"{shown.day} {shown:%b %Y, %H:%M} {shown.tzname()}")
    screenshot(page, "time-zone-admin")
