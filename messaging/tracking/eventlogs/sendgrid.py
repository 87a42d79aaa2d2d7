"""SendGrid's Email Activity API, where the account has it (a paid add-on, "additional email
activity history", and an API key with Email Activity access): `GET /v3/messages?query=...`
lists messages (at most 1,000 an answer, no paging), `GET /v3/messages/{msg_id}` gives one's
events. SendGrid allows it 6 requests a minute.

Our emails are found by the custom argument anymail sends with each (`email_id`, from the
message's metadata: `unique_args['email_id']="..."`), a window by `last_event_time BETWEEN
TIMESTAMP "..." AND TIMESTAMP "..."` (a window holding 1,000 messages or more is read in halves).
A 403 or 404 answer to the listing means the account has no such API: said once, in words.

Each activity event is turned into the Event Webhook event SendGrid would have posted, read by
anymail's SendGrid view as a webhook's is:

| activity `event_name` | webhook `event` |
|---|---|
| processed, delivered, deferred, dropped | the same; `reason` is `response` or `reason` |
| bounced | `bounce`: `bounce_type` hard is `type` bounce, soft is `type` blocked |
| opened, clicked, spam_report | open, click (`url`), spamreport |
| unsubscribe, group_unsubscribe, group_resubscribe | the same |

The message's `unique_args` (our metadata and anymail's `anymail_id`) are merged into each event
as the webhook merges them. The activity API gives no `sg_event_id`: such an event is keyed by
message, type and time to the second (rows.dedup_key), and the same event posted by the webhook
later, under its `sg_event_id`, is a second row of the same fact: it changes no status and has
no consequence twice (an email's consequences happen once).
"""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from django.utils.dateparse import parse_datetime

from messaging.tracking.eventlogs import ApiReader, MessageRef, Page, anymail_setting, converter

API_URL = "https://api.sendgrid.com/v3/"
LIMIT = 1000  # the most one listing gives
SMALLEST_WINDOW = timedelta(seconds=2)
EVENTS = {
    "processed": "processed",
    "delivered": "delivered",
    "deferred": "deferred",
    "dropped": "dropped",
    "bounced": "bounce",
    "opened": "open",
    "clicked": "click",
    "spam_report": "spamreport",
    "unsubscribe": "unsubscribe",
    "group_unsubscribe": "group_unsubscribe",
    "group_resubscribe": "group_resubscribe",
}


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def custom_args(message: dict) -> dict:
    """The message's unique_args (custom_args), which SendGrid gives as a JSON string."""
    args = message.get("unique_args") or {}
    if isinstance(args, str):
        try:
            args = json.loads(args)
        except ValueError:
            args = {}
    return {str(key): value for key, value in args.items()} if isinstance(args, dict) else {}


def webhook_events(message: dict) -> list[dict]:
    """The Event Webhook events SendGrid would have posted for one message's activity."""
    merged = custom_args(message)
    events = []
    for activity in message.get("events") or []:
        name = EVENTS.get(activity.get("event_name"))
        when = parse_datetime(str(activity.get("processed") or ""))
        if name is None or when is None:
            continue
        event = {
            **merged,
            "event": name,
            "email": message.get("to_email"),
            "timestamp": int(when.timestamp()),
            "sg_message_id": message.get("msg_id"),
        }
        reason = activity.get("reason") or ""
        if name == "bounce":
            event["type"] = "blocked" if activity.get("bounce_type") == "soft" else "bounce"
            event["reason"] = reason
        elif name == "dropped":
            event["reason"] = reason
        elif name in ("delivered", "deferred"):
            event["response"] = reason
            if name == "deferred" and activity.get("attempt_num") is not None:
                event["attempt"] = str(activity["attempt_num"])
        elif name == "click":
            event["url"] = activity.get("url") or ""
        if activity.get("http_user_agent"):
            event["useragent"] = activity["http_user_agent"]
        events.append(event)
    return events


class SendGridEventLog(ApiReader):
    esp_name = "SendGrid"
    unavailable_statuses = (401, 403, 404)

    def __init__(self, *, patient: bool = False) -> None:
        super().__init__(patient=patient)
        self.base = anymail_setting("SENDGRID_API_URL", API_URL).rstrip("/")
        self.api_key = anymail_setting("SENDGRID_API_KEY", "")
        self.view = converter(SendGridTrackingWebhookView)

    def request_options(self) -> dict:
        return {"headers": {"Authorization": f"Bearer {self.api_key}"}}

    def unavailable_words(self, response) -> str:
        return (
            f"SendGrid's Email Activity API is not available to this account "
            f"(HTTP {response.status_code}): it is a paid add-on (additional email activity "
            "history), and the API key needs Email Activity access. Until then only the Event "
            "Webhook reports SendGrid's events (SendGrid retries it for 24 hours)."
        )

    def message_events(self, message: MessageRef) -> list:
        query = f"unique_args['email_id']=\"{message.email_id}\""
        events = []
        for summary in self._listing(query, limit=10):
            events += self._message_events(str(summary.get("msg_id") or ""))
        return events

    def attempt_events(self, *, email_id, recipient: str, begin: datetime) -> list:
        """What an earlier attempt to send this email left: found by its email_id."""
        return self.message_events(MessageRef(email_id=email_id, message_id="", sent_at=begin))

    def pages(self, *, begin: datetime, end: datetime) -> Iterator[Page]:
        """The events of every message with activity in the window, one message at a time."""
        for summary in self._window(begin, end):
            msg_id = str(summary.get("msg_id") or "")
            yield Page(self._message_events(msg_id), f"message {msg_id}")

    def _listing(self, query: str, *, limit: int = LIMIT) -> list[dict]:
        body = self.get(f"{self.base}/messages", params={"query": query, "limit": limit})
        return [item for item in (body or {}).get("messages") or [] if isinstance(item, dict)]

    def _window(self, begin: datetime, end: datetime) -> Iterator[dict]:
        query = (
            f'last_event_time BETWEEN TIMESTAMP "{timestamp(begin)}" '
            f'AND TIMESTAMP "{timestamp(end)}"'
        )
        listed = self._listing(query)
        if len(listed) >= LIMIT and end - begin > SMALLEST_WINDOW:
            middle = begin + (end - begin) / 2
            yield from self._window(begin, middle)
            yield from self._window(middle + timedelta(seconds=1), end)
            return
        yield from listed

    def _message_events(self, msg_id: str) -> list:
        if not msg_id:
            return []
        # A message the listing named but whose details are gone (404): nothing to read.
        message = self.get(f"{self.base}/messages/{quote(msg_id, safe='')}", missing=(404,))
        if not message:
            return []
        return [self.view.esp_to_anymail_event(event) for event in webhook_events(message)]
