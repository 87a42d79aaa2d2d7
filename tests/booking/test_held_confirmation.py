"""Booking while the clinic's mail to new addresses is held: the appointment is booked, and the
page says the confirmation was held, not sent, and why; the practitioner is told too."""

import pytest
from django_scopes import scopes_disabled

from messaging.models import OutboundEmail
from messaging.status import EmailStatus
from notifications.models import Notification
from tests.booking.dates import next_weekday
from tests.factories import MailHoldFactory

pytestmark = pytest.mark.usefixtures("eager_celery")


def test_a_held_confirmation_is_said_on_the_page(
    client, harbour, esp_simulator, django_capture_on_commit_callbacks
):
    with scopes_disabled():
        MailHoldFactory(clinic=harbour.clinic)
    client.force_login(harbour.receptionist)
    data = {
        "booking-day": f"{next_weekday(0)}",
        "booking-time": "10:00",
        "booking-practitioner": harbour.practitioner.pk,
        "booking-duration": "60",
    }
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(f"/clients/{harbour.client.pk}/appointments/book/", data, follow=True)
    body = page.content.decode()
    assert "The confirmation was held, not sent yet. Too many of this clinic" in body
    assert "is on its way" not in body
    with scopes_disabled():
        (confirmation,) = OutboundEmail.objects.filter(client=harbour.client)
        told = Notification.objects.get(recipient=harbour.practitioner).text
    assert confirmation.status == EmailStatus.HELD
    assert "was held, not sent yet" in told
    assert esp_simulator.messages(recipient="lukasz@example.test") == []
