"""Pure decisions about sending: what a failure means and when to try again."""

import random
import smtplib
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import requests
from anymail.exceptions import (
    AnymailAPIError,
    AnymailInvalidAddress,
    AnymailRecipientsRefused,
)

# transient: the ESP or server may take it later; permanent: it refused this email; rejected: it
# refuses the recipient; fault: anything else (a PDF that cannot be built, a bug), ours to fix.
FailureKind = Literal["transient", "permanent", "rejected", "fault"]

INVALID_ADDRESS_WORDS = (
    "The client's email address is not valid, so this email could not be sent. Correct the "
    "address in the client's details."
)


@dataclass(frozen=True)
class SendFailure:
    kind: FailureKind
    words: str
    # The ESP may have accepted the email all the same (it did not answer in time): a retry
    # must first give its events the time to say so.
    unknown_outcome: bool = False
    # The words are ours and whole, not an ESP's answer: found before anything was sent, or a
    # clinic's own server's refusal told in our words.
    before_sending: bool = False


class SmtpRefusal(smtplib.SMTPException):
    """Why the clinic's own server was not used or not trusted, in our words: it names no
    address and echoes nothing the server sent, so it may be shown to the clinic as it is."""

    def __init__(self, words: str, *, kind: FailureKind = "permanent"):
        super().__init__(words)
        self.words = words
        self.kind = kind


def _esp_words(error: AnymailAPIError) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict):  # Amazon SES: botocore's parsed error, not an HTTP response
        return str(response.get("Error", {}).get("Message") or error)
    if response is not None:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            for key in ("message", "Message", "error", "errors"):
                if body.get(key):
                    return str(body[key])
        if response.text:
            return response.text[:500]
    return str(error.args[0]) if error.args else type(error).__name__


def _esp_status(error: AnymailAPIError) -> int | None:
    response = getattr(error, "response", None)
    if error.status_code is None and isinstance(response, dict):  # Amazon SES, as above
        return response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return error.status_code


def classify_send_failure(error: Exception) -> SendFailure:
    """Transient failures are retried; permanent ones fail the email with the ESP's words;
    a recipient the ESP refuses is failed and suppressed."""
    if isinstance(error, AnymailRecipientsRefused):
        return SendFailure(
            "rejected",
            "The email provider refuses this address (it is on the provider's suppression list).",
        )
    if isinstance(error, AnymailInvalidAddress):  # anymail checks addresses before any request
        return SendFailure("permanent", INVALID_ADDRESS_WORDS, before_sending=True)
    if isinstance(error, AnymailAPIError):
        if isinstance(error, requests.ConnectTimeout):  # nothing reached it
            return SendFailure("transient", "The email provider could not be reached.")
        if isinstance(error, requests.Timeout):
            return SendFailure(
                "transient",
                "The email provider did not answer in time; it may have accepted the email.",
                unknown_outcome=True,
            )
        if isinstance(error, requests.ConnectionError):
            return SendFailure("transient", "The email provider could not be reached.")
        status = _esp_status(error)
        if status is None or status == 429 or status >= 500:
            return SendFailure(
                "transient", f"The email provider answered {status}: {_esp_words(error)}"
            )
        return SendFailure("permanent", _esp_words(error))
    return _classify_smtp_failure(error)


SERVER_WORDS = "The clinic's server"

# What a clinic's own server answered, told by its SMTP code only: the text a server sends (its
# banner, its error lines) is never shown, so the test email cannot read out whatever listens at
# an address, and no remote text reaches the email log.
SMTP_ANSWER_WORDS: tuple[tuple[type[smtplib.SMTPResponseException], str], ...] = (
    (smtplib.SMTPAuthenticationError, f"{SERVER_WORDS} refused the user name or password."),
    (
        smtplib.SMTPSenderRefused,
        f"{SERVER_WORDS} refused the sender address (SMTP code {{code}}): check the “From” email "
        "address in the clinic settings.",
    ),
    (smtplib.SMTPDataError, f"{SERVER_WORDS} refused the email (SMTP code {{code}})."),
    (smtplib.SMTPConnectError, f"{SERVER_WORDS} refused the connection (SMTP code {{code}})."),
    (smtplib.SMTPHeloError, f"{SERVER_WORDS} did not answer as an email server does."),
)
NOT_AN_EMAIL_SERVER_WORDS = f"{SERVER_WORDS} did not answer as an email server does."
# Failures of the network, most specific first (all are OSError).
NETWORK_WORDS: tuple[tuple[type[OSError], str], ...] = (
    (ConnectionRefusedError, f"{SERVER_WORDS} refused the connection."),
    (socket.timeout, f"{SERVER_WORDS} did not answer in time."),
    (ConnectionError, f"{SERVER_WORDS} closed the connection."),
    (OSError, f"{SERVER_WORDS} could not be reached."),
)
ENCRYPTION_FAILED_WORDS = (
    "An encrypted connection to the clinic's server could not be set up, so nothing was "
    "sent: check the encryption setting (port 465 usually needs “TLS from the start”, "
    "ports 587 and 25 STARTTLS)."
)


def _code_kind(code: int) -> FailureKind:
    return "transient" if 400 <= code < 500 else "permanent"


def _classify_smtp_failure(error: Exception) -> SendFailure:
    """Words for a failure of the clinic's own server, ours only (see SMTP_ANSWER_WORDS)."""
    if isinstance(error, SmtpRefusal):
        return SendFailure(error.kind, error.words, before_sending=True)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code = next(iter(error.recipients.values()))[0]
        if 400 <= code < 500:
            words = f"{SERVER_WORDS} did not take the client's address for now (SMTP code {code})."
        else:
            words = (
                f"{SERVER_WORDS} refused to deliver to the client's address (SMTP code {code}): "
                "check the address, or ask the server's provider why."
            )
        return SendFailure(_code_kind(code), words, before_sending=True)
    if isinstance(error, smtplib.SMTPResponseException):
        return _smtp_answer_failure(error)
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return SendFailure(
            "permanent",
            f"{SERVER_WORDS} does not support something this email needs (such as international "
            "characters in an address).",
            before_sending=True,
        )
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return SendFailure("transient", f"{SERVER_WORDS} closed the connection.")
    if isinstance(error, smtplib.SMTPException):
        return SendFailure("transient", f"{SERVER_WORDS} could not take the email.")
    if isinstance(error, ssl.SSLError):
        return SendFailure("permanent", ENCRYPTION_FAILED_WORDS, before_sending=True)
    for error_class, words in NETWORK_WORDS:
        if isinstance(error, error_class):
            return SendFailure("transient", words)
    return fault_failure(error)


def _smtp_answer_failure(error: smtplib.SMTPResponseException) -> SendFailure:
    code = error.smtp_code
    if not 200 <= code < 600:  # no SMTP code at all: something else listens there
        return SendFailure("permanent", NOT_AN_EMAIL_SERVER_WORDS, before_sending=True)
    for error_class, words in SMTP_ANSWER_WORDS:
        if isinstance(error, error_class):
            return SendFailure(_code_kind(code), words.format(code=code), before_sending=True)
    return SendFailure(
        _code_kind(code),
        f"{SERVER_WORDS} answered with an error (SMTP code {code}).",
        before_sending=True,
    )


def fault_failure(error: Exception) -> SendFailure:
    """A failure that is neither the ESP's nor the address's: retried in case it passes, then
    the email fails saying the problem is ours."""
    detail = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return SendFailure(
        "fault",
        f"It could not be sent because of a problem on our side ({detail[:300]}), not because "
        "of the client's address. Support has the details; try again later.",
        before_sending=True,
    )


def retry_delay(attempt: int, *, base: float = 10.0, cap: float = 900.0, rng=random) -> float:
    """Seconds to wait before the next attempt: exponential, capped, with full jitter above half."""
    ceiling = min(cap, base * 2 ** max(attempt - 1, 0))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def reminder_due_at(start: datetime, *, time_zone: str, lead: timedelta) -> datetime:
    """When to remind: the lead time before the start on the clinic's wall clock, so a 10:00
    appointment is reminded at 10:00 the day before even across a daylight-saving change."""
    local_start = start.astimezone(ZoneInfo(time_zone))
    return (local_start - lead).astimezone(ZoneInfo("UTC"))
