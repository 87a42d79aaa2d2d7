"""The ESPs' own event logs, read through their APIs: the second source of events beside the
webhooks, for the events a webhook never brought (messaging/tracking/reconcile.py).

A reader answers two questions: the events of one of our messages (`message_events`), and every
event logged in a window of time, a page at a time (`pages`, for `manage.py esp_reconcile`).
It turns what its API answers into anymail tracking events, as anymail's webhook view for that
ESP would have made them of the same event, so that they become the same EventRows
(messaging/tracking/rows.py) and take the same path: kept by `events_receive`, applied by the
drain, each stored once whichever source brought it first.

| ESP | its event log | here |
|---|---|---|
| Mailgun | Events API, `GET /v3/<domain>/events` | `mailgun.py` |
| Postmark | message details (`MessageEvents`) and the bounces API | `postmark.py` |
| SendGrid | Email Activity API (a paid add-on) | `sendgrid.py` |
| Amazon SES | none this platform can read | `NO_EVENT_LOG` |
"""

import email.utils
import importlib
import itertools
import logging
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import requests
from anymail.exceptions import AnymailInsecureWebhookWarning, AnymailNotSupportedWarning
from django.conf import settings

logger = logging.getLogger(__name__)

# Where each ESP's reader lives, by stream name (suppression/streams.py).
READERS = {
    "mailgun": "messaging.tracking.eventlogs.mailgun.MailgunEventLog",
    "postmark": "messaging.tracking.eventlogs.postmark.PostmarkEventLog",
    "sendgrid": "messaging.tracking.eventlogs.sendgrid.SendGridEventLog",
}
HAS_EVENT_LOG = frozenset(READERS)
# What the operator is told of an ESP whose events only its webhooks bring.
NO_EVENT_LOG = {
    "amazon_ses": (
        "Amazon SES keeps no event log this platform can read: its events reach us only "
        "through SNS. (SESv2 GetMessageInsights needs Virtual Deliverability Manager.) Make "
        "SNS retry for longer, or deliver to an SQS queue with a dead-letter queue: see "
        "docs/operations.md."
    ),
}
# A rate-limited call is tried again after this long when the API does not say; never longer
# than RETRY_AFTER_MAX, and at most PATIENCE times, by a patient reader (the command).
RETRY_AFTER_DEFAULT = 10.0
RETRY_AFTER_MAX = 60.0
PATIENCE = 30


class EventLogUnavailable(Exception):
    """The account has no event log this platform can read (the credentials are refused, or
    the API is a paid add-on it lacks): said once, in words, rather than asked again and again."""


class EventLogError(Exception):
    """The event log could not be read now (unreachable, an error, rate-limited): asked again
    later."""

    def __init__(self, words: str, *, retry_after: float | None = None) -> None:
        super().__init__(words)
        self.retry_after = retry_after


@dataclass(frozen=True)
class MessageRef:
    """What a reader needs of one of our emails to find its events."""

    email_id: uuid.UUID
    message_id: str  # the ESP's id, as anymail's backend recorded it
    sent_at: datetime


@dataclass(frozen=True)
class Page:
    """One answer of a time-window read: its events, and what was read, in words."""

    events: list = field(default_factory=list)  # anymail tracking events
    what: str = ""


class EventLog(Protocol):
    esp_name: str  # anymail's name for the ESP, which event_row() takes

    def message_events(self, message: MessageRef) -> list: ...

    def pages(self, *, begin: datetime, end: datetime) -> Iterator[Page]: ...


def event_log(stream: str, *, patient: bool = False) -> EventLog | None:
    """The reader of this stream's event log, or None if it has none. A patient reader waits
    out rate limits (an operator's command); an impatient one raises EventLogError (beat)."""
    path = READERS.get(stream)
    if path is None:
        return None
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)(patient=patient)


def anymail_setting(name: str, default: Any = None) -> Any:
    return settings.ANYMAIL.get(name, default)


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def converter(view_class: type, **kwargs: Any) -> Any:
    """anymail's webhook view for the ESP, used only to convert events as it converts a post's:
    quiet about the webhooks it does not serve here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AnymailInsecureWebhookWarning)
        warnings.simplefilter("ignore", AnymailNotSupportedWarning)  # SendGrid's
        return view_class(**kwargs)


class ApiReader:
    """An ESP API read over one HTTP session, with anymail's timeouts."""

    esp_name = ""
    # The ESP's answers that mean this account cannot read the log at all.
    unavailable_statuses: tuple[int, ...] = (401, 403)

    def __init__(self, *, patient: bool = False) -> None:
        self.patient = patient
        self.session = requests.Session()
        self.timeout = anymail_setting("REQUESTS_TIMEOUT", (5, 30))

    def request_options(self) -> dict[str, Any]:
        """Credentials: headers or auth for every call."""
        return {}

    def unavailable_words(self, response: requests.Response) -> str:
        return (
            f"{self.esp_name} refused to show its event log ({_status(response)}): check the "
            "API credentials this platform sends with."
        )

    def get(self, url: str, *, params: Any = None, missing: tuple[int, ...] = ()) -> Any:
        """The JSON the API answers; None for a status in `missing` (not found)."""
        for attempt in itertools.count(1):
            try:
                response = self.session.get(
                    url, params=params, timeout=self.timeout, **self.request_options()
                )
            except requests.RequestException as error:
                raise EventLogError(f"could not reach {self.esp_name}'s API: {error}") from error
            if response.status_code == 429:
                wait = retry_after(response)
                if self.patient and attempt <= PATIENCE:
                    logger.info("%s asks us to slow down: waiting %.0f s", self.esp_name, wait)
                    time.sleep(wait)
                    continue
                raise EventLogError(
                    f"{self.esp_name}'s API asks us to slow down (429)", retry_after=wait
                )
            if response.status_code in missing:
                return None
            if response.status_code in self.unavailable_statuses:
                raise EventLogUnavailable(self.unavailable_words(response))
            if not response.ok:
                raise EventLogError(f"{self.esp_name}'s API answered {_status(response)}")
            try:
                return response.json()
            except ValueError as error:
                raise EventLogError(f"{self.esp_name}'s API answered something not JSON") from error
        raise AssertionError("unreachable")


def retry_after(response: requests.Response) -> float:
    """How long the API asks us to wait: Retry-After (seconds or a date), or SendGrid's
    X-RateLimit-Reset (epoch seconds)."""
    wait = None
    header = response.headers.get("Retry-After")
    if header:
        try:
            wait = float(header)
        except ValueError:
            try:
                wait = email.utils.parsedate_to_datetime(header).timestamp() - time.time()
            except (TypeError, ValueError):
                wait = None
    reset = response.headers.get("X-RateLimit-Reset")
    if wait is None and reset:
        try:
            wait = float(reset) - time.time()
        except ValueError:
            wait = None
    if wait is None:
        wait = RETRY_AFTER_DEFAULT
    return min(max(wait, 1.0), RETRY_AFTER_MAX)


def _status(response: requests.Response) -> str:
    text = " ".join(response.text.split())[:200]
    return f"HTTP {response.status_code}" + (f": {text}" if text else "")
