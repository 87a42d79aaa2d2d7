"""A clinic on its own SMTP server: sent through it with its credentials, always encrypted, and
never tracked."""

import socket

import pytest
from django_scopes import scope, scopes_disabled

from messaging.models import OutboundEmail
from messaging.sending.tasks import email_send_task
from messaging.sending.triggers import direct_message_send
from messaging.status import EmailStatus
from notifications.models import Notification
from tests.sending.timing import deliver_on_time
from tests.sending.tls_smtp import (
    BANNER,
    loopback_address,
    smtp_authority,  # noqa: F401  (fixture)
    start_server,
)

pytestmark = pytest.mark.usefixtures("eager_celery")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(params=["starttls", "tls"])
def security(request) -> str:
    """STARTTLS on 587, or TLS from the start on 465."""
    return request.param


@pytest.fixture
def smtp_server(smtp_authority, tmp_path, settings, security):  # noqa: F811
    """The clinic's server, on a loopback address the platform is told to allow, with a
    certificate from an authority SMTP_CA_FILE adds."""
    server = start_server(smtp_authority, tmp_path, security=security)
    settings.SMTP_PRIVATE_HOSTS_ALLOWED = [server.address]
    settings.SMTP_CA_FILE = smtp_authority.pem_path
    yield server
    server.controller.stop()


@pytest.fixture
def own_smtp_clinic(cast, smtp_server, security):
    clinic = cast.alice_clinic
    clinic.sending_connection = "own_smtp"
    clinic.smtp_host, clinic.smtp_port = smtp_server.address, smtp_server.port
    clinic.smtp_security = security
    clinic.smtp_username, clinic.smtp_password = "clinic-user", "clinic-pass"
    clinic.smtp_from_email = "front-desk@alice-physio.test"
    clinic.save()
    return clinic


def send_and_deliver(cast) -> OutboundEmail:
    with scope(clinic=cast.alice_clinic):
        email = direct_message_send(
            client=cast.bob, subject="Hi", body="See you", sent_by=cast.alice
        )
    email_send_task.apply(args=[str(email.id)], kwargs={"clinic_id": email.clinic_id})
    with scopes_disabled():
        return OutboundEmail.objects.get(pk=email.pk)


def test_it_sends_through_the_clinics_server_encrypted_and_ends_as_sent(
    cast, own_smtp_clinic, smtp_server
):
    email = send_and_deliver(cast)
    assert email.status == EmailStatus.SENT
    assert not email.tracked
    [received] = smtp_server.mailbox.messages
    assert smtp_server.mailbox.tls_versions in (["TLSv1.2"], ["TLSv1.3"])
    assert received.mail_from == "front-desk@alice-physio.test"
    assert received.rcpt_tos == ["bob@example.test"]
    assert b"Subject: Hi" in received.original_content
    assert email.esp_message_id.encode() in received.original_content


def test_wrong_smtp_credentials_fail_with_words(cast, own_smtp_clinic, smtp_server, settings):
    settings.EMAIL_TIMEOUT = 3
    settings.SEND_MAX_ATTEMPTS = 1
    own_smtp_clinic.smtp_password = "wrong"
    own_smtp_clinic.save()
    email = send_and_deliver(cast)
    assert email.status == EmailStatus.FAILED
    assert email.reason == "The clinic's server refused the user name or password."
    assert smtp_server.mailbox.messages == []


def prepared(cast) -> OutboundEmail:
    with scope(clinic=cast.alice_clinic):
        return direct_message_send(
            client=cast.bob, subject="Hi", body="See you", sent_by=cast.alice
        )


def test_an_unreachable_smtp_server_is_retried_then_given_up(
    cast, own_smtp_clinic, settings, clock
):
    settings.SEND_MAX_ATTEMPTS = 2
    nobody = loopback_address(own_smtp_clinic.smtp_port)  # nothing listens there
    settings.SMTP_PRIVATE_HOSTS_ALLOWED = [nobody]
    own_smtp_clinic.smtp_host = nobody
    own_smtp_clinic.save()
    email = prepared(cast)
    assert [d.outcome for d in deliver_on_time(email, clock)] == ["retry", "failed"]
    with scopes_disabled():
        email.refresh_from_db()
    assert email.status == EmailStatus.FAILED
    assert email.attempts == 2
    assert email.reason == ("Gave up after 2 attempts. The clinic's server refused the connection.")


def test_a_recipient_the_smtp_server_refuses_fails_at_once_in_our_words(
    cast, own_smtp_clinic, smtp_server
):
    smtp_server.mailbox.unknown_users.add("bob@example.test")
    email = send_and_deliver(cast)
    assert email.status == EmailStatus.FAILED
    assert email.attempts == 1
    assert email.reason == (
        "The clinic's server refused to deliver to the client's address (SMTP code 550): "
        "check the address, or ask the server's provider why."
    )
    assert smtp_server.mailbox.messages == []
    with scopes_disabled():
        [note] = Notification.objects.filter(email_id=email.id)
    assert note.recipient == cast.alice
    assert "SMTP code 550" in note.text
    for remote_text in ("User unknown", "Recipient address rejected", BANNER):
        assert remote_text not in email.reason
        assert remote_text not in note.text


def test_a_greylisting_smtp_server_gets_it_on_the_retry(cast, own_smtp_clinic, smtp_server, clock):
    smtp_server.mailbox.greylisted.add("bob@example.test")
    email = prepared(cast)
    deliveries = deliver_on_time(email, clock)
    assert [d.outcome for d in deliveries] == ["retry", "sent"]
    with scopes_disabled():
        email.refresh_from_db()
    assert email.status == EmailStatus.SENT
    assert email.attempts == 2
    [received] = smtp_server.mailbox.messages
    assert received.rcpt_tos == ["bob@example.test"]


def test_the_log_says_tracking_is_not_available(client, cast, own_smtp_clinic, smtp_server):
    send_and_deliver(cast)
    client.force_login(cast.alice)
    body = client.get(f"/clients/{cast.bob.pk}/").content.decode()
    assert "Sent</span>" in body
    assert "delivery tracking is not available" in body
