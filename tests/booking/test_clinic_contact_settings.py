"""A clinic admin sets the address, phone and how to cancel or reschedule on the settings page;
the next appointment email carries them."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope

from clinic.models import Client, Clinic
from messaging.sending.triggers import appointment_book


@pytest.mark.usefixtures("eager_celery")
def test_the_clinics_contact_details_are_set_in_settings_and_printed_on_a_confirmation(
    client, cast
):
    client.force_login(cast.alice_admin)
    page = client.get("/settings/").content.decode()
    for label in ("Clinic address", "Clinic phone", "How to cancel or reschedule"):
        assert label in page
    response = client.post(
        "/settings/",
        {
            "time_zone": "Europe/London",
            "reminder_lead_hours": 24,
            "postal_address": "Aoife O’Brien Clinic\r\n3 Quay Street\r\nGalway",
            "phone": "+353 91 555 010",
            "booking_changes": "Reply to this email or call us a day before.",
            "sending_connection": "platform_esp",
            "smtp_port": 587,
            "smtp_security": "starttls",
            "track_engagement": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    clinic = Clinic.objects.get(pk=cast.alice_clinic.pk)
    assert clinic.phone == "+353 91 555 010"
    start = timezone.now() + timedelta(days=3)
    with scope(clinic=clinic):
        appointment = appointment_book(
            client=Client.objects.get(pk=cast.bob.pk),
            practitioner=cast.alice,
            start=start,
            end=start + timedelta(hours=1),
        )
        confirmation = appointment.emails.get()
    assert "To cancel or reschedule: Reply to this email or call us a day before." in (
        confirmation.body_text
    )
    assert "Phone: +353 91 555 010" in confirmation.body_text
    assert "Aoife O’Brien Clinic<br>3 Quay Street<br>Galway" in confirmation.body_html
