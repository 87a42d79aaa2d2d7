import pytest
from django.core.management import CommandError, call_command
from django_otp.oath import TOTP
from django_scopes import scopes_disabled

from clinic.demo import DEMO_AUTHENTICATOR_KEY, DEMO_PASSWORD
from clinic.models import Appointment, Client, Clinic, Invoice, Membership, SmartForm, User


@pytest.fixture(autouse=True)
def demo_mode(settings):
    """The demo runs with DEBUG on; pytest-django runs tests with it off."""
    settings.DEBUG = True


def counts() -> dict[str, int]:
    with scopes_disabled():
        return {
            model.__name__: model.objects.count()
            for model in (User, Clinic, Membership, Client, Appointment, Invoice, SmartForm)
        }


def test_seed_is_idempotent(db):
    call_command("seed_demo")
    first = counts()
    call_command("seed_demo")
    assert counts() == first
    assert first["Clinic"] == 2
    assert first["User"] == 4


def test_each_demo_user_sees_their_own_clinic_only(client, db):
    call_command("seed_demo")
    for email, own, other in [
        ("practitioner@riverside.test", "Alex Carter", "Hugo Hart"),
        ("admin@riverside.test", "Alex Carter", "Hugo Hart"),
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
