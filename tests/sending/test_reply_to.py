"""Replies reach the clinic: every email a clinic sends carries a Reply-To, the address the clinic
set or else its first clinic admin's, through each ESP (read from the request anymail's real
backend sent) and through the clinic's own SMTP server (read from the message the server took).
Without it a client's answer goes to the platform's sending address, which nobody reads."""

from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from email.utils import getaddresses

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from clinic.models import Membership, User
from messaging.models import OutboundEmail
from messaging.sending.connections import smtp_test_send
from messaging.sending.delivery import email_deliver
from messaging.sending.tasks import email_send_task
from messaging.sending.triggers import appointment_book, direct_message_send, invoice_send
from tests.factories import ClientFactory, ClinicFactory, InvoiceFactory, MembershipFactory
from tests.sending.test_what_esps_receive import ESPS, esp, what_was_sent  # noqa: F401
from tests.sending.tls_smtp import smtp_authority, start_server  # noqa: F401

pytestmark = pytest.mark.django_db

CLINIC = "Ní Bhriain Physiotherapy – Cork"
RECEPTION = "reception@nibhriain.test"
FIRST_ADMIN = "orla.kelly@nibhriain.test"


def clinic_with_staff(*, reply_to_email: str = "", **fields):
    """A clinic whose staff list starts with a practitioner, then its first clinic admin, then
    a second one: only the first admin's address is the fallback."""
    with scopes_disabled():
        clinic = ClinicFactory(name=CLINIC, reply_to_email=reply_to_email, **fields)
        MembershipFactory(clinic=clinic, user__email="practitioner@nibhriain.test")
        MembershipFactory(clinic=clinic, user__email=FIRST_ADMIN, role=Membership.Role.CLINIC_ADMIN)
        MembershipFactory(
            clinic=clinic, user__email="second.admin@nibhriain.test", role="clinic_admin"
        )
        client = ClientFactory(clinic=clinic, name="Aoife O’Brien", email="aoife@example.test")
    return clinic, client


def send_a_message(clinic, client):
    with scope(clinic=clinic):
        email_row = direct_message_send(
            client=client, subject="Your exercises", body="Hi Aoife,\n\nTwice a day.", sent_by=None
        )
        assert email_deliver(email_id=email_row.id).outcome == "sent"
    return email_row


def reply_to_of(esp_name: str, own: dict) -> list[tuple[str, str]]:
    """The Reply-To the ESP was asked to put on the email, as (name, address) pairs."""
    if esp_name == "mailgun":
        return getaddresses(own.get("h:Reply-To", []))
    if esp_name == "postmark":
        return getaddresses([own["ReplyTo"]] if "ReplyTo" in own else [])
    if esp_name == "sendgrid":
        given = own.get("reply_to_list") or ([own["reply_to"]] if "reply_to" in own else [])
        return [(each.get("name", ""), each["email"]) for each in given]
    return getaddresses([own["Reply-To"]] if "Reply-To" in own else [])


@pytest.mark.parametrize("esp", ESPS, indirect=True)
def test_each_esp_is_asked_to_send_with_the_clinics_reply_to(esp):  # noqa: F811
    clinic, client = clinic_with_staff(reply_to_email=RECEPTION)
    send_a_message(clinic, client)

    own, _ = what_was_sent(esp)
    assert reply_to_of(esp.name, own) == [(CLINIC, RECEPTION)]


@pytest.mark.parametrize("esp", ESPS, indirect=True)
def test_with_no_reply_to_set_replies_go_to_the_first_clinic_admin(esp):  # noqa: F811
    clinic, client = clinic_with_staff()
    send_a_message(clinic, client)

    own, _ = what_was_sent(esp)
    assert reply_to_of(esp.name, own) == [(CLINIC, FIRST_ADMIN)]


@pytest.mark.parametrize("esp", ["postmark"], indirect=True)
def test_a_clinic_with_no_admin_and_no_reply_to_sends_without_one(esp):  # noqa: F811
    """The control: the reading above finds no Reply-To where none was asked for."""
    with scopes_disabled():
        clinic = ClinicFactory(name=CLINIC)
        client = ClientFactory(clinic=clinic, email="aoife@example.test")
    send_a_message(clinic, client)

    own, _ = what_was_sent(esp)
    assert reply_to_of(esp.name, own) == []


def test_an_inactive_admin_is_passed_over():
    clinic, _ = clinic_with_staff()
    User.objects.filter(email=FIRST_ADMIN).update(is_active=False)
    assert clinic.reply_to_address() == "second.admin@nibhriain.test"


@pytest.mark.parametrize("esp", ["postmark"], indirect=True)
def test_appointment_emails_and_invoices_carry_it_too(esp):  # noqa: F811
    clinic, client = clinic_with_staff(reply_to_email=RECEPTION)
    with scopes_disabled():
        invoice = InvoiceFactory(client=client)
        practitioner = Membership.objects.get(user__email=FIRST_ADMIN).user
    start = timezone.now() + timedelta(days=3)
    with scope(clinic=clinic):
        appointment_book(
            client=client, practitioner=practitioner, start=start, end=start + timedelta(hours=1)
        )
        invoice_send(invoice=invoice, sent_by=None)
        for email_row in OutboundEmail.objects.filter(client=client):
            assert email_deliver(email_id=email_row.id).outcome == "sent"

    assert sorted(sent.tags[0] for sent in esp.apis.sent) == ["appointment_confirmation", "invoice"]
    for sent in esp.apis.sent:
        assert getaddresses([sent.body["ReplyTo"]]) == [(CLINIC, RECEPTION)]


@pytest.fixture
def own_server(smtp_authority, tmp_path, settings):  # noqa: F811
    server = start_server(smtp_authority, tmp_path, security="starttls")
    settings.SMTP_PRIVATE_HOSTS_ALLOWED = [server.address]
    settings.SMTP_CA_FILE = smtp_authority.pem_path
    yield server
    server.controller.stop()


def on_own_server(server, **fields):
    return clinic_with_staff(
        sending_connection="own_smtp",
        smtp_host=server.address,
        smtp_port=server.port,
        smtp_username="clinic-user",
        smtp_password="clinic-pass",
        smtp_from_email="front-desk@nibhriain.test",
        **fields,
    )


def received_reply_to(server) -> list[tuple[str, str]]:
    [received] = server.mailbox.messages
    message = message_from_bytes(received.original_content, policy=default_policy)
    return [(each.display_name, each.addr_spec) for each in message["Reply-To"].addresses]


def test_the_clinics_own_server_sends_it_too(own_server):
    clinic, client = on_own_server(own_server, reply_to_email=RECEPTION)
    with scope(clinic=clinic):
        email_row = direct_message_send(client=client, subject="Hi", body="x", sent_by=None)
    email_send_task.apply(args=[str(email_row.id)], kwargs={"clinic_id": clinic.pk})

    assert received_reply_to(own_server) == [(CLINIC, RECEPTION)]


def test_the_smtp_test_email_carries_it(own_server):
    clinic, _ = on_own_server(own_server)
    outcome = smtp_test_send(clinic=clinic, to=FIRST_ADMIN)

    assert outcome.startswith("The test email was accepted"), outcome
    assert received_reply_to(own_server) == [(CLINIC, FIRST_ADMIN)]
