"""Accounts: support's second factor, how long a login lasts, login lockout by address and by
account, and the notification page's `next`."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import CommandError, call_command
from django.test import Client as HttpClient
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from notifications.services import notification_create
from tests.factories import PASSWORD
from tests.otp import support_device, support_login


def current_code(device: TOTPDevice) -> str:
    return (
        f"{TOTP(device.bin_key, step=device.step, digits=device.digits).token():0{device.digits}d}"
    )


def admin_login(client, email: str, password: str = PASSWORD, code: str | None = None):
    form = {"username": email, "password": password}
    if code is not None:
        form["otp_token"] = code
    return client.post("/admin/login/?next=/admin/clinic/client/", form)


# --- support's second factor -------------------------------------------------------------------


def test_support_opens_the_admin_with_password_and_the_current_code(client, cast):
    device = support_device(cast.support)
    response = admin_login(client, cast.support.email, code=current_code(device))
    assert response.status_code == 302
    assert response["Location"] == "/admin/clinic/client/"
    assert "Dana Dunn" in client.get("/admin/clinic/client/").content.decode()


def test_a_password_alone_does_not_open_the_admin(client, cast):
    support_device(cast.support)
    response = admin_login(client, cast.support.email)
    assert response.status_code == 200
    assert "Enter the 6-digit code from your authenticator app." in response.content.decode()
    assert client.get("/admin/clinic/client/").status_code == 302


def test_a_wrong_code_does_not_open_the_admin(client, cast):
    device = support_device(cast.support)
    wrong = f"{(int(current_code(device)) + 1) % 1_000_000:06d}"
    response = admin_login(client, cast.support.email, code=wrong)
    assert response.status_code == 200
    assert "That code is not the current one" in response.content.decode()
    assert client.get("/admin/clinic/client/").status_code == 302


def test_a_code_from_another_persons_device_does_not_count(client, cast):
    from tests.factories import UserFactory

    other = UserFactory(email="other-support@platform.test", is_superuser=True, is_staff=True)
    support_device(cast.support)
    others = support_device(other)
    response = client.post(
        "/admin/login/",
        {
            "username": cast.support.email,
            "password": PASSWORD,
            "otp_token": current_code(others),
            "otp_device": others.persistent_id,
        },
    )
    assert response.status_code == 200
    assert client.get("/admin/clinic/client/").status_code == 302


def test_guessing_codes_is_slowed_down(client, cast):
    """django-otp's own throttle: after wrong codes the device refuses even the right one for a
    while (1 s, then 2 s, 4 s...), so the million codes cannot be tried with a known password."""
    device = support_device(cast.support)
    for _ in range(3):
        admin_login(client, cast.support.email, code="000000")
    response = admin_login(client, cast.support.email, code=current_code(device))
    assert "Verification temporarily disabled" in response.content.decode()
    assert client.get("/admin/clinic/client/").status_code == 302


def test_support_without_an_authenticator_is_told_why_and_kept_out(client, cast):
    response = admin_login(client, cast.support.email, code="123456")
    body = response.content.decode()
    assert response.status_code == 200
    assert "has no authenticator app enrolled" in body
    assert "manage.py totp_enrol" in body
    assert client.get("/admin/clinic/client/").status_code == 302


def test_a_password_only_login_of_support_does_not_reach_the_admin(client, cast):
    support_device(cast.support)
    client.force_login(cast.support)  # through /accounts/login/: no code given
    response = client.get("/admin/clinic/client/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    page = client.get(response["Location"]).content.decode()
    assert "also needs the 6-digit code from your" in page


def test_a_logged_in_support_person_without_a_device_is_told_so(client, cast):
    client.force_login(cast.support)
    page = client.get("/admin/login/?next=/admin/").content.decode()
    assert "this support account has no authenticator app" in page


def test_clinic_staff_still_log_in_with_their_password_only(client, cast):
    response = client.post(
        "/accounts/login/", {"username": "alice@alice.test", "password": PASSWORD}
    )
    landed = client.get(response["Location"], follow=True)
    assert landed.redirect_chain[-1][0] == "/clients/"
    assert landed.status_code == 200


def test_clinic_staff_cannot_use_the_support_login(client, cast):
    response = admin_login(client, "alice@alice.test", code="123456")
    assert "email address and password of a support account" in response.content.decode()


def test_enrolment_prints_a_working_otpauth_url_and_qr_code_once(client, cast, capsys):
    call_command("totp_enrol", "SUPPORT@platform.test")
    out = capsys.readouterr().out
    url = re.search(r"otpauth://totp/\S+", out).group(0)
    assert "Clinic%20mail%20support" in url
    assert "█" in out or "▀" in out or "▄" in out  # the QR code, drawn in the terminal
    secret = parse_qs(urlsplit(url).query)["secret"][0]
    device = TOTPDevice.objects.get(user=cast.support)
    assert device.confirmed
    from base64 import b32decode

    assert b32decode(secret + "=" * (-len(secret) % 8)) == device.bin_key
    assert admin_login(client, cast.support.email, code=current_code(device)).status_code == 302


def test_enrolment_keeps_the_enrolled_device_unless_told_to_replace_it(cast, capsys):
    call_command("totp_enrol", cast.support.email)
    first = TOTPDevice.objects.get(user=cast.support)
    with pytest.raises(CommandError, match="--replace"):
        call_command("totp_enrol", cast.support.email)
    assert list(TOTPDevice.objects.filter(user=cast.support)) == [first]
    call_command("totp_enrol", cast.support.email, "--replace")
    assert TOTPDevice.objects.get(user=cast.support).pk != first.pk


def test_enrolment_is_for_support_accounts_only(cast):
    with pytest.raises(CommandError, match="not a support account"):
        call_command("totp_enrol", "alice@alice.test")
    with pytest.raises(CommandError, match="No account"):
        call_command("totp_enrol", "nobody@nowhere.test")
    assert not TOTPDevice.objects.exists()


# --- how long a login lasts --------------------------------------------------------------------


def test_a_login_lasts_at_most_twelve_hours(settings):
    assert settings.SESSION_COOKIE_AGE <= 12 * 60 * 60
    assert settings.SESSION_IDLE_MINUTES == 30


def test_an_idle_login_ends_and_the_login_page_says_why(client, cast, clock):
    client.force_login(cast.alice)
    assert client.get("/clients/").status_code == 200
    clock.move_by(timedelta(minutes=31))
    response = client.get("/clients/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/clients/"
    page = client.get(response["Location"]).content.decode()
    assert "You were logged out after 30 minutes without activity" in page
    assert client.get("/clients/").status_code == 302  # logged out, not just sent away once


def test_use_keeps_a_login_alive(client, cast, clock):
    client.force_login(cast.alice)
    for _ in range(4):
        clock.move_by(timedelta(minutes=25))
        assert client.get("/clients/").status_code == 200


def test_the_pages_own_refreshes_do_not_count_as_use(client, cast, clock):
    client.force_login(cast.alice)
    client.get("/clients/")
    for _ in range(5):  # the bell refreshing itself for 25 minutes
        clock.move_by(timedelta(minutes=5))
        assert client.get("/notifications/bell/", HTTP_HX_REQUEST="true").status_code == 200
    clock.move_by(timedelta(minutes=6))
    refresh = client.get("/notifications/bell/", HTTP_HX_REQUEST="true")
    assert refresh.status_code == 204
    assert refresh["HX-Redirect"] == "/accounts/login/"  # htmx loads the login page whole
    assert client.get("/clients/").status_code == 302


def test_a_busy_login_still_ends_after_twelve_hours(client, cast, clock):
    client.force_login(cast.alice)
    for _ in range(12 * 3):
        clock.move_by(timedelta(minutes=20))
        assert client.get("/clients/").status_code == 200
    clock.move_by(timedelta(minutes=20))
    response = client.get("/clients/")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "logged in for 12 hours" in page


def test_an_idle_support_person_is_sent_to_the_support_login(client, cast, clock):
    support_login(client, cast.support)
    assert client.get("/admin/").status_code == 200
    clock.move_by(timedelta(minutes=31))
    response = client.get("/admin/clinic/client/")
    assert response["Location"].startswith("/admin/login/?next=/admin/clinic/client/")
    assert "without activity" in client.get(response["Location"]).content.decode()


# --- login lockout -----------------------------------------------------------------------------


@pytest.fixture
def lockout(settings):
    settings.AXES_ENABLED = True
    return settings.AXES_FAILURE_LIMIT


WRONG_PASSWORD = "wrong-password"


def attempt(username: str, password: str = WRONG_PASSWORD, **meta) -> int:
    response = HttpClient(**meta).post(
        "/accounts/login/", {"username": username, "password": password}
    )
    return response.status_code


def test_guessing_many_accounts_from_one_address_is_locked(cast, lockout):
    attacker = {"REMOTE_ADDR": "198.51.100.7"}
    answers = [attempt(f"user{n}@alice.test", **attacker) for n in range(30)]
    assert answers.count(200) == lockout - 1  # the limit's attempt is already refused
    assert answers[lockout - 1 :] == [429] * (30 - lockout + 1)
    assert attempt("alice@alice.test", PASSWORD, **attacker) == 429
    assert attempt("alice@alice.test", PASSWORD, REMOTE_ADDR="192.0.2.10") == 302


def test_a_sprayer_taking_a_fresh_ipv6_address_per_guess_is_locked_by_its_64(cast, lockout):
    answers = [
        attempt(f"user{n}@alice.test", REMOTE_ADDR=f"2001:db8:7:7::{n + 1:x}") for n in range(12)
    ]
    assert answers.count(200) == lockout - 1
    assert answers[lockout - 1 :] == [429] * (12 - lockout + 1)
    assert attempt("charlie@charlie.test", PASSWORD, REMOTE_ADDR="2001:db8:7:8::1") == 302


def test_guessing_one_account_from_many_addresses_is_locked(cast, lockout):
    answers = [attempt("alice@alice.test", REMOTE_ADDR=f"198.51.100.{n}") for n in range(1, 31)]
    assert answers.count(200) == lockout - 1
    assert attempt("alice@alice.test", PASSWORD, REMOTE_ADDR="192.0.2.10") == 429
    assert attempt("charlie@charlie.test", PASSWORD, REMOTE_ADDR="192.0.2.10") == 302


def test_a_success_in_between_does_not_wipe_an_addresss_count(cast, lockout):
    attacker = {"REMOTE_ADDR": "198.51.100.7"}
    for n in range(lockout - 1):
        assert attempt(f"user{n}@alice.test", **attacker) == 200
    assert attempt("charlie@charlie.test", PASSWORD, **attacker) == 302  # the sprayer's own account
    assert attempt("user-next@alice.test", **attacker) == 429


def test_a_forged_forwarded_for_without_a_proxy_dodges_nothing(cast, lockout, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    answers = [
        attempt(
            f"user{n}@alice.test", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR=f"10.9.9.{n}"
        )
        for n in range(lockout + 2)
    ]
    assert answers[-1] == 429


def test_a_forged_forwarded_for_without_a_proxy_locks_nobody_else_out(cast, lockout, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    victim = "192.0.2.50"
    for n in range(lockout + 2):
        attempt(f"user{n}@alice.test", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR=victim)
    assert attempt("alice@alice.test", PASSWORD, REMOTE_ADDR=victim) == 302


def test_behind_one_proxy_the_clients_own_address_is_counted(cast, lockout, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    attacker = "198.51.100.7"
    answers = [
        attempt(
            f"user{n}@alice.test",
            REMOTE_ADDR=proxy,
            # the client wrote the first entry; our proxy appended the address it saw
            HTTP_X_FORWARDED_FOR=f"10.9.9.{n}, {attacker}",
        )
        for n in range(lockout + 2)
    ]
    assert answers[-1] == 429
    # Everyone else comes through the same proxy and is not locked out with the attacker.
    assert (
        attempt("alice@alice.test", PASSWORD, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="192.0.2.10")
        == 302
    )
    assert (
        attempt("charlie@charlie.test", PASSWORD, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=attacker)
        == 429
    )


def test_the_support_login_is_locked_out_too(cast, lockout):
    attacker = {"REMOTE_ADDR": "198.51.100.7"}
    for n in range(lockout):
        attempt(f"user{n}@alice.test", **attacker)
    device = support_device(cast.support)
    response = HttpClient(**attacker).post(
        "/admin/login/",
        {"username": cast.support.email, "password": PASSWORD, "otp_token": current_code(device)},
    )
    assert response.status_code == 429


def test_the_lockout_page_names_both_causes(cast, lockout):
    for n in range(lockout):
        attempt(f"user{n}@alice.test", REMOTE_ADDR="198.51.100.7")
    response = HttpClient(REMOTE_ADDR="198.51.100.7").post(
        "/accounts/login/", {"username": "x@alice.test", "password": "x"}
    )
    assert "Too many attempts" in response.content.decode()
    assert "from this network" in response.content.decode()


# --- where marking a notification read returns -------------------------------------------------


@pytest.fixture
def unread(cast):
    return notification_create(clinic=cast.alice_clinic, recipient=cast.alice, text="Bob bounced")


@pytest.mark.parametrize(
    "next_page",
    [
        "javascript:alert(document.cookie)",
        "//evil.example/login",
        "https://evil.example/login",
        "\\\\evil.example",
        "http://testserver/clients/",  # our own host, but not over HTTPS when the request was
    ],
)
def test_a_foreign_next_falls_back_to_the_notifications(client, cast, unread, next_page):
    client.force_login(cast.alice)
    response = client.post(f"/notifications/{unread.pk}/read/", {"next": next_page}, secure=True)
    assert response.status_code == 302
    assert response["Location"] == "/notifications/"


def test_a_next_of_our_own_is_followed(client, cast, unread):
    client.force_login(cast.alice)
    response = client.post(f"/notifications/{unread.pk}/read/", {"next": "/clients/"})
    assert response["Location"] == "/clients/"
