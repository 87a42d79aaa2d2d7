"""Email address parsing and the (simple) validity check Mailgun applies to recipients."""

from __future__ import annotations

import re
from email.utils import formataddr, getaddresses, parseaddr

_LOCAL_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$")
_DOMAIN_RE = re.compile(
    r"^(?=.{1,253}$)"
    r"([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$"
)


def is_valid_addr_spec(addr: str) -> bool:
    """True if ``addr`` looks like ``local@domain.tld`` (ASCII or UTF-8 local part)."""
    local, sep, domain = addr.rpartition("@")
    if not sep or not local or len(local) > 64:
        return False
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return False
    if not (_LOCAL_RE.match(local) or (not local.isascii() and " " not in local)):
        return False
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return bool(_DOMAIN_RE.match(ascii_domain))


def split_recipients(values: list[str]) -> list[tuple[str, str]] | None:
    """Parse ``to``/``cc``/``bcc`` field values into ``(display, addr_spec)`` pairs.

    Each value may hold several comma-separated addresses. Returns None if any
    address is not valid (Mailgun then refuses the whole request).
    """
    result: list[tuple[str, str]] = []
    for value in values:
        if not value.strip():
            return None
        for display, addr in getaddresses([value]):
            if not addr or not is_valid_addr_spec(addr):
                return None
            result.append((formataddr((display, addr)) if display else addr, addr))
    return result


def addr_spec(value: str) -> str:
    """The bare address of a (possibly display-named) address string."""
    return parseaddr(value)[1] or value.strip()


def domain_of(addr: str) -> str:
    return addr.rpartition("@")[2].lower()


def local_part(addr: str) -> str:
    return addr.rpartition("@")[0]
