"""An ESP's suppression lists: entries keyed by (list, scope, lower-cased address).

The scope is Mailgun's sending domain or Postmark's message stream; SendGrid's and Amazon
SES's lists belong to the account (scope ""). Every entry carries ``address``; the other fields
are the ESP's own (each dialect renders them in its API).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any


class Suppressions:
    """Thread-safe suppression lists."""

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
        """The list's entries, in alphabetical order of address."""
        with self._lock:
            table = self._table(kind, domain)
            return [dict(table[key]) for key in sorted(table)]

    def find(
        self,
        kinds: Iterable[str],
        domain: str,
        address: str,
        tags: list[str] | tuple[str, ...] = (),
    ) -> str | None:
        """The first of ``kinds`` suppressing ``address``, if any.

        An entry with ``tags`` (Mailgun's unsubscribes) suppresses only messages it covers: tag
        ``*`` or one of ``tags``.
        """
        key = address.lower()
        with self._lock:
            for kind in kinds:
                entry = self._table(kind, domain).get(key)
                if entry is not None and _covers(entry, tags):
                    return kind
        return None


def _covers(entry: dict[str, Any], tags: list[str] | tuple[str, ...]) -> bool:
    entry_tags = entry.get("tags")
    if entry_tags is None:  # bounces and complaints cover everything
        return True
    return "*" in entry_tags or any(tag in entry_tags for tag in tags)
