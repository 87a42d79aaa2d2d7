"""Mailgun's words for each outcome step, and its event-data (the body of a tracking webhook).

| step       | Mailgun event                                                      |
|------------|--------------------------------------------------------------------|
| accepted   | ``accepted``                                                       |
| delivered  | ``delivered`` (250; after a deferral, delivery-status attempt-no 2) |
| bounced    | ``failed``, permanent, reason ``bounce`` (550 5.1.1)               |
| deferred   | ``failed``, temporary, reason ``greylisted`` (451 4.7.1)           |
| complained | ``complained``                                                     |
| opened     | ``opened``                                                         |
| clicked    | ``clicked`` (the first link of the html)                           |
| no_domain  | ``failed``, permanent, reason ``generic`` (498, no such domain)    |
| suppressed | ``failed``, permanent, ``suppress-bounce``/``-complaint``/``-unsubscribe`` |
"""

from __future__ import annotations

import copy
import random
import secrets
from dataclasses import dataclass, field
from typing import Any

from .. import outcomes as steps
from ..addresses import domain_of
from ..outcomes import Moment, Outcome
from ..records import EventRecord, SentMessage, link

BOUNCE_MESSAGE = "5.1.1 The email account that you tried to reach does not exist"
DEFER_MESSAGE = "4.7.1 Greylisted: please try again later"
SUPPRESSED = {
    "bounce": ("suppress-bounce", 605, "Not delivering to previously bounced address"),
    "complaint": (
        "suppress-complaint",
        607,
        "Not delivering to a user who marked your messages as spam",
    ),
    "unsubscribe": ("suppress-unsubscribe", 606, "Not delivering to unsubscribed address"),
}
FLAGS = {
    "is-routed": False,
    "is-authenticated": True,
    "is-system-test": False,
    "is-test-mode": False,
}
CLIENT_INFO = {
    "client-type": "browser",
    "client-os": "Linux",
    "device-type": "desktop",
    "client-name": "Firefox",
    "user-agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
}
GEOLOCATION = {"country": "US", "region": "CA", "city": "San Francisco"}


@dataclass(frozen=True)
class Step:
    """One Mailgun event of an outcome (its event-data is built from it)."""

    event: str
    log_level: str = "info"
    severity: str | None = None
    reason: str | None = None
    status: dict[str, Any] | None = field(default=None, hash=False)


def _smtp_status(code: int, message: str, **extra: Any) -> dict[str, Any]:
    status: dict[str, Any] = {
        "tls": True,
        "code": code,
        "description": "",
        "utf8": True,
        "message": message,
        "certificate-verified": True,
    }
    status.update(extra)
    return status


STEPS = {
    steps.ACCEPTED: Step("accepted"),
    steps.DELIVERED: Step("delivered", status=_smtp_status(250, "OK")),
    steps.OPENED: Step("opened"),
    steps.CLICKED: Step("clicked"),
    steps.COMPLAINED: Step("complained", log_level="warn"),
    steps.BOUNCED: Step(
        "failed",
        log_level="error",
        severity="permanent",
        reason="bounce",
        status=_smtp_status(550, BOUNCE_MESSAGE, **{"enhanced-code": "5.1.1"}),
    ),
    steps.DEFERRED: Step(
        "failed",
        log_level="warn",
        severity="temporary",
        reason="greylisted",
        status=_smtp_status(
            451,
            DEFER_MESSAGE,
            description="Recipient address rejected: greylisted, try again later",
            **{"retry-seconds": 600, "enhanced-code": "4.7.1"},
        ),
    ),
}


def _no_domain(domain: str) -> Step:
    text = f"No MX for {domain}: domain does not exist"
    status = {"attempt-no": 1, "code": 498, "message": text, "description": text}
    return Step("failed", "error", "permanent", "generic", status)


def _suppressed(why: str) -> Step:
    reason, code, text = SUPPRESSED[why]
    status = {"attempt-no": 1, "code": code, "message": "", "description": text}
    return Step("failed", "error", "permanent", reason, status)


def mailgun_step(step: str, message: SentMessage, outcome: Outcome) -> Step:
    if step == steps.NO_DOMAIN:
        return _no_domain(domain_of(message.recipient))
    if step == steps.SUPPRESSED:
        return _suppressed(outcome.suppressed or "bounce")
    return STEPS[step]


def new_event_id() -> str:
    """A Mailgun-style event id (22 url-safe characters)."""
    return secrets.token_urlsafe(16)


def _headers(msg: SentMessage, full: bool) -> dict[str, str]:
    message_id = msg.message_id.strip("<>")
    if not full:  # Mailgun only sends the message-id for engagement events
        return {"message-id": message_id}
    return {"to": msg.to, "message-id": message_id, "from": msg.from_, "subject": msg.subject}


def _base(msg: SentMessage, step: Step, timestamp: float) -> dict[str, Any]:
    return {
        "id": new_event_id(),
        "timestamp": round(timestamp, 6),
        "log-level": step.log_level,
        "event": step.event,
        "recipient": msg.recipient,
        "recipient-domain": domain_of(msg.recipient),
        "tags": list(msg.tags),
        "campaigns": [],
        "user-variables": dict(msg.metadata),
        "domain": {"name": msg.domain},
    }


def _transport_fields(msg: SentMessage) -> dict[str, Any]:
    key = secrets.token_urlsafe(24)
    return {
        "flags": dict(FLAGS),
        "envelope": {
            "sender": msg.sender,
            "transport": "smtp",
            "targets": msg.recipient,
            "sending-ip": "127.0.0.1",
        },
        "message": {
            "headers": _headers(msg, full=True),
            "attachments": [dict(item) for item in msg.attachments],
            "size": msg.size,
        },
        "storage": {
            "url": f"http://127.0.0.1/v3/domains/{msg.domain}/messages/{key}",
            "key": key,
        },
    }


def _engagement_fields(msg: SentMessage) -> dict[str, Any]:
    return {
        "message": {"headers": _headers(msg, full=False)},
        "ip": "203.0.113.10",
        "geolocation": dict(GEOLOCATION),
        "client-info": dict(CLIENT_INFO),
    }


def build_event_data(
    msg: SentMessage, step: Step, timestamp: float, attempt_no: int = 1
) -> dict[str, Any]:
    """The event-data Mailgun would post for ``step`` of ``msg``."""
    data = _base(msg, step, timestamp)
    if step.event in ("opened", "clicked"):
        data.update(_engagement_fields(msg))
        if step.event == "clicked":
            data["url"] = msg.click_url
    elif step.event == "complained":
        data["message"] = {"headers": _headers(msg, full=True), "size": msg.size}
    else:
        data.update(_transport_fields(msg))
    if step.event == "accepted":
        data["method"] = "HTTP"
    if step.severity:
        data["severity"] = step.severity
        data["reason"] = step.reason
    if step.status is not None:
        data["delivery-status"] = _delivery_status(msg, step, attempt_no)
    return data


def _delivery_status(msg: SentMessage, step: Step, attempt_no: int) -> dict[str, Any]:
    status = copy.deepcopy(step.status) or {}
    status["attempt-no"] = attempt_no
    if "tls" in status:  # an SMTP session took place
        status["mx-host"] = f"mx.{domain_of(msg.recipient)}"
        status["session-seconds"] = round(random.uniform(0.2, 2.5), 3)
    else:
        status["session-seconds"] = 0.0
    return status


def build_chain(msg: SentMessage, outcome: Outcome, moments: list[Moment]) -> list[EventRecord]:
    """Event records for every step of ``outcome``, timed and linked in order."""
    records: list[EventRecord] = []
    attempt_no = 1
    for moment in moments:
        step = mailgun_step(moment.step, msg, outcome)
        data = build_event_data(msg, step, moment.timestamp, attempt_no)
        records.append(
            EventRecord(
                data=data,
                due=moment.due,
                message=msg,
                kind=moment.step,
                event=step.event,
                id=data["id"],
                timestamp=data["timestamp"],
                severity=step.severity,
                reason=step.reason,
            )
        )
        if step.severity == "temporary":
            attempt_no += 1
    return link(records)
