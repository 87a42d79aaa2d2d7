"""Turning anymail's tracking events into the rows we store: pure functions."""

import hashlib
import json
import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from messaging.tracking.mapping import verdict_for
from suppression.streams import stream_for_esp


@dataclass(frozen=True)
class EventRow:
    esp: str
    event_type: str
    status: str
    suppress: str
    occurred_at: datetime | None
    reject_reason: str
    description: str
    mta_response: str
    click_url: str
    user_agent: str
    recipient: str
    message_id: str
    email_id_hint: uuid.UUID | None
    dedup_key: str
    raw: Any
    cause: str = ""  # mapping.TEMPORARY or mapping.SENDER: why it failed, when not the address
    opt_out: bool = False  # the recipient unsubscribed


def rows_dump(rows: list[EventRow]) -> str:
    """The rows as JSON text, to wait in a ReceivedBatch for a worker. By orjson: the standard
    library's encoder took a quarter of a 1,000-event post's time (docs/benchmarks.md)."""
    try:
        text = orjson.dumps(rows, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:  # a lone surrogate or an integer beyond 64 bits: rare
        text = None
    if text is None or "\\u0000" in text:
        text = json.dumps([_kept(vars(row)) for row in rows], default=str, allow_nan=False)
    return text


def _kept(value: Any) -> Any:
    """The value as PostgreSQL can keep it: no NUL character and no lone surrogate in text (an
    ESP that cut a character in two), no NaN or infinity in numbers (jsonb has neither)."""
    if isinstance(value, str):
        return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {_kept(key): _kept(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_kept(item) for item in value]
    return value


def _esp_event_id(esp: str, raw: Any) -> str | None:
    if not isinstance(raw, dict):
        return None
    if esp == "mailgun":
        return (raw.get("event-data") or {}).get("id")
    if esp == "sendgrid":
        return raw.get("sg_event_id")
    return None


def _occurrence(event) -> str | None:
    """An event with no id, named by what both its webhook and the ESP's event log give of it:
    its message, type and time to the second (Postmark's deliveries, opens and clicks; the
    events of SendGrid's activity API)."""
    if not event.message_id or event.timestamp is None:
        return None
    moment = int(event.timestamp.timestamp())
    named = f"{event.message_id}\n{event.event_type}\n{moment}"
    return "at:" + hashlib.sha256(named.encode()).hexdigest()[:32]


def dedup_key(esp: str, event) -> str:
    """The ESP's own event id where it has one, else anymail's, else its message, type and
    time, else a hash of the raw event; with the recipient, since one ESP notification may cover
    several recipients. An event read from the ESP's event log (messaging/tracking/eventlogs)
    gets the key its webhook gets, so whichever comes second is skipped."""
    base = _esp_event_id(esp, event.esp_event) or event.event_id or _occurrence(event)
    if not base:
        canonical = json.dumps(event.esp_event, sort_keys=True, default=str)
        base = "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
    key = f"{base}:{event.recipient or ''}"
    return key if len(key) <= 128 else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _email_id(metadata: Any) -> uuid.UUID | None:
    if not isinstance(metadata, dict):
        return None
    try:
        return uuid.UUID(str(metadata.get("email_id")))
    except ValueError:
        return None


def _text(value: Any, limit: int) -> str:
    return "" if value is None else str(value)[:limit]


def _jsonable(raw: Any) -> Any:
    if isinstance(raw, dict | list | str | int | float | bool) or raw is None:
        return raw
    return {"unparsed": str(raw)[:10000]}


def event_row(esp_name: str, event) -> EventRow:
    esp = stream_for_esp(esp_name)
    verdict = verdict_for(esp, event.event_type, event.esp_event)
    return EventRow(
        esp=esp,
        event_type=_text(event.event_type, 20),
        status=verdict.status or "",
        suppress=verdict.suppress or "",
        occurred_at=event.timestamp,
        reject_reason=_text(event.reject_reason, 40),
        description=_text(event.description, 2000),
        mta_response=_text(event.mta_response, 2000),
        click_url=_text(event.click_url, 2000),
        user_agent=_text(event.user_agent, 500),
        recipient=_text(event.recipient, 254).lower(),
        message_id=_text(event.message_id, 255),
        email_id_hint=_email_id(event.metadata),
        dedup_key=dedup_key(esp, event),
        raw=_jsonable(event.esp_event),
        cause=verdict.cause,
        opt_out=verdict.opt_out,
    )
