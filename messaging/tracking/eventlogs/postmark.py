"""Postmark's event log: a message's details (`GET /messages/outbound/{id}/details`, its
`MessageEvents`) and the bounces API (`GET /bounces`, which also lists spam complaints), read
with the server token (`X-Postmark-Server-Token`).

Each record is turned into the webhook post Postmark would have made of it, and read by
anymail's Postmark view, as a webhook is:

| the API says | the webhook record built |
|---|---|
| MessageEvent `Delivered` | `Delivery`: `DeliveredAt` from `ReceivedAt`, `Details` |
| MessageEvent `Transient` | `Bounce` of `Type` `Transient` (Postmark goes on trying) |
| MessageEvent `Opened` | `Open`: `ReceivedAt` |
| MessageEvent `LinkClicked` | `Click`: `OriginalLink` = `Link`, `ClickLocation` |
| MessageEvent `Bounced` | skipped: the bounces API gives the whole bounce |
| a bounce (`/bounces`) | `Bounce` (or `SpamComplaint` when its `Type` is one) with every field |

A bounce keeps its `ID`, the key its webhook is stored under; the others have no id in either
source, and both are keyed by message, type and time to the second (rows.dedup_key). Each
record keeps, under `ReconciledFrom`, the API record it was built from.

Postmark's API reads `fromdate`/`todate` in US Eastern time, and pages by `count` (at most 500)
and `offset`, with count + offset at most 10,000: a window holding more is read in halves.
"""

from collections.abc import Iterator
from datetime import datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

from anymail.signals import AnymailTrackingEvent
from anymail.webhooks.postmark import PostmarkTrackingWebhookView

from messaging.tracking.eventlogs import ApiReader, MessageRef, Page, anymail_setting, converter

API_URL = "https://api.postmarkapp.com/"
COUNT = 500
MAX_RECORDS = 10_000  # count + offset may not pass it
EASTERN = ZoneInfo("America/New_York")
SMALLEST_WINDOW = timedelta(seconds=2)


def eastern(moment: datetime) -> str:
    """A time as Postmark's API reads it: US Eastern, to the second, no zone."""
    return moment.astimezone(EASTERN).strftime("%Y-%m-%dT%H:%M:%S")


def delivery_record(details: dict, event: dict) -> dict | None:
    """The webhook record Postmark would have posted for one of a message's MessageEvents."""
    kind, extra = event.get("Type"), event.get("Details") or {}
    common = {
        "MessageID": details.get("MessageID"),
        "MessageStream": details.get("MessageStream"),
        "Tag": details.get("Tag") or "",
        "Metadata": details.get("Metadata") or {},
        "ReconciledFrom": {"MessageEvent": event},
    }
    recipient, at = event.get("Recipient"), event.get("ReceivedAt")
    if kind == "Delivered":
        return {
            "RecordType": "Delivery",
            "Recipient": recipient,
            "DeliveredAt": at,
            "Details": extra.get("DeliveryMessage", ""),
            **common,
        }
    if kind == "Transient":
        return {
            "RecordType": "Bounce",
            "Type": "Transient",
            "TypeCode": 2,
            "Name": "Message delayed",
            "Email": recipient,
            "BouncedAt": at,
            "Description": extra.get("Summary") or "Message delayed",
            "Details": extra.get("DeliveryMessage", ""),
            **common,
        }
    if kind == "Opened":
        return {"RecordType": "Open", "Recipient": recipient, "ReceivedAt": at, **common}
    if kind == "LinkClicked":
        return {
            "RecordType": "Click",
            "Recipient": recipient,
            "ReceivedAt": at,
            "OriginalLink": extra.get("Link", ""),
            "ClickLocation": extra.get("ClickLocation", ""),
            **common,
        }
    return None  # Bounced (from the bounces API instead), SubscriptionChanged, unknown types


def bounce_record(bounce: dict, metadata: dict | None = None) -> dict:
    """The Bounce (or SpamComplaint) webhook record of a bounce the bounces API lists. The API
    gives no Metadata; the message's is added where known, else the MessageID matches it."""
    record_type = "SpamComplaint" if bounce.get("Type") == "SpamComplaint" else "Bounce"
    record = {**bounce, "RecordType": record_type, "ReconciledFrom": {"Bounce": bounce.get("ID")}}
    record.setdefault("Metadata", metadata or {})
    record.pop("Content", None)  # the raw bounce message, when asked for: not kept
    return record


def accepted(message: dict, recipient: str) -> AnymailTrackingEvent:
    """An outbound message Postmark lists, as the acceptance of it ("queued")."""
    return AnymailTrackingEvent(
        event_type="queued",
        timestamp=None,
        message_id=message["MessageID"],
        recipient=recipient,
        metadata=message.get("Metadata") or {},
        esp_event=message,
    )


class PostmarkEventLog(ApiReader):
    esp_name = "Postmark"
    # 404 from the bounces or messages listing: no such API at POSTMARK_API_URL. (A message's
    # details answer 404 or 422 when Postmark knows no such message: nothing logged of it.)
    unavailable_statuses = (401, 403, 404)

    def __init__(self, *, patient: bool = False) -> None:
        super().__init__(patient=patient)
        self.base = anymail_setting("POSTMARK_API_URL", API_URL).rstrip("/")
        self.token = anymail_setting("POSTMARK_SERVER_TOKEN", "")
        self.view = converter(PostmarkTrackingWebhookView)

    def request_options(self) -> dict:
        return {"headers": {"X-Postmark-Server-Token": self.token, "Accept": "application/json"}}

    def unavailable_words(self, response) -> str:
        if response.status_code == 404:
            return (
                f"Postmark's bounces and messages APIs are not at {self.base} (HTTP 404): "
                "check POSTMARK_API_URL."
            )
        return super().unavailable_words(response)

    def message_events(self, message: MessageRef) -> list:
        details = self._details(message.message_id)
        records = self._delivery_records(details) if details else []
        metadata = (details or {}).get("Metadata") or {}
        for page in self._listed("/bounces", "Bounces", {"messageID": message.message_id}):
            records += [bounce_record(bounce, metadata) for bounce in page]
        return [self.view.esp_to_anymail_event(record) for record in records]

    def attempt_events(self, *, email_id, recipient: str, begin: datetime) -> list:
        """What an earlier attempt to send one of our emails left: Postmark's outbound messages
        to this recipient since `begin` (its outbound message search), each as the acceptance
        anymail's backend would have recorded."""
        params = {"recipient": recipient, "fromdate": eastern(begin - timedelta(minutes=5))}
        found = []
        for page in self._listed("/messages/outbound", "Messages", params):
            found += [accepted(message, recipient) for message in page if message.get("MessageID")]
        return found

    def pages(self, *, begin: datetime, end: datetime) -> Iterator[Page]:
        """Every bounce and spam complaint in the window, then the events of every message sent
        in it (one call per message)."""
        for number, page in enumerate(self._windowed("/bounces", "Bounces", begin, end), 1):
            events = [self.view.esp_to_anymail_event(bounce_record(b)) for b in page]
            yield Page(events, f"bounces page {number}")
        sent = self._windowed("/messages/outbound", "Messages", begin, end)
        for message in (message for page in sent for message in page):
            details = self._details(str(message.get("MessageID") or ""))
            records = self._delivery_records(details) if details else []
            events = [self.view.esp_to_anymail_event(record) for record in records]
            yield Page(events, f"message {message.get('MessageID')}")

    def _details(self, message_id: str) -> dict | None:
        if not message_id:
            return None
        url = f"{self.base}/messages/outbound/{quote(message_id, safe='')}/details"
        # Not found (404, or Postmark's 422 "message not found"): nothing logged of it.
        return self.get(url, missing=(404, 422))

    def _delivery_records(self, details: dict) -> list[dict]:
        records = (delivery_record(details, event) for event in details.get("MessageEvents") or [])
        return [record for record in records if record is not None]

    def _listed(self, path: str, key: str, params: dict) -> Iterator[list[dict]]:
        """Pages of a listing, by offset, until it has given its TotalCount."""
        offset = 0
        while offset < MAX_RECORDS:
            count = min(COUNT, MAX_RECORDS - offset)
            paged = {**params, "count": count, "offset": offset}
            body = self.get(f"{self.base}{path}", params=paged)
            items = [item for item in (body or {}).get(key) or [] if isinstance(item, dict)]
            if not items:
                return
            yield items
            offset += len(items)
            if offset >= int((body or {}).get("TotalCount") or 0):
                return

    def _windowed(self, path: str, key: str, begin: datetime, end: datetime):
        """A listing of a time window; a window holding more than the API pages through is
        read in halves."""
        params = {"fromdate": eastern(begin), "todate": eastern(end)}
        first = self.get(f"{self.base}{path}", params={**params, "count": 1, "offset": 0}) or {}
        total = int(first.get("TotalCount") or 0)
        if total > MAX_RECORDS and end - begin > SMALLEST_WINDOW:
            middle = begin + (end - begin) / 2
            yield from self._windowed(path, key, begin, middle)
            yield from self._windowed(path, key, middle + timedelta(seconds=1), end)
            return
        if total:
            yield from self._listed(path, key, params)
