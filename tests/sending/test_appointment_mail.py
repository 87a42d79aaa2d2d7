from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from messaging.models import EmailKind, OutboundEmail
from messaging.sending.selectors import appointments_due_for_reminder
from messaging.sending.tasks import reminders_send_task
from messaging.sending.triggers import (
    appointment_book,
    appointment_cancel,
    appointment_change,
    reminder_prepare,
)
from tests.factories import AppointmentFactory, ClinicFactory

pytestmark = pytest.mark.usefixtures("eager_celery")


def kinds_sent_to(client) -> list[str]:
    with scopes_disabled():
        return sorted(OutboundEmail.objects.filter(client=client).values_list("kind", flat=True))


def test_booking_sends_a_confirmation_and_cancelling_a_notice(cast, esp_simulator):
    start = timezone.now() + timedelta(days=5)
    with scope(clinic=cast.alice_clinic):
        appointment = appointment_book(
            client=cast.bob, practitioner=cast.alice, start=start, end=start + timedelta(hours=1)
        )
        appointment_cancel(appointment=appointment)
        appointment_cancel(appointment=appointment)
    assert kinds_sent_to(cast.bob) == [
        EmailKind.APPOINTMENT_CANCELLATION,
        EmailKind.APPOINTMENT_CONFIRMATION,
    ]


def test_a_reminder_is_due_at_the_local_time_across_daylight_saving(cast):
    # Sunday 25 October 2026, 10:00 in London (GMT again): due 10:00 BST on Saturday = 09:00 UTC.
    with scopes_disabled():
        appointment = AppointmentFactory(
            client=cast.bob, practitioner=cast.alice, start=datetime(2026, 10, 25, 10, tzinfo=UTC)
        )
        assert appointments_due_for_reminder(now=datetime(2026, 10, 24, 8, 59, tzinfo=UTC)) == []
        assert appointments_due_for_reminder(now=datetime(2026, 10, 24, 9, 0, tzinfo=UTC)) == [
            appointment
        ]


def test_the_clinics_own_lead_time_is_used(cast):
    cast.alice_clinic.reminder_lead_hours = 48
    cast.alice_clinic.save()
    start = datetime(2026, 6, 10, 14, tzinfo=UTC)
    with scopes_disabled():
        appointment = AppointmentFactory(client=cast.bob, practitioner=cast.alice, start=start)
        assert appointments_due_for_reminder(now=start - timedelta(hours=49)) == []
        assert appointments_due_for_reminder(now=start - timedelta(hours=48)) == [appointment]


def test_cancelled_and_past_appointments_get_no_reminder(cast):
    now = timezone.now()
    with scopes_disabled():
        AppointmentFactory(client=cast.bob, start=now + timedelta(hours=2), status="cancelled")
        AppointmentFactory(client=cast.bob, start=now - timedelta(hours=2))
        assert appointments_due_for_reminder(now=now) == []


def test_each_reminder_is_sent_once(cast, esp_simulator, django_capture_on_commit_callbacks):
    with scopes_disabled():
        AppointmentFactory(
            client=cast.bob, practitioner=cast.alice, start=timezone.now() + timedelta(hours=3)
        )
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_send_task() == 1
        assert reminders_send_task() == 0
    assert kinds_sent_to(cast.bob) == [EmailKind.APPOINTMENT_REMINDER]
    assert len(esp_simulator.messages(recipient="bob@example.test")) == 1


def test_a_second_reminder_for_one_appointment_is_refused_by_the_database(cast):
    with scopes_disabled():
        appointment = AppointmentFactory(client=cast.bob, practitioner=cast.alice)
    with scope(clinic=cast.alice_clinic):
        assert reminder_prepare(appointment=appointment) is not None
        assert reminder_prepare(appointment=appointment) is None
    assert kinds_sent_to(cast.bob) == [EmailKind.APPOINTMENT_REMINDER]


def reminded_times(appointment) -> list:
    with scopes_disabled():
        return list(
            OutboundEmail.objects.filter(
                appointment=appointment, kind=EmailKind.APPOINTMENT_REMINDER
            )
            .order_by("created_at")
            .values_list("appointment_start", flat=True)
        )


def test_a_moved_appointment_is_reminded_again_for_its_new_time_only(
    cast, esp_simulator, django_capture_on_commit_callbacks
):
    first = timezone.now() + timedelta(hours=3)
    later = first + timedelta(hours=2)
    with scopes_disabled():
        appointment = AppointmentFactory(client=cast.bob, practitioner=cast.alice, start=first)
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_send_task() == 1
        with scope(clinic=cast.alice_clinic):
            appointment_change(appointment=appointment, start=later)
        assert reminders_send_task() == 1
        assert reminders_send_task() == 0
        with scope(clinic=cast.alice_clinic):
            appointment_change(appointment=appointment, start=first)  # back to a time reminded of
        assert reminders_send_task() == 0
    assert reminded_times(appointment) == [first, later]
    with scopes_disabled():
        reminders = OutboundEmail.objects.filter(kind=EmailKind.APPOINTMENT_REMINDER)
        assert all(len(esp_simulator.messages(email_id=str(r.pk))) == 1 for r in reminders)


def test_a_moved_then_cancelled_appointment_gets_no_new_reminder(
    cast, django_capture_on_commit_callbacks
):
    first = timezone.now() + timedelta(hours=3)
    with scopes_disabled():
        appointment = AppointmentFactory(client=cast.bob, practitioner=cast.alice, start=first)
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_send_task() == 1
        with scope(clinic=cast.alice_clinic):
            appointment_change(appointment=appointment, start=first + timedelta(hours=1))
            appointment_cancel(appointment=appointment)
        assert reminders_send_task() == 0
    assert reminded_times(appointment) == [first]


# 10:00 local on the Sunday of each change, and its reminder 24 wall-clock hours before (UTC),
# worked out by hand (tests/sending/test_send_policy.py).
EACH_CHANGE = [
    (
        "America/New_York",
        datetime(2026, 3, 8, 14, tzinfo=UTC),
        datetime(2026, 3, 7, 15, tzinfo=UTC),
    ),
    (
        "America/New_York",
        datetime(2026, 11, 1, 15, tzinfo=UTC),
        datetime(2026, 10, 31, 14, tzinfo=UTC),
    ),
    ("Australia/Sydney", datetime(2026, 4, 5, 0, tzinfo=UTC), datetime(2026, 4, 3, 23, tzinfo=UTC)),
    (
        "Australia/Sydney",
        datetime(2026, 10, 3, 23, tzinfo=UTC),
        datetime(2026, 10, 3, 0, tzinfo=UTC),
    ),
    ("Europe/London", datetime(2026, 3, 29, 9, tzinfo=UTC), datetime(2026, 3, 28, 10, tzinfo=UTC)),
]


@pytest.mark.parametrize(
    ("zone", "start", "due"),
    EACH_CHANGE,
    ids=[f"{zone}-{start:%b}" for zone, start, _ in EACH_CHANGE],
)
def test_each_clinics_reminder_is_due_on_its_own_wall_clock(cast, zone, start, due):
    with scopes_disabled():
        clinic = ClinicFactory(time_zone=zone)
        appointment = AppointmentFactory(client__clinic=clinic, clinic=clinic, start=start)
        assert appointments_due_for_reminder(now=due - timedelta(minutes=1)) == []
        assert appointments_due_for_reminder(now=due) == [appointment]
