"""Who a clinic's emails come from and where replies go, on the settings page: the Reply-To is
explained and shows the address used when it is left empty (the first clinic admin's); an empty
From name is accepted and falls back to the clinic's name, as the form says; "Send test email"
with no SMTP server saved says to set one first, in words, without trying to connect."""

import html
import re
import socket

from django_scopes import scopes_disabled

from clinic.models import AuditEntry, Clinic
from messaging.sending.connections import from_address, reply_to

SETTINGS = {
    "time_zone": "Europe/London",
    "reminder_lead_hours": 24,
    "from_name": "",
    "reply_to_email": "",
    "sending_connection": "platform_esp",
    "smtp_host": "",
    "smtp_port": 587,
    "smtp_username": "",
    "smtp_password": "",
    "smtp_security": "starttls",
    "smtp_from_email": "",
    "track_engagement": "on",
}


def text_of(page) -> str:
    """The page as a person reads it: tags dropped, one space between words."""
    return " ".join(html.unescape(re.sub("<[^>]+>", " ", page.content.decode())).split())


def saved(client, **fields):
    return client.post("/settings/", {**SETTINGS, **fields})


def test_the_settings_page_explains_where_replies_go(client, cast):
    client.force_login(cast.alice_admin)
    page = client.get("/settings/")
    words = text_of(page)
    assert (
        "Every email the clinic sends (appointment emails, invoices, smart forms and direct "
        "messages, through the platform's email service or your own server) carries a Reply-To: "
        "when a client presses Reply, the answer comes to the clinic at the address below, not "
        "to the address the email was sent from." in words
    )
    assert (
        "Replies go to When a client replies to any email from the clinic, the reply goes here. "
        "Leave it empty to use the first clinic admin's address, boss@alice.test." in words
    )
    assert 'placeholder="boss@alice.test"' in page.content.decode()


def test_a_reply_to_address_is_saved_and_used_and_its_change_recorded(client, cast):
    client.force_login(cast.alice_admin)
    assert reply_to(cast.alice_clinic) == ["Alice Physio <boss@alice.test>"]  # before: the admin

    response = saved(client, reply_to_email=" reception@alice.test ")

    assert response.status_code == 302
    clinic = Clinic.objects.get(pk=cast.alice_clinic.pk)
    assert clinic.reply_to_email == "reception@alice.test"
    assert reply_to(clinic) == ["Alice Physio <reception@alice.test>"]
    with scopes_disabled():
        [entry] = AuditEntry.objects.filter(action=AuditEntry.Action.CHANGED_CLINIC_SETTINGS)
    assert entry.detail["fields"] == ["reply_to_email"]


def test_a_reply_to_that_is_not_an_address_is_refused_in_words(client, cast):
    client.force_login(cast.alice_admin)
    page = saved(client, reply_to_email="reception at alice")
    assert page.status_code == 200
    assert page.context["form"].errors["reply_to_email"] == ["Enter a valid email address."]
    assert Clinic.objects.get(pk=cast.alice_clinic.pk).reply_to_email == ""


def test_an_empty_from_name_is_accepted_and_the_clinics_name_is_used_as_the_form_says(client, cast):
    client.force_login(cast.alice_admin)
    assert saved(client, from_name="Alice at the desk").status_code == 302
    assert from_address(Clinic.objects.get(pk=cast.alice_clinic.pk)).startswith(
        "Alice at the desk <"
    )

    for empty in ("", "   "):
        assert saved(client, from_name=empty).status_code == 302
        clinic = Clinic.objects.get(pk=cast.alice_clinic.pk)
        assert clinic.from_name == ""
        assert from_address(clinic) == "Alice Physio <mail@clinicmail.test>"
    words = text_of(client.get("/settings/"))
    assert (
        "From name The name clients see your emails come from. Leave it empty to use the "
        "clinic's name, “Alice Physio”." in words
    )


def test_the_smtp_test_with_no_server_set_says_to_set_one_first(
    client, cast, monkeypatch, settings
):
    """As on a machine that lets the platform reach local servers (the demo's): the empty host
    name would be looked up and a connection refused ("[Errno 111]"). Nothing is tried."""
    settings.SMTP_PRIVATE_HOSTS_ALLOWED = ["", "localhost", "127.0.0.1"]
    lookups = []
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: lookups.append(args))
    client.force_login(cast.alice_admin)
    assert "No SMTP server is saved yet" in text_of(client.get("/settings/"))

    page = client.post("/settings/smtp-test/", follow=True)

    words = text_of(page)
    assert (
        "The test email was not sent: no SMTP server is set. Enter the clinic's SMTP server "
        "(host, port and From email address) above and save the settings first, then send the "
        "test email." in words
    )
    assert "Errno" not in words
    [message] = page.context["messages"]
    assert message.level_tag == "error"
    assert lookups == []
