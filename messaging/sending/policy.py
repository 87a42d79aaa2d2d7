"""Pure decisions about sending: what a failure means and when to try again."""

import random
import smtplib
import socket
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
    # Found before anything was sent: the words are ours, not a server's answer.
    before_sending: bool = False


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


def _classify_smtp_failure(error: Exception) -> SendFailure:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, words = next(iter(error.recipients.values()))
        kind: FailureKind = "transient" if 400 <= code < 500 else "permanent"
        return SendFailure(kind, f"{code} {words.decode(errors='replace')}")
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return SendFailure(
            "permanent", "The clinic's SMTP server refused its username or password."
        )
    if isinstance(error, smtplib.SMTPResponseException):
        kind = "transient" if 400 <= error.smtp_code < 500 else "permanent"
        return SendFailure(kind, f"{error.smtp_code} {error.smtp_error.decode(errors='replace')}")
    if isinstance(error, smtplib.SMTPException | OSError | socket.timeout):
        return SendFailure("transient", f"The clinic's SMTP server could not be reached: {error}")
    return fault_failure(error)


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
