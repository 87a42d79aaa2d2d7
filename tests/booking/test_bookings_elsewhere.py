"""A booking made in support's admin or through the API sends the client the same emails as one
made on the client page: a confirmation, an update when it moves, a cancellation."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled
from knox.models import AuthToken
from rest_framework.test import APIClient

from clinic.models import Appointment
from messaging.models import EmailKind, OutboundEmail
from tests.booking.dates import NEW_YORK, at, next_weekday
from tests.otp import support_login

pytestmark = pytest.mark.usefixtures("eager_celery")

CONFIRMATION, CHANGE, CANCELLATION = (
    EmailKind.APPOINTMENT_CONFIRMATION,
    EmailKind.APPOINTMENT_CHANGE,
    EmailKind.APPOINTMENT_CANCELLATION,
)


def kinds_sent(client) -> list[str]:
    with scopes_disabled():
        return list(
            OutboundEmail.objects.filter(client=client)
            .order_by("created_at")
            .values_list("kind", flat=True)
        )


def subjects_sent(client) -> list[str]:
    with scopes_disabled():
        return list(
            OutboundEmail.objects.filter(client=client)
            .order_by("created_at")
            .values_list("subject", flat=True)
        )


# A Monday and Tuesday to come, 10:00 in New York; and an hour that has just passed.
MONDAY = next_weekday(0)
TUESDAY = MONDAY + timedelta(days=1)


def admin_form(harbour, *, practitioner, start, status="booked"):
    """Support's admin reads and writes UTC (its pages say so)."""
    end = start + timedelta(hours=1)
    return {
        "clinic": harbour.clinic.pk,
        "client": harbour.client.pk,
        "practitioner": practitioner.pk,
        "start_0": f"{start:%Y-%m-%d}",
        "start_1": f"{start:%H:%M}",
        "end_0": f"{end:%Y-%m-%d}",
        "end_1": f"{end:%H:%M}",
        "status": status,
    }


def in_new_york(moment) -> str:
    """The moment as an API caller names it: ISO 8601 with New York's offset."""
    return moment.astimezone(NEW_YORK).isoformat()


def test_support_books_moves_and_cancels_in_admin_and_the_client_is_told_each_time(
    client, harbour, esp_simulator, django_capture_on_commit_callbacks
):
    support_login(client, harbour.cast.support)
    with django_capture_on_commit_callbacks(execute=True):
        added = client.post(
            "/admin/clinic/appointment/add/",
            admin_form(harbour, practitioner=harbour.practitioner, start=at(MONDAY, 10)),
        )
    assert added.status_code == 302, added.content.decode()[:2000]
    with scopes_disabled():
        appointment = Appointment.objects.get(client=harbour.client)
    page = f"/admin/clinic/appointment/{appointment.pk}/change/"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            page,
            admin_form(harbour, practitioner=harbour.other, start=at(TUESDAY, 10)),
        )
        # Saved again unchanged: nothing new to tell.
        client.post(
            page,
            admin_form(harbour, practitioner=harbour.other, start=at(TUESDAY, 10)),
        )
        client.post(
            page,
            admin_form(
                harbour, practitioner=harbour.other, start=at(TUESDAY, 10), status="cancelled"
            ),
        )
    assert kinds_sent(harbour.client) == [CONFIRMATION, CHANGE, CANCELLATION]
    # Written in UTC by support, read by the client on the clinic's clock.
    assert f"{MONDAY:%A %-d %B} at 10:00 (New York time)" in subjects_sent(harbour.client)[0]
    assert f"{TUESDAY:%A %-d %B} at 10:00 (New York time)" in subjects_sent(harbour.client)[1]
    assert len(esp_simulator.messages(recipient="lukasz@example.test")) == 3


@pytest.fixture
def api(harbour):
    api = APIClient()
    _, token = AuthToken.objects.create(user=harbour.receptionist)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


def test_the_api_books_moves_and_cancels_and_the_client_is_told_each_time(
    api, harbour, esp_simulator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booked = api.post(
            f"/api/clients/{harbour.client.pk}/appointments",
            {
                "start": in_new_york(at(MONDAY, 10)),
                "duration_minutes": 45,
                "practitioner": harbour.practitioner.pk,
            },
            format="json",
        )
    assert booked.status_code == 201, booked.json()
    appointment = booked.json()
    assert appointment["start"] == at(MONDAY, 10).isoformat()
    assert [email["kind"] for email in appointment["emails"]] == [CONFIRMATION]
    with django_capture_on_commit_callbacks(execute=True):
        moved = api.patch(
            f"/api/appointments/{appointment['id']}",
            {"practitioner": harbour.other.pk},
            format="json",
        )
        cancelled = api.delete(f"/api/appointments/{appointment['id']}")
        again = api.delete(f"/api/appointments/{appointment['id']}")
        refused = api.patch(
            f"/api/appointments/{appointment['id']}",
            {"start": in_new_york(at(TUESDAY, 10))},
            format="json",
        )
    assert moved.status_code == 200 and moved.json()["practitioner"] == harbour.other.pk
    assert cancelled.json()["status"] == "cancelled" and again.status_code == 200
    assert refused.status_code == 409
    assert kinds_sent(harbour.client) == [CONFIRMATION, CHANGE, CANCELLATION]
    assert len(esp_simulator.messages(recipient="lukasz@example.test")) == 3


def test_the_api_refuses_a_time_without_its_offset(api, harbour):
    answer = api.post(
        f"/api/clients/{harbour.client.pk}/appointments",
        {"start": f"{MONDAY}T10:00:00", "practitioner": harbour.practitioner.pk},
        format="json",
    )
    assert answer.status_code == 400
    assert "offset" in str(answer.json()["start"])
    assert kinds_sent(harbour.client) == []


def test_another_clinic_gets_404_for_the_clinics_client_and_appointment(harbour):
    api = APIClient()
    _, token = AuthToken.objects.create(user=harbour.cast.charlie)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    booked = api.post(
        f"/api/clients/{harbour.client.pk}/appointments",
        {"start": in_new_york(at(MONDAY, 10)), "practitioner": harbour.cast.charlie.pk},
        format="json",
    )
    assert booked.status_code == 404
    with scopes_disabled():
        appointment = Appointment.objects.create(
            clinic=harbour.clinic,
            client=harbour.client,
            practitioner=harbour.practitioner,
            start=at(MONDAY, 10),
            end=at(MONDAY, 11),
        )
    assert api.delete(f"/api/appointments/{appointment.pk}").status_code == 404
    assert api.patch(f"/api/appointments/{appointment.pk}", {}, format="json").status_code == 404
    with scopes_disabled():
        appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED
    assert kinds_sent(harbour.client) == []


def test_the_api_refuses_another_clinics_practitioner(api, harbour):
    answer = api.post(
        f"/api/clients/{harbour.client.pk}/appointments",
        {"start": in_new_york(at(MONDAY, 10)), "practitioner": harbour.cast.charlie.pk},
        format="json",
    )
    assert answer.status_code == 400
    assert kinds_sent(harbour.client) == []


def passed_hour():
    """10:00 New York time on a day already gone, and how the refusal names it."""
    yesterday = timezone.localdate(timezone=NEW_YORK) - timedelta(days=1)
    return at(yesterday, 10), f"10:00 on {yesterday:%-d %B %Y} has passed in New York time."


def test_the_api_refuses_to_book_or_move_into_the_past_naming_the_field(
    api, harbour, django_capture_on_commit_callbacks
):
    past, words = passed_hour()
    refused = api.post(
        f"/api/clients/{harbour.client.pk}/appointments",
        {"start": in_new_york(past), "practitioner": harbour.practitioner.pk},
        format="json",
    )
    assert refused.status_code == 400
    assert refused.json() == {"start": [f"{words} Choose a time to come."]}
    with scopes_disabled():
        assert not Appointment.objects.filter(client=harbour.client).exists()

    with django_capture_on_commit_callbacks(execute=True):
        booked = api.post(
            f"/api/clients/{harbour.client.pk}/appointments",
            {"start": in_new_york(at(MONDAY, 10)), "practitioner": harbour.practitioner.pk},
            format="json",
        ).json()
        moved = api.patch(
            f"/api/appointments/{booked['id']}", {"start": in_new_york(past)}, format="json"
        )
        # Its length alone may change: the start stays where it was.
        longer = api.patch(
            f"/api/appointments/{booked['id']}", {"duration_minutes": 90}, format="json"
        )
    assert moved.status_code == 400 and words in moved.json()["start"][0]
    assert longer.status_code == 200 and longer.json()["start"] == at(MONDAY, 10).isoformat()
    assert kinds_sent(harbour.client) == [CONFIRMATION]


def test_support_cannot_book_or_move_into_the_past_but_can_cancel_a_past_one(
    client, harbour, django_capture_on_commit_callbacks
):
    past, words = passed_hour()
    support_login(client, harbour.cast.support)
    page = client.post(
        "/admin/clinic/appointment/add/",
        admin_form(harbour, practitioner=harbour.practitioner, start=past),
    )
    assert page.status_code == 200
    body = page.content.decode()
    assert words in body and 'id="id_start_0"' in body
    with scopes_disabled():
        assert not Appointment.objects.filter(client=harbour.client).exists()
        booked = Appointment.objects.create(
            clinic=harbour.clinic,
            client=harbour.client,
            practitioner=harbour.practitioner,
            start=at(MONDAY, 10),
            end=at(MONDAY, 11),
        )
        gone = Appointment.objects.create(
            clinic=harbour.clinic,
            client=harbour.client,
            practitioner=harbour.practitioner,
            start=past,
            end=past + timedelta(hours=1),
        )
    moved = client.post(
        f"/admin/clinic/appointment/{booked.pk}/change/",
        admin_form(harbour, practitioner=harbour.practitioner, start=past),
    )
    assert moved.status_code == 200 and words in moved.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        cancelled = client.post(
            f"/admin/clinic/appointment/{gone.pk}/change/",
            admin_form(harbour, practitioner=harbour.practitioner, start=past, status="cancelled"),
        )
    assert cancelled.status_code == 302
    with scopes_disabled():
        booked.refresh_from_db()
        gone.refresh_from_db()
    assert booked.start == at(MONDAY, 10)
    assert gone.status == Appointment.Status.CANCELLED
    assert kinds_sent(harbour.client) == [CANCELLATION]
