"""The connections an email is sent through: the platform's ESP, or a clinic's own SMTP server."""

import smtplib
import socket
import ssl
from email.headerregistry import Address
from email.utils import parseaddr
from functools import cache, cached_property, partial

from anymail.message import AnymailMessage
from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend as DjangoSmtpBackend

from clinic.models import Clinic
from clinic.smtp_servers import (
    SmtpServerNotAllowed,
    SmtpServerNotFound,
    bare_host,
    smtp_server_addresses,
)
from messaging.sending.policy import SmtpRefusal, classify_send_failure


@cache
def esp_connection():
    """One ESP connection per worker process, so its HTTP session is kept alive between sends."""
    connection = get_connection()
    connection.open()
    return connection


STARTTLS_MISSING_WORDS = (
    "The clinic's server does not offer encryption (STARTTLS), so nothing was sent to it: the "
    "password and the emails would cross the internet readable. Ask its provider to turn "
    "STARTTLS on, or choose “TLS from the start” (port 465) if the server offers it."
)
LOGIN_MISSING_WORDS = (
    "The clinic's server does not offer to log in with a user name and password (SMTP AUTH): "
    "check the server name and port, or leave the user name empty if it needs none."
)
# Why a certificate was not trusted, by OpenSSL's verification code (X509_V_ERR_*).
CERTIFICATE_PROBLEMS = {
    10: "it has expired",
    18: "it is self-signed",
    19: "it is signed by an authority that is not trusted",
    20: "it is signed by an authority that is not trusted",
    21: "it is signed by an authority that is not trusted",
    62: "it was issued for another name",
}


def certificate_words(host: str, error: ssl.SSLCertVerificationError) -> str:
    problem = CERTIFICATE_PROBLEMS.get(error.verify_code, "it could not be verified")
    return (
        f"The clinic's server was not trusted, so nothing was sent to it: its certificate is not "
        f"valid for {host} ({problem})."
    )


def _connect_to_checked_address(addresses: list[str], port: int, timeout, source_address):
    """A TCP connection to the first of the checked addresses that answers, by address: the
    name is not resolved again."""
    failure: OSError = SmtpRefusal("The clinic's server could not be reached.", kind="transient")
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout, source_address)
        except OSError as error:
            failure = error
    raise failure


class CheckedSMTP(smtplib.SMTP):
    """smtplib's client connected to an address checked beforehand, while the host NAME stays
    the one TLS verifies the certificate against (smtplib wraps with server_hostname=_host);
    STARTTLS and logging in are asked for only if the server offers them, else refused in our
    words."""

    def __init__(self, host: str, port: int, *, addresses: list[str], **kwargs):
        self.checked_addresses = addresses
        super().__init__(host, port, **kwargs)

    def _get_socket(self, host, port, timeout):
        return _connect_to_checked_address(
            self.checked_addresses, port, timeout, self.source_address
        )

    def starttls(self, *, context: ssl.SSLContext):
        self.ehlo_or_helo_if_needed()
        if not self.has_extn("starttls"):
            raise SmtpRefusal(STARTTLS_MISSING_WORDS)
        return super().starttls(context=context)

    def login(self, user: str, password: str, **kwargs):
        self.ehlo_or_helo_if_needed()
        if not self.has_extn("auth"):
            raise SmtpRefusal(LOGIN_MISSING_WORDS)
        return super().login(user, password, **kwargs)


class CheckedSMTPSSL(CheckedSMTP, smtplib.SMTP_SSL):
    """The same, with TLS from the first byte (implicit TLS, usually port 465)."""

    def _get_socket(self, host, port, timeout):
        plain = super()._get_socket(host, port, timeout)
        return self.context.wrap_socket(plain, server_hostname=self._host)


class ClinicSmtpBackend(DjangoSmtpBackend):
    """Django's SMTP backend, held to the rules for a clinic's own server: only a server on the
    internet on an email port (clinic/smtp_servers.py), reached at the address that was checked;
    always encrypted (STARTTLS or TLS from the start, nothing in clear); its certificate
    verified against the host name with the system's authorities, plus `SMTP_CA_FILE`'s."""

    def __init__(self, *, clinic: Clinic):
        security = clinic.smtp_security
        super().__init__(
            host=bare_host(clinic.smtp_host),
            port=clinic.smtp_port,
            username=clinic.smtp_username or None,
            password=clinic.smtp_password or None,
            use_tls=security == Clinic.SmtpSecurity.STARTTLS,
            use_ssl=security == Clinic.SmtpSecurity.TLS,
            timeout=settings.EMAIL_TIMEOUT,
        )
        self.checked_addresses: list[str] = []

    @cached_property
    def ssl_context(self) -> ssl.SSLContext:
        """Django 5.2 builds ssl.create_default_context() too, but a client certificate setting
        would swap it for a context that trusts no authority: this one always verifies."""
        context = ssl.create_default_context()
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if settings.SMTP_CA_FILE:
            context.load_verify_locations(cafile=settings.SMTP_CA_FILE)
        return context

    @property
    def connection_class(self):
        checked = CheckedSMTPSSL if self.use_ssl else CheckedSMTP
        return partial(checked, addresses=self.checked_addresses)

    def open(self):
        if self.connection:
            return False
        if not (self.use_tls or self.use_ssl):  # no setting sends in clear
            raise SmtpRefusal(STARTTLS_MISSING_WORDS)
        self.checked_addresses = _checked_addresses(self.host, self.port)
        try:
            return super().open()
        except ssl.SSLCertVerificationError as error:
            raise SmtpRefusal(certificate_words(self.host, error)) from None
        finally:
            if self.connection is None:
                self._drop_partial_connection()

    def _drop_partial_connection(self) -> None:
        """Closes a connection that failed halfway without a word more to the server."""
        if self._partial_connection is not None:
            self._partial_connection.close()
            self._partial_connection = None


def _checked_addresses(host: str, port: int) -> list[str]:
    try:
        return smtp_server_addresses(host, port)
    except SmtpServerNotFound as refusal:  # DNS may be down for a moment
        raise SmtpRefusal(refusal.words, kind="transient") from None
    except SmtpServerNotAllowed as refusal:
        raise SmtpRefusal(refusal.words) from None


def smtp_connection(clinic: Clinic) -> ClinicSmtpBackend:
    return ClinicSmtpBackend(clinic=clinic)


def from_address(clinic: Clinic) -> str:
    """The From of the clinic's emails: its own SMTP address, else the platform's. The name is
    quoted as needed but not encoded, so each ESP's backend encodes it as that ESP wants (an
    RFC 2047 word in a JSON field is shown to the client as it is)."""
    _, platform_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    address = clinic.smtp_from_email if clinic.uses_own_smtp else platform_address
    return str(
        Address(display_name=clinic.from_name or clinic.name, addr_spec=address or platform_address)
    )


def reply_to(clinic: Clinic) -> list[str]:
    """The Reply-To of every email the clinic sends, whatever its connection: replies reach the
    clinic (the address it set, else its first clinic admin's), not the platform's sending
    address. Named as the From is, and left unencoded for each backend to encode."""
    address = clinic.reply_to_address()
    if not address:
        return []
    return [str(Address(display_name=clinic.from_name or clinic.name, addr_spec=address))]


NO_SMTP_SERVER_WORDS = (
    "The test email was not sent: no SMTP server is set. Enter the clinic's SMTP server "
    "(host, port and From email address) above and save the settings first, then send the "
    "test email."
)


def smtp_test_send(*, clinic: Clinic, to: str) -> str:
    """Sends a test email through the clinic's SMTP settings now; returns what happened, in
    words, for the clinic admin to read. With no server saved nothing is tried: the admin is
    told to set one, not shown what an empty host name resolves to."""
    if not clinic.smtp_host.strip():
        return NO_SMTP_SERVER_WORDS
    message = AnymailMessage(
        subject=f"Test email from {clinic.name}",
        body="This test email shows the clinic's SMTP settings work.",
        from_email=from_address(clinic),
        to=[to],
        reply_to=reply_to(clinic),
    )
    try:
        with smtp_connection(clinic) as connection:
            connection.send_messages([message])
    except (smtplib.SMTPException, OSError) as error:
        return f"The test email failed: {classify_send_failure(error).words}"
    return f"The test email was accepted by {clinic.smtp_host}. Check the inbox of {to}."
