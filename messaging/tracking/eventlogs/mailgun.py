"""Mailgun's Events API: `GET /v3/<domain>/events`, by message id or by time range, ascending,
300 events a page, each page's `paging.next` followed until a page is empty.

Each item is the event-data a webhook carries, so anymail's Mailgun view reads it wrapped as a
webhook body, `{"event-data": item}` (there is no signature block: nothing was posted), and the
event keeps Mailgun's event id, the key a webhook of the same event is stored under.

Mailgun marks this API deprecated in favour of its Logs API (`POST /v1/analytics/logs`), with no
date set; see docs/operations.md for how the two differ.
"""

import math
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.utils import parseaddr
from urllib.parse import quote, urlsplit

from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from django.conf import settings

from messaging.tracking.eventlogs import (
    ApiReader,
    EventLogError,
    MessageRef,
    Page,
    anymail_setting,
    converter,
    epoch,
)

API_URL = "https://api.mailgun.net/v3"
PAGE_LIMIT = 300  # the most Mailgun gives a page
# A message's events are searched from a little before it was recorded as sent (the ESP's
# clock and ours differ, and anymail records the send once Mailgun has answered).
BEFORE_SENT = timedelta(minutes=5)


def sender_domain() -> str:
    """The domain anymail sends from: MAILGUN_SENDER_DOMAIN, else the From address's."""
    configured = anymail_setting("MAILGUN_SENDER_DOMAIN")
    if configured:
        return configured
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]


class MailgunEventLog(ApiReader):
    esp_name = "Mailgun"
    unavailable_statuses = (401, 403, 404)  # 404: Mailgun knows no such domain

    def __init__(self, *, patient: bool = False) -> None:
        super().__init__(patient=patient)
        base = anymail_setting("MAILGUN_API_URL", API_URL).rstrip("/")
        self.domain = sender_domain()
        self.url = f"{base}/{quote(self.domain, safe='')}/events"
        self.api_key = anymail_setting("MAILGUN_API_KEY", "")
        # The view only converts events here; it checks no signature.
        self.view = converter(MailgunTrackingWebhookView, api_key=self.api_key or "unused")

    def request_options(self) -> dict:
        return {"auth": ("api", self.api_key)}

    def unavailable_words(self, response) -> str:
        if response.status_code == 404:
            return (
                f"Mailgun knows no domain {self.domain!r} at {self.url} (HTTP 404): check "
                "MAILGUN_SENDER_DOMAIN and MAILGUN_API_URL (the EU region has its own)."
            )
        return super().unavailable_words(response)

    def message_events(self, message: MessageRef) -> list:
        params = {
            "message-id": message.message_id.strip().strip("<>"),
            "begin": epoch(message.sent_at - BEFORE_SENT),
            "ascending": "yes",
            "limit": PAGE_LIMIT,
        }
        return [event for page in self._pages(params) for event in page.events]

    def attempt_events(self, *, email_id, recipient: str, begin: datetime) -> list:
        """Every event logged for this recipient since `begin`: what an earlier attempt to send
        one of our emails may have left (messaging/sending/delivery.py)."""
        params = {
            "recipient": recipient,
            "begin": epoch(begin - BEFORE_SENT),
            "ascending": "yes",
            "limit": PAGE_LIMIT,
        }
        return [event for page in self._pages(params) for event in page.events]

    def pages(self, *, begin: datetime, end: datetime) -> Iterator[Page]:
        # Whole seconds, the window widened to them: an event at 12:00:00.4 is in "until 12:00".
        params = {"begin": epoch(begin), "end": math.ceil(end.timestamp()), "ascending": "yes"}
        yield from self._pages({**params, "limit": PAGE_LIMIT})

    def _pages(self, params: dict) -> Iterator[Page]:
        url, number = self.url, 0
        while True:
            body = self.get(url, params=params) or {}
            items = [item for item in body.get("items") or [] if isinstance(item, dict)]
            if not items:
                return
            number += 1
            yield Page([self.event(item) for item in items], f"page {number}")
            url, params = self._next(body), None

    def _next(self, body: dict) -> str:
        """The next page's URL, which Mailgun gives absolute: followed only on the API's own
        host, since the API key goes with it."""
        following = str((body.get("paging") or {}).get("next") or "")
        ours, theirs = urlsplit(self.url), urlsplit(following)
        if (theirs.scheme, theirs.netloc) != (ours.scheme, ours.netloc):
            raise EventLogError(f"Mailgun's next page is not on {ours.netloc}: {following!r}")
        return following

    def event(self, item: dict):
        return self.view.esp_to_anymail_event({"event-data": item})
