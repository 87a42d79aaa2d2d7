"""Every clinic's sends, hard bounces and spam complaints per day, summed by PostgreSQL from the
same per-day counts `rollups.day_counts` reads, for support's platform overview. At platform size
the counts of 30 days are some 45,000 rows (clinic, day, status, cause, refusal, hand-over):
turning each into a Python object took most of a second, and the objects set off Python's
collector over the whole process at every few reads (the page's slowest requests). Here
PostgreSQL sums them per clinic and day and hands back one row per clinic, its days as arrays.
The sums are `figures.is_send`, `is_bounce` and `is_complaint` in SQL: a test holds them equal
to the same rules applied to `day_counts` for every state an email can be in."""

from dataclasses import dataclass
from datetime import date

from django.db import connection

from messaging.reputation.figures import NOT_SENT, Figures
from messaging.status import EmailStatus

# figures.is_send / is_bounce / is_complaint, as FILTER clauses over a count's key.
IS_SEND = "handed_over AND refusal = '' AND status <> ALL(%(not_sent)s)"
IS_BOUNCE = (
    f"status = '{EmailStatus.FAILED}' AND handed_over AND refusal = '' AND failure_cause = ''"
)
IS_COMPLAINT = f"status = '{EmailStatus.SPAM_REPORT}'"
COLUMNS = "clinic_id, day, status, failure_cause, refusal, handed_over, emails"
CLINIC_DAYS_SQL = f"""
SELECT clinic_id, array_agg(day - %(since)s), array_agg(sends), array_agg(bounces),
    array_agg(complaints)
FROM (
    SELECT clinic_id, day,
        coalesce(sum(emails) FILTER (WHERE {IS_SEND}), 0)::int AS sends,
        coalesce(sum(emails) FILTER (WHERE {IS_BOUNCE}), 0)::int AS bounces,
        coalesce(sum(emails) FILTER (WHERE {IS_COMPLAINT}), 0)::int AS complaints
    FROM (
        SELECT {COLUMNS} FROM messaging_emaildaycount
        WHERE day BETWEEN %(since)s AND %(until)s
        UNION ALL
        SELECT {COLUMNS} FROM messaging_emailcountchange
        WHERE day BETWEEN %(since)s AND %(until)s
    ) counts
    GROUP BY clinic_id, day
) per_day
GROUP BY clinic_id
"""  # noqa: S608 (only this module's constants are formatted in)


@dataclass(frozen=True)
class ClinicSeries:
    """One clinic's figures per day from `first` on: index 0 is `first`, every day present."""

    first: date
    sends: list[int]
    bounces: list[int]
    complaints: list[int]

    @classmethod
    def empty(cls, first: date, days: int) -> "ClinicSeries":
        return cls(first, [0] * days, [0] * days, [0] * days)

    def span(self, since: date, until: date) -> slice:
        """The indexes of the days from `since` to `until`, both included."""
        return slice(max((since - self.first).days, 0), max((until - self.first).days + 1, 0))

    def figures(self, since: date, until: date) -> Figures:
        days = self.span(since, until)
        return Figures(
            sends=sum(self.sends[days]),
            bounces=sum(self.bounces[days]),
            complaints=sum(self.complaints[days]),
        )


def clinic_days(*, since: date, until: date) -> dict[int, ClinicSeries]:
    """Every clinic's figures per day from `since` to `until` (days on each clinic's clock), the
    changes not folded yet included, as `day_counts` reads them. Clinics with no count in the
    span are left out."""
    days = (until - since).days + 1
    with connection.cursor() as cursor:
        cursor.execute(
            CLINIC_DAYS_SQL,
            {"since": since, "until": until, "not_sent": sorted(NOT_SENT)},
        )
        found = {}
        for clinic_id, indexes, sends, bounces, complaints in cursor.fetchall():
            series = found[clinic_id] = ClinicSeries.empty(since, days)
            for index, day_sends, day_bounces, day_complaints in zip(
                indexes, sends, bounces, complaints, strict=True
            ):
                series.sends[index] = day_sends
                series.bounces[index] = day_bounces
                series.complaints[index] = day_complaints
        return found
