"""A clinic's own SMTP server cannot be used to reach the platform's own network: only servers on
the internet, on email ports, always encrypted with a verified certificate, checked when the
settings are saved and again at every connection; nothing a server sends is shown back; the
password is kept encrypted and dropped when the clinic goes back to the platform's service."""

import html
import ipaddress
import socketserver
import threading

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from clinic.models import Clinic
from clinic.smtp_servers import INTERNAL_ADDRESS_WORDS, PORT_WORDS, is_internal_address
from tests.sending.tls_smtp import (
    BANNER,
    SERVER_NAME,
    loopback_address,
    resolving,
    smtp_authority,  # noqa: F401  (fixture)
    start_server,
)

PUBLIC_ADDRESS = "93.184.215.14"
SAVED_SETTINGS = {
    "time_zone": "Europe/London",
    "reminder_lead_hours": 24,
    "sending_connection": "own_smtp",
    "smtp_port": 587,
    "smtp_security": "starttls",
    "smtp_from_email": "desk@alice.test",
}


@pytest.fixture
def admin_client(client, cast):
    client.force_login(cast.alice_admin)
    return client


@pytest.fixture
def trusted_authority(smtp_authority, settings):  # noqa: F811
    settings.SMTP_CA_FILE = smtp_authority.pem_path
    return smtp_authority


@pytest.fixture
def server(trusted_authority, tmp_path):
    running = start_server(trusted_authority, tmp_path)
    yield running
    running.controller.stop()


def own_server(clinic: Clinic, host: str, port: int, security: str = "starttls") -> None:
    """Settings as stored, without the settings form's check: the connection checks again."""
    clinic.sending_connection = "own_smtp"
    clinic.smtp_host, clinic.smtp_port, clinic.smtp_security = host, port, security
    clinic.smtp_username, clinic.smtp_password = "clinic-user", "clinic-pass"
    clinic.smtp_from_email = "desk@alice.test"
    clinic.save()


def smtp_test_outcome(admin_client) -> str:
    """What the clinic admin reads after "Send test email"."""
    page = admin_client.post("/settings/smtp-test/", follow=True)
    return html.unescape(page.content.decode())


def saved_page(admin_client, **fields) -> str:
    page = admin_client.post("/settings/", {**SAVED_SETTINGS, **fields})
    assert page.status_code == 200, "refused settings are shown again, not saved"
    return html.unescape(page.content.decode())


INTERNAL_HOSTS = ["127.0.0.1", "10.0.0.5", "192.168.1.1", "169.254.169.254", "[::1]", "localhost"]


@pytest.mark.parametrize("host", INTERNAL_HOSTS)
def test_an_internal_host_is_refused_when_saved(admin_client, cast, host):
    page = saved_page(admin_client, smtp_host=host)
    assert INTERNAL_ADDRESS_WORDS in page
    assert Clinic.objects.get(pk=cast.alice_clinic.pk).sending_connection == "platform_esp"


@pytest.mark.parametrize("host", INTERNAL_HOSTS)
def test_an_internal_host_is_refused_at_connect_time(admin_client, cast, settings, host):
    settings.EMAIL_TIMEOUT = 15  # a connection attempt to 10.0.0.5 would say "in time"
    own_server(cast.alice_clinic, host, 587)
    assert f"The test email failed: {INTERNAL_ADDRESS_WORDS}" in smtp_test_outcome(admin_client)


def test_the_loopback_address_is_refused_without_the_exemption(admin_client, cast, server):
    own_server(cast.alice_clinic, server.address, server.port)
    outcome = smtp_test_outcome(admin_client)
    assert f"The test email failed: {INTERNAL_ADDRESS_WORDS}" in outcome
    assert server.mailbox.ehlos == 0  # never connected
    assert BANNER not in outcome


def test_the_exemption_lets_a_listed_host_through(admin_client, cast, server, settings):
    settings.SMTP_PRIVATE_HOSTS_ALLOWED = [server.address]
    own_server(cast.alice_clinic, server.address, server.port)
    outcome = smtp_test_outcome(admin_client)
    assert f"The test email was accepted by {server.address}" in outcome
    assert server.mailbox.tls_versions in (["TLSv1.2"], ["TLSv1.3"])


@pytest.mark.parametrize("port", [22, 6379, 8080])
def test_a_port_other_than_an_email_port_is_refused_when_saved(admin_client, port):
    page = saved_page(admin_client, smtp_host=PUBLIC_ADDRESS, smtp_port=port)
    assert PORT_WORDS in page


@pytest.mark.parametrize("port", [22, 6379, 8080])
def test_a_port_other_than_an_email_port_is_refused_at_connect_time_even_for_an_exempt_host(
    admin_client, cast, settings, port
):
    settings.SMTP_PRIVATE_HOSTS_ALLOWED = ["127.0.0.1"]
    own_server(cast.alice_clinic, "127.0.0.1", port)  # Redis listens on 6379 here
    assert f"The test email failed: {PORT_WORDS}" in smtp_test_outcome(admin_client)


@pytest.mark.parametrize("port", [25, 465, 587, 2525])
def test_the_email_ports_are_accepted(admin_client, cast, monkeypatch, port):
    resolving(monkeypatch, {"smtp.alice.test": [[PUBLIC_ADDRESS]]})
    response = admin_client.post(
        "/settings/", {**SAVED_SETTINGS, "smtp_host": "smtp.alice.test", "smtp_port": port}
    )
    assert response.status_code == 302
    assert Clinic.objects.get(pk=cast.alice_clinic.pk).smtp_port == port


@pytest.fixture
def starttls_missing(trusted_authority, tmp_path, settings):
    running = start_server(trusted_authority, tmp_path, security="none")
    settings.SMTP_PRIVATE_HOSTS_ALLOWED = [running.address]
    yield running
    running.controller.stop()


def test_a_server_without_starttls_is_refused_in_words(admin_client, cast, starttls_missing):
    own_server(cast.alice_clinic, starttls_missing.address, starttls_missing.port)
    outcome = smtp_test_outcome(admin_client)
    assert "The test email failed: The clinic's server does not offer encryption (STARTTLS)" in (
        outcome
    )
    assert starttls_missing.mailbox.ehlos == 1  # asked what it offers, then left
    assert starttls_missing.mailbox.messages == []
    assert BANNER not in outcome


class BannerOnly(socketserver.BaseRequestHandler):
    """Something that is not an email server: it says who it is and waits."""

    def handle(self):
        self.request.sendall(f"SSH-2.0-{BANNER}\r\n".encode())
        self.request.recv(1024)


@pytest.fixture
def not_an_email_server(settings):
    address = loopback_address(587)
    listener = socketserver.ThreadingTCPServer((address, 587), BannerOnly)
    listener.daemon_threads = True
    threading.Thread(target=listener.serve_forever, daemon=True).start()
    settings.SMTP_PRIVATE_HOSTS_ALLOWED = [address]
    yield address
    listener.shutdown()
    listener.server_close()


def test_the_banner_of_whatever_listens_is_never_shown(admin_client, cast, not_an_email_server):
    own_server(cast.alice_clinic, not_an_email_server, 587)
    outcome = smtp_test_outcome(admin_client)
    assert (
        "The test email failed: The clinic's server did not answer as an email server does."
        in outcome
    )
    assert BANNER not in outcome
    assert "SSH" not in outcome


def test_implicit_tls_to_a_server_that_does_not_speak_it_is_refused(
    admin_client, cast, server, settings
):
    settings.SMTP_PRIVATE_HOSTS_ALLOWED = [server.address]
    own_server(cast.alice_clinic, server.address, server.port, security="tls")
    outcome = smtp_test_outcome(admin_client)
    assert "An encrypted connection to the clinic's server could not be set up" in outcome
    assert server.mailbox.messages == []


def test_a_certificate_for_another_name_is_refused(
    admin_client, cast, monkeypatch, settings, server
):
    # The certificate names mail.alice.test (and the address); the settings name another host
    # that resolves to the same server.
    settings.SMTP_PRIVATE_HOSTS_ALLOWED = ["relay.alice.test"]
    resolving(monkeypatch, {"relay.alice.test": [[server.address]]})
    own_server(cast.alice_clinic, "relay.alice.test", server.port)
    outcome = smtp_test_outcome(admin_client)
    assert (
        "The test email failed: The clinic's server was not trusted, so nothing was sent to it: "
        "its certificate is not valid for relay.alice.test (it was issued for another name)."
    ) in outcome
    assert server.mailbox.messages == []


def test_a_certificate_from_an_unknown_authority_is_refused(admin_client, cast, server, settings):
    settings.SMTP_CA_FILE = None
    settings.SMTP_PRIVATE_HOSTS_ALLOWED = [server.address]
    own_server(cast.alice_clinic, server.address, server.port)
    outcome = smtp_test_outcome(admin_client)
    assert (
        f"its certificate is not valid for {server.address} (it is signed by an authority that "
        "is not trusted)."
    ) in outcome
    assert server.mailbox.messages == []


def test_a_name_that_resolves_elsewhere_after_the_check_is_refused_at_connect_time(
    admin_client, cast, monkeypatch, server
):
    """DNS rebinding: public when saved, loopback when connecting."""
    lookups = resolving(monkeypatch, {SERVER_NAME: [[PUBLIC_ADDRESS], [server.address]]})
    response = admin_client.post("/settings/", {**SAVED_SETTINGS, "smtp_host": SERVER_NAME})
    assert response.status_code == 302  # saved: the name was on the internet then
    outcome = smtp_test_outcome(admin_client)
    assert lookups[SERVER_NAME] == 2
    assert f"The test email failed: {INTERNAL_ADDRESS_WORDS}" in outcome
    assert server.mailbox.ehlos == 0


def test_the_connection_goes_to_the_address_checked_not_to_a_second_answer(
    admin_client, cast, monkeypatch, server, settings
):
    """The name is resolved once per connection: a later answer (here a host that would never
    answer) is not used, and TLS still verifies the certificate against the NAME."""
    settings.SMTP_PRIVATE_HOSTS_ALLOWED = [SERVER_NAME]
    lookups = resolving(monkeypatch, {SERVER_NAME: [[server.address], ["192.0.2.1"]]})
    own_server(cast.alice_clinic, SERVER_NAME, server.port)
    outcome = smtp_test_outcome(admin_client)
    assert f"The test email was accepted by {SERVER_NAME}" in outcome
    assert lookups[SERVER_NAME] == 1
    [received] = server.mailbox.messages
    assert server.mailbox.tls_versions in (["TLSv1.2"], ["TLSv1.3"])
    assert received.rcpt_tos == [cast.alice_admin.email]


def test_the_password_is_encrypted_in_the_database(admin_client, cast, monkeypatch, settings):
    resolving(monkeypatch, {"smtp.alice.test": [[PUBLIC_ADDRESS]]})
    admin_client.post(
        "/settings/",
        {
            **SAVED_SETTINGS,
            "smtp_host": "smtp.alice.test",
            "smtp_username": "alice",
            "smtp_password": "pa55-word-secret",
        },
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT smtp_password FROM clinic_clinic WHERE id = %s", [cast.alice_clinic.pk]
        )
        [stored] = cursor.fetchone()
    assert "pa55-word-secret" not in stored
    assert stored.startswith("gAAAAA")  # a Fernet token
    key = Fernet(settings.FIELD_ENCRYPTION_KEYS[0])
    assert key.decrypt(stored.encode()) == b"pa55-word-secret"
    assert Clinic.objects.get(pk=cast.alice_clinic.pk).smtp_password == "pa55-word-secret"


def test_the_saved_password_goes_only_to_the_server_it_was_typed_for(
    admin_client, cast, monkeypatch
):
    """Changing the server (or port, encryption, user name) needs the password typed again:
    otherwise whoever changed it could have the saved password sent to a server of theirs."""
    resolving(
        monkeypatch, {"smtp.alice.test": [[PUBLIC_ADDRESS]], "smtp.evil.test": [[PUBLIC_ADDRESS]]}
    )
    own_server(cast.alice_clinic, "smtp.alice.test", 587)
    kept = {**SAVED_SETTINGS, "smtp_host": "smtp.alice.test", "smtp_username": "clinic-user"}

    # The control: the same server with the box left empty keeps the saved password.
    assert admin_client.post("/settings/", kept).status_code == 302
    assert Clinic.objects.get(pk=cast.alice_clinic.pk).smtp_password == "clinic-pass"

    for change in ({"smtp_host": "smtp.evil.test"}, {"smtp_port": 465}, {"smtp_username": "x"}):
        page = admin_client.post("/settings/", {**kept, **change})
        assert page.status_code == 200, change
        assert "Type the password again" in html.unescape(page.content.decode())
        clinic = Clinic.objects.get(pk=cast.alice_clinic.pk)
        assert (clinic.smtp_host, clinic.smtp_password) == ("smtp.alice.test", "clinic-pass")


def test_switching_back_to_the_platform_drops_the_credentials(admin_client, cast):
    own_server(cast.alice_clinic, "smtp.alice.test", 587)
    response = admin_client.post(
        "/settings/",
        {**SAVED_SETTINGS, "sending_connection": "platform_esp", "smtp_host": "smtp.alice.test"},
    )
    assert response.status_code == 302
    clinic = Clinic.objects.get(pk=cast.alice_clinic.pk)
    assert clinic.sending_connection == "platform_esp"
    assert (clinic.smtp_username, clinic.smtp_password) == ("", "")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT smtp_username, smtp_password FROM clinic_clinic WHERE id = %s", [clinic.pk]
        )
        assert cursor.fetchone() == ("", "")


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "0.0.0.0",  # noqa: S104  (an address checked, not bound)
        "10.0.0.5",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "169.254.170.2",
        "100.64.0.1",  # shared address space (carrier-grade NAT)
        "100.100.100.200",  # Alibaba Cloud's metadata
        "168.63.129.16",  # Azure's wire server: a public address all the same
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fd00:ec2::254",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:10.0.0.5",
        "64:ff9b::a00:5",  # NAT64 of 10.0.0.5
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    ],
)
def test_internal_addresses(address):
    assert is_internal_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "8.8.8.8", "2606:2800:220:1:248:1893:25c8:1946"]
)
def test_internet_addresses(address):
    assert not is_internal_address(ipaddress.ip_address(address))
