"""Mailgun's Events API: ``GET /v3/<domain>/events``, from the events that have happened (their
time has come), whether or not their webhooks got through.

Query: ``begin`` / ``end`` (epoch seconds or an RFC 2822 date), ``ascending`` (yes/no: the
direction when ``end`` is absent; default no), ``limit`` (1-300, default 100) and the filters
``event``, ``recipient``, ``message-id`` (without ``<>``), ``severity`` and ``tags`` (a value, or
values joined by ``OR``; ``NOT`` before one excludes it). The answer is ``{"items": [event-data,
...], "paging": {"first", "last", "next", "previous"}}``, the event-data as in a webhook; the
paging URLs (``/v3/<domain>/events/<page>``) carry the query and where the page ended, and the
page after the last is empty.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import asdict, dataclass, field, replace
from email.utils import parsedate_to_datetime
from typing import Any

from werkzeug.datastructures import MultiDict

from ..records import EventRecord

FILTERS = ("event", "recipient", "message-id", "severity", "tags")
MAX_LIMIT = 300


@dataclass(frozen=True)
class EventQuery:
    lo: float = -math.inf
    hi: float = math.inf
    ascending: bool = False
    limit: int = 100
    filters: dict[str, str] = field(default_factory=dict)
    after: tuple[float, str] | None = None  # the last item of the page before (exclusive)

    @classmethod
    def from_args(cls, args: MultiDict) -> EventQuery:
        begin, end = _time(args.get("begin")), _time(args.get("end"))
        ascending = _yes_no(args.get("ascending"), default=False)
        if begin is not None and end is not None:
            ascending = begin <= end
            lo, hi = min(begin, end), max(begin, end)
        elif begin is not None:
            lo, hi = (begin, math.inf) if ascending else (-math.inf, begin)
        else:
            lo, hi = -math.inf, math.inf
        try:
            limit = int(args.get("limit") or 100)
        except ValueError:
            raise ValueError("Invalid limit") from None
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
        filters = {name: args[name] for name in FILTERS if args.get(name)}
        return cls(lo, hi, ascending, limit, filters)

    @classmethod
    def from_page(cls, page: str) -> EventQuery:
        try:
            data = json.loads(base64.urlsafe_b64decode(page + "=" * (-len(page) % 4)))
            data["after"] = tuple(data["after"]) if data.get("after") else None
            data["lo"], data["hi"] = float(data["lo"]), float(data["hi"])
            return cls(**data)
        except (ValueError, TypeError, KeyError, binascii.Error):
            raise ValueError("Invalid page") from None

    def page(self, **changes: Any) -> str:
        data = asdict(replace(self, **changes))
        data["lo"], data["hi"] = str(data["lo"]), str(data["hi"])  # inf is not JSON
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    def select(self, records: list[EventRecord]) -> list[dict[str, Any]]:
        """This page's event-data, from every event that has happened."""
        found = [r for r in records if self.lo <= r.timestamp <= self.hi and self._matches(r)]
        found.sort(key=_key, reverse=not self.ascending)
        if self.after is not None:
            after = (self.after[0], self.after[1])
            found = [r for r in found if (_key(r) > after) == self.ascending and _key(r) != after]
        return [r.data for r in found[: self.limit]]

    def _matches(self, record: EventRecord) -> bool:
        data = record.data
        values = {
            "event": [data["event"]],
            "recipient": [data["recipient"]],
            "message-id": [record.message_id],
            "severity": [data.get("severity") or ""],
            "tags": list(data.get("tags") or []),
        }
        return all(_matches(expr, values[name]) for name, expr in self.filters.items())


def _key(record: EventRecord) -> tuple[float, str]:
    return (record.timestamp, record.id)


def _matches(expression: str, values: list[str]) -> bool:
    """``a OR b``, ``NOT c``: whether ``values`` (case-insensitive) satisfy the expression."""
    wanted, unwanted = set(), set()
    for term in expression.split(" OR "):
        term = term.strip().strip('"').lower()
        if term.startswith("not "):
            unwanted.add(term[4:].strip().strip('"'))
        elif term:
            wanted.add(term)
    have = {value.lower().strip("<>") for value in values}
    wanted = {value.strip("<>") for value in wanted}
    if have & unwanted:
        return False
    return not wanted or bool(have & wanted)


def _time(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        raise ValueError(f"Invalid time: {value}") from None


def _yes_no(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    if value.lower() in ("yes", "true"):
        return True
    if value.lower() in ("no", "false"):
        return False
    raise ValueError(f"Invalid ascending: {value}")
