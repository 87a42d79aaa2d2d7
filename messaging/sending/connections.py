"""The connections an email is sent through: the platform's ESP, or a clinic's own SMTP server."""

import smtplib
from email.headerregistry import Address
from email.utils import parseaddr
from functools import cache

from anymail.message import AnymailMessage
from django.conf import settings
from django.core.mail import get_connection

from clinic.models import Clinic
from messaging.sending.policy import classify_send_failure


@cache
def esp_connection():
    """One ESP connection per worker process, so its HTTP session is kept alive between sends."""
    connection = get_connection()
    connection.open()
    return connection


def smtp_connection(clinic: Clinic):
    return get_connection(
        "django.core.mail.backends.smtp.EmailBackend",
        host=clinic.smtp_host,
        port=clinic.smtp_port,
        username=clinic.smtp_username or None,
        password=clinic.smtp_password or None,
        use_tls=clinic.smtp_security == Clinic.SmtpSecurity.STARTTLS,
        use_ssl=clinic.smtp_security == Clinic.SmtpSecurity.TLS,
        timeout=settings.EMAIL_TIMEOUT,
    )


def from_address(clinic: Clinic) -> str:
    """The From of the clinic's emails: its own SMTP address, else the platform's. The name is
    quoted as needed but not encoded, so each ESP's backend encodes it as that ESP wants (an
    RFC 2047 word in a JSON field is shown to the client as it is)."""
    _, platform_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    address = clinic.smtp_from_email if clinic.uses_own_smtp else platform_address
    return str(
        Address(display_name=clinic.from_name or clinic.name, addr_spec=address or platform_address)
    )


def smtp_test_send(*, clinic: Clinic, to: str) -> str:
    """Sends a test email through the clinic's SMTP settings now; returns what happened, in
    words, for the clinic admin to read."""
    message = AnymailMessage(
        subject=f"Test email from {clinic.name}",
        body="This test email shows the clinic's SMTP settings work.",
        from_email=from_address(clinic),
        to=[to],
    )
    try:
        with smtp_connection(clinic) as connection:
            connection.send_messages([message])
    except (smtplib.SMTPException, OSError) as error:
        return f"The test email failed: {classify_send_failure(error).words}"
    return f"The test email was accepted by {clinic.smtp_host}. Check the inbox of {to}."
