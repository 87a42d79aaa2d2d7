"""Which events a recipient gets, decided from its address and the suppression lists.

| local part starts with | events                                                 |
|------------------------|--------------------------------------------------------|
| ``bounce``             | accepted, failed (permanent, reason ``bounce``, 550)   |
| ``defer``              | accepted, failed (temporary, ``greylisted``, 451), delivered |
| ``complaint``          | accepted, delivered, complained                        |
| ``open``               | accepted, delivered, opened                            |
| ``click``              | accepted, delivered, opened, clicked                   |
| anything else          | accepted, delivered                                    |

A domain ending in ``.invalid`` gets accepted, failed (permanent, reason ``generic``,
"domain does not exist"). An address on the domain's bounces / complaints /
unsubscribes list gets accepted, failed (permanent, ``suppress-bounce`` /
``suppress-complaint`` / ``suppress-unsubscribe``), with Mailgun's 605/607/606 codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .addresses import domain_of, local_part

BOUNCE_MESSAGE = "5.1.1 The email account that you tried to reach does not exist"
DEFER_MESSAGE = "4.7.1 Greylisted: please try again later"
SUPPRESSED = {
    "bounces": ("suppress-bounce", 605, "Not delivering to previously bounced address"),
    "complaints": (
        "suppress-complaint",
        607,
        "Not delivering to a user who marked your messages as spam",
    ),
    "unsubscribes": ("suppress-unsubscribe", 606, "Not delivering to unsubscribed address"),
}
PREFIX_OUTCOMES = ("bounce", "defer", "complaint", "open", "click")


@dataclass(frozen=True)
class Step:
    """One event of an outcome (the event-data is built from it later)."""

    event: str
    log_level: str = "info"
    severity: str | None = None
    reason: str | None = None
    status: dict[str, Any] | None = field(default=None, hash=False)


@dataclass(frozen=True)
class Outcome:
    name: str
    steps: tuple[Step, ...]


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


ACCEPTED = Step("accepted")
DELIVERED = Step("delivered", status=_smtp_status(250, "OK"))
OPENED = Step("opened")
CLICKED = Step("clicked")
COMPLAINED = Step("complained", log_level="warn")
BOUNCED = Step(
    "failed",
    log_level="error",
    severity="permanent",
    reason="bounce",
    status=_smtp_status(550, BOUNCE_MESSAGE, **{"enhanced-code": "5.1.1"}),
)
DEFERRED = Step(
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
)

_BY_PREFIX: dict[str, tuple[Step, ...]] = {
    "bounce": (ACCEPTED, BOUNCED),
    "defer": (ACCEPTED, DEFERRED, DELIVERED),
    "complaint": (ACCEPTED, DELIVERED, COMPLAINED),
    "open": (ACCEPTED, DELIVERED, OPENED),
    "click": (ACCEPTED, DELIVERED, OPENED, CLICKED),
}


def _no_domain(domain: str) -> Step:
    text = f"No MX for {domain}: domain does not exist"
    status = {"attempt-no": 1, "code": 498, "message": text, "description": text}
    return Step("failed", "error", "permanent", "generic", status)


def _suppressed(kind: str) -> Step:
    reason, code, text = SUPPRESSED[kind]
    status = {"attempt-no": 1, "code": code, "message": "", "description": text}
    return Step("failed", "error", "permanent", reason, status)


def choose_outcome(addr: str, suppressed_in: str | None = None) -> Outcome:
    """The outcome for recipient ``addr``; ``suppressed_in`` names the list it is on, if any."""
    if suppressed_in:
        return Outcome(SUPPRESSED[suppressed_in][0], (ACCEPTED, _suppressed(suppressed_in)))
    domain = domain_of(addr)
    if domain.endswith(".invalid"):
        return Outcome("invalid-domain", (ACCEPTED, _no_domain(domain)))
    local = local_part(addr).lower()
    for prefix in PREFIX_OUTCOMES:
        if local.startswith(prefix):
            return Outcome(prefix, _BY_PREFIX[prefix])
    return Outcome("delivered", (ACCEPTED, DELIVERED))
