"""Which events a recipient gets, decided from its address and the ESP's suppression lists.

The outcome is the same for every ESP; each dialect says its steps in the ESP's own words
(``espsim/<esp>``: Mailgun ``failed``/permanent, Postmark ``Bounce`` HardBounce, SendGrid
``bounce``, SES ``Bounce`` Permanent/General...).

| local part starts with | steps                                          |
|------------------------|------------------------------------------------|
| ``bounce``             | accepted, bounced (permanent, 5.1.1)           |
| ``defer``              | accepted, deferred (temporary, 4.7.1), delivered |
| ``complaint``          | accepted, delivered, complained                |
| ``open``               | accepted, delivered, opened                    |
| ``click``              | accepted, delivered, opened, clicked           |
| anything else          | accepted, delivered                            |

A domain ending in ``.invalid`` gets accepted, no_domain (a permanent failure: the domain
does not exist). An address on one of the ESP's suppression lists gets accepted, suppressed
(the ESP does not try; ``Outcome.suppressed`` says why: bounce, complaint, unsubscribe or
invalid) -- or, for an ESP that refuses such a send in its API (Postmark), no events at all.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from .addresses import domain_of, local_part

ACCEPTED = "accepted"
DELIVERED = "delivered"
BOUNCED = "bounced"
DEFERRED = "deferred"
COMPLAINED = "complained"
OPENED = "opened"
CLICKED = "clicked"
NO_DOMAIN = "no_domain"
SUPPRESSED = "suppressed"

SUPPRESSION_REASONS = ("bounce", "complaint", "unsubscribe", "invalid")
FIRST_DELAY = (0.05, 0.3)  # accepted, seconds (scaled by delay_scale)
STEP_DELAY = (0.3, 1.5)  # between successive events of one message (scaled)

_BY_PREFIX: dict[str, tuple[str, ...]] = {
    "bounce": (ACCEPTED, BOUNCED),
    "defer": (ACCEPTED, DEFERRED, DELIVERED),
    "complaint": (ACCEPTED, DELIVERED, COMPLAINED),
    "open": (ACCEPTED, DELIVERED, OPENED),
    "click": (ACCEPTED, DELIVERED, OPENED, CLICKED),
}


@dataclass(frozen=True)
class Outcome:
    name: str  # bounce, defer, ..., delivered, invalid-domain, suppress-<reason>
    steps: tuple[str, ...]
    suppressed: str | None = None  # one of SUPPRESSION_REASONS


@dataclass(frozen=True)
class Moment:
    """One step of an outcome, placed in time."""

    step: str
    timestamp: float  # when the ESP says it happened
    due: float  # earliest webhook post


def choose_outcome(addr: str, suppressed: str | None = None) -> Outcome:
    """The outcome for recipient ``addr``; ``suppressed`` names why it is suppressed, if it is."""
    if suppressed:
        return Outcome(f"suppress-{suppressed}", (ACCEPTED, SUPPRESSED), suppressed)
    if domain_of(addr).endswith(".invalid"):
        return Outcome("invalid-domain", (ACCEPTED, NO_DOMAIN))
    local = local_part(addr).lower()
    for prefix, steps in _BY_PREFIX.items():
        if local.startswith(prefix):
            return Outcome(prefix, steps)
    return Outcome("delivered", (ACCEPTED, DELIVERED))


def timeline(outcome: Outcome, delay_scale: float, now: float | None = None) -> list[Moment]:
    """Every step of ``outcome`` with its time: the first is stamped ``now`` and posted a moment
    later; each next one happens (and is posted) a random while after the one before."""
    now = time.time() if now is None else now
    moments: list[Moment] = []
    due = now + random.uniform(*FIRST_DELAY) * delay_scale
    for index, step in enumerate(outcome.steps):
        if index:
            due += random.uniform(*STEP_DELAY) * delay_scale
        moments.append(Moment(step, now if index == 0 else due, due))
    return moments
