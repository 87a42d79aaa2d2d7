import html
import re

import pytest

from clinic.models import Clinic
from tests.sending.tls_smtp import resolving

OWN_SERVER_WARNING = (
    "Consent stays with the client whatever server you use: clients who opted out of "
    "appointment emails, and addresses that bounced or reported spam for this clinic's emails, "
    "are not emailed through your own server either. Your server reports no delivery statuses, "
    "so the email log shows these emails as “Sent” only and new bounces and spam reports are "
    "not seen. Addresses suppressed because of other clinics' emails are not applied to your "
    "own server."
)


def test_only_clinic_admins_reach_the_settings(client, cast):
    client.force_login(cast.alice)
    assert client.get("/settings/").status_code == 403
    client.force_login(cast.alice_admin)
    assert client.get("/settings/").status_code == 200


def test_the_own_server_warning_says_what_consent_and_tracking_mean_there(client, cast):
    client.force_login(cast.alice_admin)
    body = client.get("/settings/").content.decode()
    [warning] = re.findall(r'<p class="warning" role="note">(.*?)</p>', body, re.DOTALL)
    assert " ".join(html.unescape(re.sub("<[^>]+>", "", warning)).split()) == OWN_SERVER_WARNING
    [strong] = re.findall(r"<strong>(.*?)</strong>", warning, re.DOTALL)
    assert " ".join(html.unescape(strong).split()) == OWN_SERVER_WARNING.split(" Your server")[0]


def test_settings_are_saved_and_the_password_never_shown_back(client, cast, monkeypatch):
    resolving(monkeypatch, {"smtp.alice.test": [["93.184.215.14"]]})
    client.force_login(cast.alice_admin)
    response = client.post(
        "/settings/",
        {
            "time_zone": "Europe/Dublin",
            "reminder_lead_hours": 48,
            "from_name": "Alice",
            "sending_connection": "own_smtp",
            "smtp_host": "smtp.alice.test",
            "smtp_port": 587,
            "smtp_username": "alice",
            "smtp_password": "pa55-word-secret",
            "smtp_security": "starttls",
            "smtp_from_email": "desk@alice.test",
        },
    )
    assert response.status_code == 302
    clinic = Clinic.objects.get(pk=cast.alice_clinic.pk)
    assert (clinic.time_zone, clinic.reminder_lead_hours) == ("Europe/Dublin", 48)
    assert clinic.smtp_password == "pa55-word-secret"
    assert "pa55-word-secret" not in client.get("/settings/").content.decode()


def test_a_bad_time_zone_is_refused_in_words(client, cast):
    client.force_login(cast.alice_admin)
    page = client.post(
        "/settings/",
        {
            "time_zone": "Mars/Olympus",
            "reminder_lead_hours": 24,
            "sending_connection": "platform_esp",
            "smtp_port": 587,
        },
    )
    assert "is not a time zone" in page.content.decode()


OWN_SERVER = {
    "time_zone": "Europe/London",
    "reminder_lead_hours": 24,
    "sending_connection": "own_smtp",
    "smtp_host": "smtp.alice.test",
    "smtp_port": 587,
    "smtp_security": "starttls",
    "smtp_from_email": "desk@alice.test",
}


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        (
            {"smtp_host": "10.0.0.5"},
            "smtp_host",
            "This server's address is in a private, local or reserved network, which cannot be "
            "used. Give the name of the clinic's email server on the internet.",
        ),
        (
            {"smtp_host": "localhost"},
            "smtp_host",
            "This server's address is in a private, local or reserved network",
        ),
        (
            {"smtp_host": "no-such-server.invalid"},
            "smtp_host",
            "No server of this name could be found. Check the spelling of the server name.",
        ),
        (
            {"smtp_port": 6379},
            "smtp_port",
            "Use port 587 (STARTTLS), 465 (TLS from the start), 25 or 2525: the clinic's server "
            "can only be reached on the ports used for sending email.",
        ),
        (
            {"smtp_security": "none"},
            "smtp_security",
            "Select a valid choice. none is not one of the available choices.",
        ),
    ],
)
def test_an_own_server_that_may_not_be_used_is_refused_in_words(
    client, cast, monkeypatch, fields, field, words
):
    resolving(monkeypatch, {"smtp.alice.test": [["93.184.215.14"]]})
    client.force_login(cast.alice_admin)
    page = client.post("/settings/", {**OWN_SERVER, **fields})
    assert page.status_code == 200
    assert words in " ".join(page.context["form"].errors[field])
    assert words in html.unescape(page.content.decode())
    assert Clinic.objects.get(pk=cast.alice_clinic.pk).sending_connection == "platform_esp"


def test_the_smtp_test_says_what_went_wrong_in_our_words(client, cast):
    cast.alice_clinic.sending_connection = "own_smtp"
    cast.alice_clinic.smtp_host, cast.alice_clinic.smtp_port = "127.0.0.1", 9
    cast.alice_clinic.save()
    client.force_login(cast.alice_admin)
    page = client.post("/settings/smtp-test/", follow=True)
    assert "The test email failed: Use port 587 (STARTTLS), 465 (TLS from the start)" in (
        page.content.decode()
    )
