"""Every time a person reads is on the clinic's own clock: the client page, its live refresh, the
notifications, the API tokens page, the reminder email and notification texts, and support's
admin (UTC, said so, with each clinic's rows also on that clinic's clock, named). The JSON API
stays in UTC with an explicit offset.

Each case is a clinic in America/New_York or Europe/London on the Sunday its clock changes, with
an appointment at 10:00 local time and an email logged in the hour after (or twice over) the
change, where UTC, standard time and summer time all read differently."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from django.utils.formats import date_format
from django_scopes import scope, scopes_disabled

from clinic.models import Membership, SmartFormRequest
from messaging.models import EmailKind, OutboundEmail
from messaging.sending.triggers import reminders_send
from messaging.tracking.stuck import email_flag_stuck
from notifications.models import Notification
from suppression.selectors import mail_permission
from tests.factories import (
    AppointmentFactory,
    AuditEntryFactory,
    ClientFactory,
    ClinicFactory,
    EmailEventFactory,
    MembershipFactory,
    OutboundEmailFactory,
    SmartFormRequestFactory,
)
from tests.otp import support_login


@dataclass(frozen=True)
class Sunday:
    """A clock-change Sunday in one clinic's zone, worked out by hand."""

    zone: str
    place: str  # the zone as the client's email names it
    appointment_utc: datetime  # 10:00 on the clinic's clock
    appointment_page: str  # as the client page shows it
    appointment_email: str  # as the reminder's subject shows it
    logged_utc: datetime  # an email logged just after the change
    logged_page: str
    logged_admin: str  # on the clinic's clock, the zone named
    logged_utc_page: str  # what a UTC page would have shown: must not appear


SUNDAYS = [
    # New York: 02:00 EST becomes 03:00 EDT on 8 March; 02:00 EDT becomes 01:00 EST on 1 November.
    Sunday(
        "America/New_York",
        "New York time",
        datetime(2026, 3, 8, 14, 0, tzinfo=UTC),
        "Sun 8 Mar 2026, 10:00",
        "Sunday 8 March at 10:00 (New York time)",
        datetime(2026, 3, 8, 7, 5, tzinfo=UTC),
        "8 Mar 2026, 03:05",
        "8 Mar 2026, 03:05 EDT",
        "8 Mar 2026, 07:05",
    ),
    Sunday(
        "America/New_York",
        "New York time",
        datetime(2026, 11, 1, 15, 0, tzinfo=UTC),
        "Sun 1 Nov 2026, 10:00",
        "Sunday 1 November at 10:00 (New York time)",
        datetime(2026, 11, 1, 6, 30, tzinfo=UTC),  # the second 01:30 of the night
        "1 Nov 2026, 01:30",
        "1 Nov 2026, 01:30 EST",
        "1 Nov 2026, 06:30",
    ),
    # London: 01:00 GMT becomes 02:00 BST on 29 March; 02:00 BST becomes 01:00 GMT on 25 October.
    Sunday(
        "Europe/London",
        "London time",
        datetime(2026, 3, 29, 9, 0, tzinfo=UTC),
        "Sun 29 Mar 2026, 10:00",
        "Sunday 29 March at 10:00 (London time)",
        datetime(2026, 3, 29, 1, 5, tzinfo=UTC),
        "29 Mar 2026, 02:05",
        "29 Mar 2026, 02:05 BST",
        "29 Mar 2026, 01:05",
    ),
    Sunday(
        "Europe/London",
        "London time",
        datetime(2026, 10, 25, 10, 0, tzinfo=UTC),  # GMT again: 10:00 is 10:00 UTC
        "Sun 25 Oct 2026, 10:00",
        "Sunday 25 October at 10:00 (London time)",
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # the first 01:30 of the night
        "25 Oct 2026, 01:30",
        "25 Oct 2026, 01:30 BST",
        "25 Oct 2026, 00:30",
    ),
]
IDS = [f"{sunday.zone}-{sunday.appointment_utc:%b}" for sunday in SUNDAYS]


@pytest.fixture(params=SUNDAYS, ids=IDS)
def sunday(request) -> Sunday:
    return request.param


@pytest.fixture
def day(db, clock, sunday):
    """A clinic on its clock-change Sunday, an hour before Aoife O’Brien's 10:00 appointment,
    with an email logged just after the change and a smart form she completed then."""
    clock.move_to(sunday.logged_utc)
    with scopes_disabled():
        clinic = ClinicFactory(name="O’Brien & Ní Bhriain Physiotherapy", time_zone=sunday.zone)
        practitioner = MembershipFactory(
            clinic=clinic, user__email="niamh@obrien.test", role=Membership.Role.CLINIC_ADMIN
        ).user
        aoife = ClientFactory(clinic=clinic, name="Aoife O’Brien", email="aoife@example.test")
        appointment = AppointmentFactory(
            client=aoife, practitioner=practitioner, start=sunday.appointment_utc
        )
        email = OutboundEmailFactory(
            client=aoife, subject="Your exercise plan", sent_by=practitioner
        )
        EmailEventFactory(email=email, occurred_at=sunday.logged_utc + timedelta(minutes=10))
        SmartFormRequestFactory(
            client=aoife,
            state=SmartFormRequest.State.COMPLETED,
            completed_at=sunday.logged_utc,
        )
    clock.move_to(sunday.appointment_utc - timedelta(hours=1))
    return clinic, practitioner, aoife, appointment, email


def test_the_client_page_reads_the_clinics_clock(client, sunday, day):
    clinic, practitioner, aoife, _, _ = day
    client.force_login(practitioner)
    page = client.get(f"/clients/{aoife.pk}/").content.decode()

    assert f"{sunday.appointment_page} with " in page  # Upcoming appointments
    assert f'<span class="when">{sunday.logged_page}</span>' in page  # the email log
    event_at = timezone.localtime(sunday.logged_utc + timedelta(minutes=10), clinic.tzinfo)
    assert f"{event_at:%-d %b, %H:%M:%S}</time>" in page  # its timeline
    assert f"</span> {sunday.logged_page}" in page  # the smart form, completed
    assert sunday.logged_utc_page not in page
    assert f"Times are in {sunday.place} ({sunday.zone}), the clinic's time zone." in page

    refreshed = client.get(f"/clients/{aoife.pk}/emails/log/").content.decode()
    assert f'<span class="when">{sunday.logged_page}</span>' in refreshed


def test_the_reminder_names_the_time_the_page_shows(client, sunday, day, clock):
    clinic, *_ = day
    # Rendered by a worker whose own clock is elsewhere: only the clinic's counts.
    with timezone.override("Australia/Sydney"):
        assert reminders_send(now=timezone.now()) == 1
    with scope(clinic=clinic):
        reminder = OutboundEmail.objects.get(kind=EmailKind.APPOINTMENT_REMINDER)
    assert reminder.subject == (
        f"Reminder: your appointment at {clinic.name} on {sunday.appointment_email}"
    )
    day_words, time_words = sunday.appointment_email.split(" at ")
    in_full = f"on {day_words} 2026 at {time_words}."
    assert in_full in reminder.body_text
    assert f"{day_words} 2026 at 10:00</strong> ({sunday.place})" in reminder.body_html


def test_a_notification_names_the_clinics_clock(client, sunday, day, clock):
    clinic, practitioner, _, _, email = day
    clock.move_to(sunday.logged_utc)
    with scope(clinic=clinic):
        OutboundEmail.objects.filter(pk=email.pk).update(
            status="processed", sent_at=sunday.logged_utc
        )
        email.refresh_from_db()
        with timezone.override("UTC"):  # the stuck-email sweep runs in a worker, in UTC
            assert email_flag_stuck(email=email)
        note = Notification.objects.get()
    clock_words = sunday.logged_admin.split(", ")[1]
    assert f"was handed to the email provider at {clock_words} and nothing" in note.text

    client.force_login(practitioner)
    page = client.get("/notifications/").content.decode()
    assert f">{sunday.logged_page}</time>" in page


def test_support_reads_utc_and_each_clinics_rows_on_its_own_clock(client, cast, sunday, day):
    clinic, _, _, _, email = day
    with scopes_disabled():
        AuditEntryFactory(clinic=None, target="Clinic-less entry")
        type(email).objects.filter(pk=email.pk).update(created_at=sunday.logged_utc)
    support_login(client, cast.support)

    emails = client.get("/admin/messaging/outboundemail/").content.decode()
    assert "Times are UTC unless a zone is named beside them" in emails
    assert sunday.logged_admin in emails
    appointments = client.get("/admin/clinic/appointment/").content.decode()
    start = timezone.localtime(sunday.appointment_utc, clinic.tzinfo)
    assert f"{start:%-d %b %Y}, 10:00 {start.tzname()}" in appointments
    with scopes_disabled():
        appointment = clinic.appointments.get()
    one_appointment = client.get(f"/admin/clinic/appointment/{appointment.pk}/change/")
    assert f"Aoife O’Brien at {start:%-d %b %Y}, 10:00 {start.tzname()}" in (
        one_appointment.content.decode()
    )
    one_email = client.get(f"/admin/messaging/outboundemail/{email.pk}/change/").content.decode()
    assert "Created (clinic time)" in one_email
    assert sunday.logged_admin in one_email
    audit = client.get("/admin/clinic/auditentry/").content.decode()
    assert " UTC</a></th>" in audit  # the entry with no clinic: UTC, named


def test_support_with_a_clinic_of_their_own_still_reads_admin_in_utc(client, cast, sunday, day):
    clinic, _, _, _, email = day
    with scopes_disabled():
        MembershipFactory(clinic=clinic, user=cast.support)
        type(email).objects.filter(pk=email.pk).update(created_at=sunday.logged_utc)
    support_login(client, cast.support)
    page = client.get(f"/admin/messaging/outboundemail/{email.pk}/change/").content.decode()
    assert date_format(sunday.logged_utc, "DATETIME_FORMAT") in page  # created_at, in UTC
    on_clinic_clock = date_format(
        timezone.localtime(sunday.logged_utc, clinic.tzinfo), "DATETIME_FORMAT"
    )
    assert on_clinic_clock not in page


def test_the_api_keeps_utc_with_its_offset(client, sunday, day):
    _, practitioner, aoife, _, email = day
    with scopes_disabled():
        type(email).objects.filter(pk=email.pk).update(created_at=sunday.logged_utc)
    client.force_login(practitioner)
    body = client.get(f"/api/clients/{aoife.pk}/emails").json()
    assert body["emails"][0]["created_at"] == sunday.logged_utc.isoformat()
    assert body["emails"][0]["created_at"].endswith("+00:00")


def test_the_api_tokens_page_reads_the_clinics_clock(client, sunday, day, clock):
    _, practitioner, *_ = day
    clock.move_to(sunday.logged_utc)
    client.force_login(practitioner)
    page = client.post("/settings/api-tokens/").content.decode()
    assert f"<td>{sunday.logged_page}</td>" in page  # created


def test_an_opt_out_just_before_midnight_is_dated_by_the_clinics_calendar(db, clock):
    """23:30 on 7 March in New York is already 8 March in UTC."""
    with scopes_disabled():
        clinic = ClinicFactory(time_zone="America/New_York")
        aoife = ClientFactory(clinic=clinic, name="Aoife O’Brien")
    clock.move_to(datetime(2026, 3, 8, 4, 30, tzinfo=UTC))
    with scope(clinic=clinic):
        from suppression.services import client_opt_out

        client_opt_out(client=aoife, reason="Asked at reception")
        aoife.refresh_from_db()
        permission = mail_permission(client=aoife, appointment_mail=True)
    assert "opted out of appointment communications since 07 Mar 2026." in permission.words


def test_a_suppression_is_dated_by_the_clinics_calendar(client, clock, db):
    with scopes_disabled():
        clinic = ClinicFactory(time_zone="America/New_York")
        staff = MembershipFactory(clinic=clinic).user
        aoife = ClientFactory(clinic=clinic, email="aoife.bounced@example.test")
    clock.move_to(datetime(2026, 3, 8, 4, 30, tzinfo=UTC))  # 23:30 on 7 March in New York
    from suppression.services import suppression_record

    suppression_record(address=aoife.email, stream="mailgun", reason="hard_bounce", clinic=clinic)
    client.force_login(staff)
    page = client.get(f"/clients/{aoife.pk}/").content.decode()
    assert " since 7 Mar 2026." in page
    assert " since 8 Mar 2026." not in page
