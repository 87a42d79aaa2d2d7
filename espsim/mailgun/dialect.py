"""Mailgun: its sending and suppression APIs, and signed JSON tracking webhooks.

django-anymail's Mailgun backend sends through it (``MAILGUN_API_URL =
"http://127.0.0.1:<port>/v3"``). Each event is posted on its own, as Mailgun's webhooks do:
``{"signature": {timestamp, token, signature}, "event-data": {...}}``, the signature an
HMAC-SHA256 of timestamp + token with the webhook signing key (default: the API key). A 406
answer stops retries (as Mailgun does); any other non-2xx answer is retried. A hard bounce or
complaint puts the address on the domain's bounces/complaints list, and later sends to it fail
with Mailgun's suppress-* events.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from werkzeug.routing import Rule

from ..dialect import Dialect, WebhookPost
from ..outcomes import Moment, Outcome
from ..records import EventRecord, SentMessage
from .api import MailgunAPI, make_entry
from .events import build_chain


def sign(signing_key: str, timestamp: str, token: str) -> str:
    """Mailgun's webhook signature: hex HMAC-SHA256 of timestamp + token."""
    message = f"{timestamp}{token}".encode()
    return hmac.new(signing_key.encode(), message, hashlib.sha256).hexdigest()


def webhook_payload(record: EventRecord, signing_key: str, now: float | None = None) -> dict:
    """The JSON body Mailgun posts: a fresh signature block plus the event-data."""
    timestamp = str(int(time.time() if now is None else now))
    signature = {
        "timestamp": timestamp,
        "token": record.token,
        "signature": sign(signing_key, timestamp, record.token),
    }
    return {"signature": signature, "event-data": record.data}


class Mailgun(Dialect):
    name = "mailgun"
    label = "Mailgun"
    options = ("signing_key",)

    def __init__(self, sim: Any) -> None:
        super().__init__(sim)
        self.signing_key = sim.signing_key or sim.api_key or ""
        self.api = MailgunAPI(self)

    def rules(self) -> list[Rule]:
        return self.api.rules()

    @property
    def api_url(self) -> str:
        return f"{self.sim.url}/v3"

    def anymail_settings(self) -> dict[str, Any]:
        settings = {
            "MAILGUN_API_URL": self.api_url,
            "MAILGUN_WEBHOOK_SIGNING_KEY": self.signing_key,
        }
        if self.sim.api_key:
            settings["MAILGUN_API_KEY"] = self.sim.api_key
        return settings

    def chain(
        self, message: SentMessage, outcome: Outcome, moments: list[Moment]
    ) -> list[EventRecord]:
        return build_chain(message, outcome, moments)

    def on_fire(self, record: EventRecord) -> None:
        """Mailgun's automatic suppressions."""
        data = record.data
        kind, fields = None, {}
        if data["event"] == "failed" and data.get("reason") == "bounce":
            status = data.get("delivery-status", {})
            kind = "bounces"
            fields = {"code": status.get("code", 550), "error": status.get("message", "")}
        elif data["event"] == "complained":
            kind = "complaints"
        if kind:
            entry = make_entry(kind, record.recipient, fields)
            self.sim.suppressions.add(kind, data["domain"]["name"], entry)

    def webhook_post(self, records: list[EventRecord], now: float) -> WebhookPost:
        [record] = records
        body = json.dumps(webhook_payload(record, self.signing_key, now)).encode()
        return WebhookPost(body, {"Content-Type": "application/json"})

    def verdict(self, status: int) -> str:
        if status == 406:
            return "refused"
        return super().verdict(status)

    def configure(self, changes: dict[str, Any]) -> None:
        if "signing_key" in changes:
            self.signing_key = str(changes["signing_key"] or "")
