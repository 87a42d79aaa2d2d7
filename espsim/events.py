"""Building Mailgun event-data (the ``event-data`` block of a tracking webhook)."""

from __future__ import annotations

import copy
import random
import secrets
import time
from typing import Any

from .addresses import domain_of
from .outcomes import Outcome, Step
from .records import EventRecord, SentMessage, new_event_id

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
FIRST_DELAY = (0.05, 0.3)  # accepted webhook, seconds (scaled)
STEP_DELAY = (0.3, 1.5)  # between successive events of one message (scaled)


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
        "user-variables": dict(msg.user_variables),
        "domain": {"name": msg.domain},
    }


def _transport_fields(msg: SentMessage, step: Step) -> dict[str, Any]:
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
        data.update(_transport_fields(msg, step))
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


def build_chain(
    msg: SentMessage, outcome: Outcome, delay_scale: float, now: float | None = None
) -> list[EventRecord]:
    """Event records for every step of ``outcome``, timed and linked in order."""
    now = time.time() if now is None else now
    records: list[EventRecord] = []
    timestamp, due = now, now + random.uniform(*FIRST_DELAY) * delay_scale
    attempt_no = 1
    for index, step in enumerate(outcome.steps):
        if index:
            timestamp = due = due + random.uniform(*STEP_DELAY) * delay_scale
        record = EventRecord(build_event_data(msg, step, timestamp, attempt_no), due)
        if step.severity == "temporary":
            attempt_no += 1
        if records:
            records[-1].next = record
        records.append(record)
    return records
