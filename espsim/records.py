"""The simulator's records: accepted messages (one per recipient) and their events."""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class SentMessage:
    """One recipient's copy of an accepted message, in words common to every ESP."""

    message_id: str  # the ESP's id for it, as its sending API answered (Mailgun: with <>)
    domain: str  # Mailgun's sending domain, Postmark's message stream, else ""
    recipient: str
    recipient_type: str  # to / cc / bcc
    to: str  # the To header this recipient sees
    sender: str  # envelope sender (addr-spec of the first From)
    from_: str
    subject: str
    tags: list[str]
    metadata: dict[str, Any]  # what anymail sent as metadata (Mailgun: user-variables)
    headers: dict[str, str]
    has_text: bool
    has_html: bool
    template: str | None
    attachments: list[dict[str, Any]]
    size: int
    outcome: str
    click_url: str
    esp: dict[str, Any] = field(default_factory=dict)  # what only this ESP knows of it
    accepted_at: float = field(default_factory=time.time)

    def has_id(self, value: str) -> bool:
        """Whether ``value`` names this message: the ESP's id or another id it goes by
        (e.g. the ``anymail_id`` anymail gives SendGrid messages)."""
        value = value.strip("<>")
        return value == self.message_id.strip("<>") or value in self.esp.get("ids", ())

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["from"] = data.pop("from_")
        data["user_variables"] = data["metadata"]  # Mailgun's name for it
        return data


def new_token() -> str:
    """A Mailgun-style webhook signature token (50 hex characters)."""
    return secrets.token_hex(25)


FINAL_STATES = ("delivered", "refused", "gave_up", "recorded", "cancelled")


@dataclass
class EventRecord:
    """A generated event (the ESP's own payload) and the state of its webhook delivery."""

    data: dict[str, Any]  # the event as the ESP posts it
    due: float  # when the event "happens" (earliest webhook post)
    message: SentMessage | None = field(repr=False)  # None: not a message's (SNS subscription)
    kind: str  # the outcome step (espsim.outcomes), the same for every ESP
    event: str  # the ESP's name for it
    id: str  # the ESP's id of the event
    timestamp: float
    severity: str | None = None  # permanent / temporary, for failures
    reason: str | None = None  # the ESP's word for why (Mailgun reason, bounce type...)
    token: str = field(default_factory=new_token)  # same on every retry of the post
    state: str = "scheduled"  # scheduled/retrying, then one of FINAL_STATES
    attempts: list[dict[str, Any]] = field(default_factory=list)
    fired_at: float | None = None
    next: EventRecord | None = field(default=None, repr=False)

    @property
    def recipient(self) -> str:
        return self.message.recipient if self.message else ""

    @property
    def message_id(self) -> str:
        return self.message.message_id.strip("<>") if self.message else ""

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "event": self.event,
            "kind": self.kind,
            "severity": self.severity,
            "reason": self.reason,
            "recipient": self.recipient,
            "message_id": self.message_id,
            "timestamp": self.timestamp,
            "due": self.due,
            "token": self.token,
            "state": self.state,
            "attempts": list(self.attempts),
            "event_data": self.data,
        }


def link(records: list[EventRecord]) -> list[EventRecord]:
    """Chain ``records`` in order (each is posted once the one before is finished)."""
    for before, after in itertools.pairwise(records):
        before.next = after
    return records
