"""Mailgun's per-domain suppression lists: bounces, complaints and unsubscribes."""

from __future__ import annotations

import threading
from email.utils import formatdate
from typing import Any

KINDS = ("bounces", "complaints", "unsubscribes")
# Mailgun's wording per list: (404 message, DELETE message, POST message)
MESSAGES = {
    "bounces": (
        "Address not found in bounces table",
        "Bounced address has been removed",
        "Address has been added to the bounces table",
    ),
    "complaints": (
        "No spam complaints found for this address",
        "Spam complaint has been removed",
        "Address has been added to the complaints table",
    ),
    "unsubscribes": (
        "Address not found in unsubscribers table",
        "Unsubscribe event has been removed",
        "Address has been added to the unsubscribes table",
    ),
}


def make_entry(kind: str, address: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A list entry shaped as Mailgun returns it, from POSTed fields (defaults filled)."""
    entry: dict[str, Any] = {"address": address}
    if kind == "bounces":
        entry["code"] = str(fields.get("code") or "550")
        entry["error"] = str(fields.get("error") or "")
    elif kind == "unsubscribes":
        tags = fields.get("tags") or [fields.get("tag") or "*"]
        entry["tags"] = [str(tag) for tag in tags]
        entry["tag"] = entry["tags"][0]
    entry["created_at"] = str(fields.get("created_at") or formatdate(usegmt=True))
    return entry


class Suppressions:
    """Thread-safe suppression lists, keyed by (list, sending domain, lower-cased address)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lists: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}

    def _table(self, kind: str, domain: str) -> dict[str, dict[str, Any]]:
        return self._lists.setdefault((kind, domain.lower()), {})

    def add(self, kind: str, domain: str, entry: dict[str, Any]) -> None:
        with self._lock:
            self._table(kind, domain)[entry["address"].lower()] = dict(entry)

    def get(self, kind: str, domain: str, address: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self._table(kind, domain).get(address.lower())
            return dict(entry) if entry else None

    def remove(self, kind: str, domain: str, address: str) -> bool:
        with self._lock:
            return self._table(kind, domain).pop(address.lower(), None) is not None

    def clear(self, kind: str | None = None, domain: str | None = None) -> None:
        with self._lock:
            if kind is None:
                self._lists.clear()
            else:
                self._table(kind, domain or "").clear()

    def items(self, kind: str, domain: str) -> list[dict[str, Any]]:
        """The list's entries, in alphabetical order of address (as Mailgun pages them)."""
        with self._lock:
            table = self._table(kind, domain)
            return [dict(table[key]) for key in sorted(table)]

    def find(self, domain: str, address: str, tags: list[str] | tuple[str, ...] = ()) -> str | None:
        """The first list (bounces, complaints, unsubscribes) suppressing ``address``, if any.

        An unsubscribe suppresses only messages it covers: tag ``*`` or one of ``tags``.
        """
        key = address.lower()
        with self._lock:
            for kind in KINDS:
                entry = self._table(kind, domain).get(key)
                if entry is not None and _covers(entry, tags):
                    return kind
        return None


def _covers(entry: dict[str, Any], tags: list[str] | tuple[str, ...]) -> bool:
    entry_tags = entry.get("tags")
    if entry_tags is None:  # bounces and complaints cover everything
        return True
    return "*" in entry_tags or any(tag in entry_tags for tag in tags)
