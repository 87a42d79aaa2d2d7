"""Pure rules of the reputation guard: which counted emails are sends, hard bounces and spam
complaints, their rates, and where a rate stands against the thresholds. No database here."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from django.conf import settings

from messaging.reputation.rollups import DayCount
from messaging.status import EmailStatus

# Not sends: never handed over yet (held, or on its way), or refused before sending.
NOT_SENT = frozenset({EmailStatus.HELD, EmailStatus.SENDING})

Level = Literal["", "warning", "hold"]


def is_send(count: DayCount) -> bool:
    """Handed to the ESP (or the clinic's server): what the ESPs' rates are rates of."""
    return count.handed_over and not count.refusal and count.status not in NOT_SENT


def is_bounce(count: DayCount) -> bool:
    """A permanent failure the address caused, reported after the hand-over: a hard bounce. A
    failure of ours (`sender`) or the receiving server's giving up (`temporary`) is not."""
    return (
        count.status == EmailStatus.FAILED
        and count.handed_over
        and not count.refusal
        and not count.failure_cause
    )


def is_complaint(count: DayCount) -> bool:
    return count.status == EmailStatus.SPAM_REPORT


@dataclass(frozen=True)
class Figures:
    sends: int = 0
    bounces: int = 0
    complaints: int = 0

    @property
    def bounce_rate(self) -> float:
        """Percent of sends."""
        return 100 * self.bounces / self.sends if self.sends else 0.0

    @property
    def complaint_rate(self) -> float:
        return 100 * self.complaints / self.sends if self.sends else 0.0


def figures_of(counts: Iterable[DayCount]) -> Figures:
    sends = bounces = complaints = 0
    for count in counts:
        if is_send(count):
            sends += count.emails
        if is_bounce(count):
            bounces += count.emails
        if is_complaint(count):
            complaints += count.emails
    return Figures(sends=sends, bounces=bounces, complaints=complaints)


@dataclass(frozen=True)
class Thresholds:
    """The guard's settings, in percent (config/settings.py)."""

    window_days: int
    min_sends: int
    min_events: int
    bounce_warning: float
    bounce_hold: float
    complaint_warning: float
    complaint_hold: float


def thresholds() -> Thresholds:
    return Thresholds(
        window_days=settings.GUARD_WINDOW_DAYS,
        min_sends=settings.GUARD_MIN_SENDS,
        min_events=settings.GUARD_MIN_EVENTS,
        bounce_warning=settings.GUARD_BOUNCE_WARNING_PERCENT,
        bounce_hold=settings.GUARD_BOUNCE_HOLD_PERCENT,
        complaint_warning=settings.GUARD_COMPLAINT_WARNING_PERCENT,
        complaint_hold=settings.GUARD_COMPLAINT_HOLD_PERCENT,
    )


def _level(events: int, rate: float, *, sends: int, warning: float, hold: float, limits) -> Level:
    if sends < limits.min_sends or events < limits.min_events:
        return ""  # not enough evidence: one complaint in a small clinic never holds its mail
    if rate >= hold:
        return "hold"
    if rate >= warning:
        return "warning"
    return ""


def bounce_level(figures: Figures, limits: Thresholds) -> Level:
    return _level(
        figures.bounces,
        figures.bounce_rate,
        sends=figures.sends,
        warning=limits.bounce_warning,
        hold=limits.bounce_hold,
        limits=limits,
    )


def complaint_level(figures: Figures, limits: Thresholds) -> Level:
    return _level(
        figures.complaints,
        figures.complaint_rate,
        sends=figures.sends,
        warning=limits.complaint_warning,
        hold=limits.complaint_hold,
        limits=limits,
    )
