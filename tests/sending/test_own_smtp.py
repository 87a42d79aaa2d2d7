"""A clinic on its own SMTP server: sent through it with its credentials, and never tracked."""

import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from django_scopes import scope, scopes_disabled

from messaging.models import OutboundEmail
from messaging.sending.tasks import email_send_task
from messaging.sending.triggers import direct_message_send
from messaging.status import EmailStatus
from notifications.models import Notification
from tests.sending.timing import deliver_on_time

pytestmark = pytest.mark.usefixtures("eager_celery")


class Mailbox:
    """Accepts mail, except for the recipients it is told to refuse: for good (550) or for now
    (451, as greylisting does: once per recipient)."""

    def __init__(self):
        self.messages = []
        self.unknown_users: set[str] = set()
        self.greylisted: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.unknown_users:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if address in self.greylisted:
            self.greylisted.discard(address)
            return "451 4.7.1 Greylisted, please try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    mailbox = Mailbox()

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"clinic-user" and auth_data.password == b"clinic-pass"
        return AuthResult(success=ok, handled=False)

    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=authenticate,
        auth_require_tls=False,
        auth_exclude_mechanism=["LOGIN"],
    )
    controller.start()
    yield controller, mailbox
    controller.stop()


@pytest.fixture
def own_smtp_clinic(cast, smtp_server):
    controller, _ = smtp_server
    clinic = cast.alice_clinic
    clinic.sending_connection = "own_smtp"
    clinic.smtp_host, clinic.smtp_port = "127.0.0.1", controller.port
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


def test_it_sends_through_the_clinics_server_and_ends_as_sent(cast, own_smtp_clinic, smtp_server):
    _, mailbox = smtp_server
    email = send_and_deliver(cast)
    assert email.status == EmailStatus.SENT
    assert not email.tracked
    [received] = mailbox.messages
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
    assert "refused its username or password" in email.reason


def prepared(cast) -> OutboundEmail:
    with scope(clinic=cast.alice_clinic):
        return direct_message_send(
            client=cast.bob, subject="Hi", body="See you", sent_by=cast.alice
        )


def test_an_unreachable_smtp_server_is_retried_then_given_up(
    cast, own_smtp_clinic, settings, clock
):
    settings.SEND_MAX_ATTEMPTS = 2
    own_smtp_clinic.smtp_port = free_port()
    own_smtp_clinic.save()
    email = prepared(cast)
    assert [d.outcome for d in deliver_on_time(email, clock)] == ["retry", "failed"]
    with scopes_disabled():
        email.refresh_from_db()
    assert email.status == EmailStatus.FAILED
    assert email.attempts == 2
    assert "could not be reached" in email.reason


def test_a_recipient_the_smtp_server_refuses_fails_at_once_with_its_words(
    cast, own_smtp_clinic, smtp_server
):
    _, mailbox = smtp_server
    mailbox.unknown_users.add("bob@example.test")
    email = send_and_deliver(cast)
    assert email.status == EmailStatus.FAILED
    assert email.attempts == 1
    assert "550 5.1.1 <bob@example.test>: Recipient address rejected: User unknown" in (
        email.reason
    )
    assert mailbox.messages == []
    with scopes_disabled():
        [note] = Notification.objects.filter(email_id=email.id)
    assert note.recipient == cast.alice
    assert "User unknown" in note.text


def test_a_greylisting_smtp_server_gets_it_on_the_retry(cast, own_smtp_clinic, smtp_server, clock):
    _, mailbox = smtp_server
    mailbox.greylisted.add("bob@example.test")
    email = prepared(cast)
    deliveries = deliver_on_time(email, clock)
    assert [d.outcome for d in deliveries] == ["retry", "sent"]
    with scopes_disabled():
        email.refresh_from_db()
    assert email.status == EmailStatus.SENT
    assert email.attempts == 2
    [received] = mailbox.messages
    assert received.rcpt_tos == ["bob@example.test"]


def test_the_log_says_tracking_is_not_available(client, cast, own_smtp_clinic, smtp_server):
    send_and_deliver(cast)
    client.force_login(cast.alice)
    body = client.get(f"/clients/{cast.bob.pk}/").content.decode()
    assert "Sent</span>" in body
    assert "delivery tracking is not available" in body
