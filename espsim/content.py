"""What the dialects read from a message's content: recipients and the link a click follows."""

from __future__ import annotations

import re
from email.utils import formataddr, getaddresses

from .addresses import is_valid_addr_spec

_HREF_RE = re.compile(r"""href\s*=\s*["'](https?://[^"'\s>]+)["']""", re.IGNORECASE)
_URL_RE = re.compile(r"""https?://[^\s<>"']+""", re.IGNORECASE)


def first_link(html: str, text: str, fallback: str) -> str:
    """The first link of the html (else of the text): what a "click" recipient clicks."""
    found = _HREF_RE.search(html or "")
    if found:
        return found.group(1)
    found = _URL_RE.search(text or "")
    return found.group(0) if found else fallback


def parse_addresses(value: str) -> tuple[list[tuple[str, str]], str | None]:
    """``(display, addr_spec)`` pairs of a comma-separated address header, and the first
    address that is not valid (None when all are)."""
    pairs: list[tuple[str, str]] = []
    if not value or not value.strip():
        return pairs, None
    for display, addr in getaddresses([value]):
        if not addr or not is_valid_addr_spec(addr):
            return pairs, addr or value.strip()
        pairs.append((formataddr((display, addr)) if display else addr, addr))
    return pairs, None
