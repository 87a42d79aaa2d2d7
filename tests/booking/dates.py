"""Days for booking tests, counted from today on the clinic's clock: a booking may not be in
the past, so a fixed date would stop working once it had passed. The clock changes are found,
not written down, so the daylight-saving cases stay the next ones to come."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

NEW_YORK = ZoneInfo("America/New_York")


def today(zone: ZoneInfo = NEW_YORK) -> date:
    return timezone.localdate(timezone=zone)


def next_weekday(weekday: int, *, at_least: int = 7, zone: ZoneInfo = NEW_YORK) -> date:
    """The first day with this weekday (Monday 0) at least `at_least` days from today."""
    day = today(zone) + timedelta(days=at_least)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _offset_at_midnight(day: date, zone: ZoneInfo) -> timedelta:
    return datetime.combine(day, time(0), zone).utcoffset()


def next_clock_change(*, forward: bool, zone: ZoneInfo = NEW_YORK) -> date:
    """The next day on which the zone's clocks go forward (or back), after today."""
    day = today(zone) + timedelta(days=1)
    while True:
        before, after = (
            _offset_at_midnight(day, zone),
            _offset_at_midnight(day + timedelta(1), zone),
        )
        if before != after and (after > before) == forward:
            return day
        day += timedelta(days=1)


def at(day: date, hour: int, zone: ZoneInfo = NEW_YORK, minute: int = 0) -> datetime:
    """The moment the zone's clock shows this hour on this day (its first, if it shows twice)."""
    return datetime.combine(day, time(hour, minute), zone).astimezone(UTC)
