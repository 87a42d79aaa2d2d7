from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_otp.oath import TOTP
from django_scopes import scopes_disabled

from clinic.demo import DEMO_AUTHENTICATOR_KEY, DEMO_PASSWORD
from clinic.models import (
    Appointment,
    Client,
    Clinic,
    Invoice,
    Membership,
    SmartForm,
    SmartFormRequest,
    User,
)
from messaging.models import EmailEvent, OutboundEmail
from messaging.status import EmailStatus
from notifications.models import Notification
from suppression.models import Suppression


@pytest.fixture(autouse=True)
def demo_mode(settings):
    """The demo runs with DEBUG on; pytest-django runs tests with it off."""
    settings.DEBUG = True


def counts() -> dict[str, int]:
    with scopes_disabled():
        return {
            model.__name__: model.objects.count()
            for model in (
                User,
                Clinic,
                Membership,
                Client,
                Appointment,
                Invoice,
                SmartForm,
                SmartFormRequest,
                OutboundEmail,
                EmailEvent,
                Suppression,
                Notification,
            )
        }


def test_seed_is_idempotent(db):
    call_command("seed_demo")
    first = counts()
    call_command("seed_demo")
    assert counts() == first
    assert first["Clinic"] == 2
    assert first["User"] == 5


def test_each_demo_user_sees_their_own_clinic_only(client, db):
    call_command("seed_demo")
    for email, own, other in [
        ("practitioner@riverside.test", "Alex Carter", "Hugo Hart"),
        ("admin@riverside.test", "Alex Carter", "Hugo Hart"),
        ("reception@riverside.test", "Alex Carter", "Hugo Hart"),
        ("practitioner@harbour.test", "Hugo Hart", "Alex Carter"),
    ]:
        assert client.login(username=email, password=DEMO_PASSWORD)
        body = client.get("/clients/").content.decode()
        assert own in body
        assert other not in body
        client.logout()


def test_support_logs_into_admin_with_the_printed_authenticator_key(client, db, capsys):
    call_command("seed_demo")
    assert "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" in capsys.readouterr().out
    code = f"{TOTP(bytes.fromhex(DEMO_AUTHENTICATOR_KEY)).token():06d}"
    response = client.post(
        "/admin/login/?next=/admin/clinic/client/",
        {"username": "support@platform.test", "password": DEMO_PASSWORD, "otp_token": code},
    )
    assert response.status_code == 302, response.content.decode()
    assert client.get("/admin/clinic/client/").status_code == 200


def test_it_refuses_to_create_known_passwords_with_debug_off(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only with DEBUG=true"):
        call_command("seed_demo")
    assert not User.objects.exists()


def test_demo_clients_exercise_every_simulator_outcome(db):
    call_command("seed_demo")
    with scopes_disabled():
        addresses = list(Client.objects.values_list("email", flat=True))
    for prefix in ("bounce", "defer", "complaint", "open", "click"):
        assert any(address.startswith(prefix) for address in addresses), prefix
    assert any(address.endswith(".invalid") for address in addresses)


def test_a_clinic_opens_with_emails_of_every_status_told_as_the_esp_told_them(db):
    call_command("seed_demo")
    with scopes_disabled():
        riverside = Clinic.objects.get(slug="riverside-physio")
        statuses = set(
            OutboundEmail.objects.filter(clinic=riverside).values_list("status", flat=True)
        )
        # `sent`: a clinic's own server; `held`: a clinic under a hold (the demo's are not).
        every = set(EmailStatus.values) - {EmailStatus.SENT, EmailStatus.HELD}
        assert statuses == every
        # The bounce and the spam report went the tracking path's way: the address suppressed,
        # the client opted out, the practitioner told.
        for address in ("bounce.bea@example.test", "complaint.cam@example.test"):
            assert Suppression.objects.filter(address=address).exists(), address
            assert not Client.objects.get(email=address).appointment_comms
        priya = User.objects.get(email="practitioner@riverside.test")
        assert Notification.objects.filter(recipient=priya).count() >= 2
        failed = OutboundEmail.objects.get(clinic=riverside, status=EmailStatus.FAILED)
        assert "does not exist" in failed.reason
        # Every email but the one left for the worker was handed to the ESP.
        waiting = OutboundEmail.objects.filter(clinic=riverside, status=EmailStatus.SENDING)
        assert list(waiting.values_list("esp_message_id", flat=True)) == [""]


def test_the_demo_has_invoices_forms_and_appointments_in_the_coming_days(db):
    call_command("seed_demo")
    with scopes_disabled():
        for client in Client.objects.all():
            assert Invoice.objects.filter(client=client).exists(), client
            upcoming = Appointment.objects.get(client=client, status="booked")
            assert timezone.now() < upcoming.start < timezone.now() + timedelta(days=7)
        answered = SmartFormRequest.objects.filter(state=SmartFormRequest.State.COMPLETED)
        assert answered.count() == 2
        riverside = Clinic.objects.get(slug="riverside-physio")
        assert riverside.phone and riverside.postal_address and riverside.booking_changes


def test_the_receptionist_sends_and_books_but_does_not_administer(client, db):
    call_command("seed_demo")
    assert client.login(username="reception@riverside.test", password=DEMO_PASSWORD)
    with scopes_disabled():
        nina = Client.objects.get(email="nina.novak@example.test")
    assert client.get("/settings/").status_code == 403
    page = client.get(f"/clients/{nina.pk}/").content.decode()
    assert "Send an email to Nina Novak" in page and "Book an appointment" in page
    sent = client.post(
        f"/clients/{nina.pk}/emails/send/",
        {
            "kind": "direct_message",
            "direct_message-subject": "Parking",
            "direct_message-body": "Use the side gate.",
        },
    )
    assert sent.status_code == 302
    with scopes_disabled():
        assert OutboundEmail.objects.filter(client=nina, subject="Parking").exists()
