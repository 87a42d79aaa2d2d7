"""A wall-clock time typed on the clinic's clock, read as the moment it names. On the day the
clocks go forward an hour of times never happens; on the day they go back an hour happens twice.
Staff are told so rather than given a moment they did not mean."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class LocalTime:
    """What a typed time names: one moment, none (skipped) or two (repeated, earlier first)."""

    moments: tuple[datetime, ...]

    @property
    def skipped(self) -> bool:
        return not self.moments

    @property
    def repeated(self) -> bool:
        return len(self.moments) == 2


def local_time_read(day: date, clock: time, zone: ZoneInfo) -> LocalTime:
    """The moments at which the clinic's clock shows this day and time."""
    naive = datetime.combine(day, clock)
    moments = []
    for fold in (0, 1):
        moment = naive.replace(tzinfo=zone, fold=fold)
        # A time that never happens does not survive the round trip through UTC.
        if moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
            continue
        if all(moment.utcoffset() != seen.utcoffset() for seen in moments):
            moments.append(moment)
    ordered = sorted(moments, key=lambda moment: moment.astimezone(UTC))
    return LocalTime(moments=tuple(ordered))
