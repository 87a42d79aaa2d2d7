"""The simulator's records: accepted messages (one per recipient) and their events."""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class SentMessage:
    """One recipient's copy of an accepted message."""

    message_id: str  # with angle brackets, as in the API response
    domain: str
    recipient: str
    recipient_type: str  # to / cc / bcc
    to: str  # the To header this recipient sees
    sender: str  # envelope sender (addr-spec of the first From)
    from_: str
    subject: str
    tags: list[str]
    user_variables: dict[str, Any]
    headers: dict[str, str]
    has_text: bool
    has_html: bool
    template: str | None
    attachments: list[dict[str, Any]]
    size: int
    outcome: str
    click_url: str
    accepted_at: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["from"] = data.pop("from_")
        return data


def new_event_id() -> str:
    """A Mailgun-style event id (22 url-safe characters)."""
    return secrets.token_urlsafe(16)


def new_token() -> str:
    """A Mailgun-style webhook signature token (50 hex characters)."""
    return secrets.token_hex(25)


FINAL_STATES = ("delivered", "refused", "gave_up", "recorded", "cancelled")


@dataclass
class EventRecord:
    """A generated event and the state of its webhook delivery."""

    data: dict[str, Any]  # Mailgun's event-data
    due: float  # when the event "happens" (earliest webhook post)
    token: str = field(default_factory=new_token)
    state: str = "scheduled"  # scheduled/retrying, then one of FINAL_STATES
    attempts: list[dict[str, Any]] = field(default_factory=list)
    fired_at: float | None = None
    next: EventRecord | None = field(default=None, repr=False)

    @property
    def id(self) -> str:
        return self.data["id"]

    @property
    def event(self) -> str:
        return self.data["event"]

    @property
    def recipient(self) -> str:
        return self.data["recipient"]

    @property
    def message_id(self) -> str:
        return self.data["message"]["headers"]["message-id"]

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "event": self.event,
            "severity": self.data.get("severity"),
            "reason": self.data.get("reason"),
            "recipient": self.recipient,
            "message_id": self.message_id,
            "timestamp": self.data["timestamp"],
            "due": self.due,
            "token": self.token,
            "state": self.state,
            "attempts": list(self.attempts),
            "event_data": self.data,
        }
