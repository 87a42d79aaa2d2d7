"""A booking made in support's admin or through the API sends the client the same emails as one
made on the client page: a confirmation, an update when it moves, a cancellation."""

from datetime import UTC, datetime

import pytest
from django_scopes import scopes_disabled
from knox.models import AuthToken
from rest_framework.test import APIClient

from clinic.models import Appointment
from messaging.models import EmailKind, OutboundEmail
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


def admin_form(harbour, *, practitioner, day, utc_time, status="booked"):
    """Support's admin reads and writes UTC (its pages say so)."""
    return {
        "clinic": harbour.clinic.pk,
        "client": harbour.client.pk,
        "practitioner": practitioner.pk,
        "start_0": day,
        "start_1": utc_time,
        "end_0": day,
        "end_1": f"{int(utc_time[:2]) + 1:02d}:00",
        "status": status,
    }


def test_support_books_moves_and_cancels_in_admin_and_the_client_is_told_each_time(
    client, harbour, esp_simulator, django_capture_on_commit_callbacks
):
    support_login(client, harbour.cast.support)
    with django_capture_on_commit_callbacks(execute=True):
        added = client.post(
            "/admin/clinic/appointment/add/",
            admin_form(
                harbour, practitioner=harbour.practitioner, day="2026-11-02", utc_time="15:00"
            ),
        )
    assert added.status_code == 302, added.content.decode()[:2000]
    with scopes_disabled():
        appointment = Appointment.objects.get(client=harbour.client)
    page = f"/admin/clinic/appointment/{appointment.pk}/change/"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            page,
            admin_form(harbour, practitioner=harbour.other, day="2026-11-03", utc_time="15:00"),
        )
        # Saved again unchanged: nothing new to tell.
        client.post(
            page,
            admin_form(harbour, practitioner=harbour.other, day="2026-11-03", utc_time="15:00"),
        )
        client.post(
            page,
            admin_form(
                harbour,
                practitioner=harbour.other,
                day="2026-11-03",
                utc_time="15:00",
                status="cancelled",
            ),
        )
    assert kinds_sent(harbour.client) == [CONFIRMATION, CHANGE, CANCELLATION]
    # Written in UTC by support, read by the client on the clinic's clock.
    assert "Monday 2 November at 10:00 (New York time)" in subjects_sent(harbour.client)[0]
    assert "Tuesday 3 November at 10:00 (New York time)" in subjects_sent(harbour.client)[1]
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
                "start": "2026-11-02T10:00:00-05:00",
                "duration_minutes": 45,
                "practitioner": harbour.practitioner.pk,
            },
            format="json",
        )
    assert booked.status_code == 201, booked.json()
    appointment = booked.json()
    assert appointment["start"] == "2026-11-02T15:00:00+00:00"
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
            {"start": "2026-11-04T10:00:00-05:00"},
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
        {"start": "2026-11-02T10:00:00", "practitioner": harbour.practitioner.pk},
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
        {"start": "2026-11-02T10:00:00-05:00", "practitioner": harbour.cast.charlie.pk},
        format="json",
    )
    assert booked.status_code == 404
    with scopes_disabled():
        appointment = Appointment.objects.create(
            clinic=harbour.clinic,
            client=harbour.client,
            practitioner=harbour.practitioner,
            start=datetime(2026, 11, 2, 15, tzinfo=UTC),
            end=datetime(2026, 11, 2, 16, tzinfo=UTC),
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
        {"start": "2026-11-02T10:00:00-05:00", "practitioner": harbour.cast.charlie.pk},
        format="json",
    )
    assert answer.status_code == 400
    assert kinds_sent(harbour.client) == []
