"""Every clinic's sends, hard bounces and spam complaints per day, summed by PostgreSQL from the
same per-day counts `rollups.day_counts` reads, for support's platform overview. At platform size
the counts of 30 days are some 45,000 rows (clinic, day, status, cause, refusal, hand-over);
turning each into a Python object took most of a second, while one row per clinic and day is
some 6,000. The sums are `figures.is_send`, `is_bounce` and `is_complaint` in SQL: a test holds
them equal to `figures_of(day_counts(...))` for every state an email can be in."""

from datetime import date
from typing import NamedTuple

from django.db import connection

from messaging.reputation.figures import NOT_SENT
from messaging.status import EmailStatus

# figures.is_send / is_bounce / is_complaint, as FILTER clauses over a count's key.
IS_SEND = "handed_over AND refusal = '' AND status <> ALL(%s)"
IS_BOUNCE = (
    f"status = '{EmailStatus.FAILED}' AND handed_over AND refusal = '' AND failure_cause = ''"
)
IS_COMPLAINT = f"status = '{EmailStatus.SPAM_REPORT}'"


class ClinicDay(NamedTuple):
    """A tuple rather than a dataclass: 6,000 are made per read, and a frozen dataclass's
    construction was most of the read's time."""

    clinic_id: int
    day: date
    sends: int
    bounces: int
    complaints: int


def clinic_days(*, since: date) -> list[ClinicDay]:
    """Every clinic's figures per day from `since` on (days on each clinic's clock), the changes
    not folded yet included, as `day_counts` reads them. Days with none of the three are left
    out."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT clinic_id, day,
                coalesce(sum(emails) FILTER (WHERE {IS_SEND}), 0),
                coalesce(sum(emails) FILTER (WHERE {IS_BOUNCE}), 0),
                coalesce(sum(emails) FILTER (WHERE {IS_COMPLAINT}), 0)
            FROM (
                SELECT clinic_id, day, status, failure_cause, refusal, handed_over, emails
                FROM messaging_emaildaycount WHERE day >= %s
                UNION ALL
                SELECT clinic_id, day, status, failure_cause, refusal, handed_over, emails
                FROM messaging_emailcountchange WHERE day >= %s
            ) counts
            GROUP BY clinic_id, day
            """,  # noqa: S608 (only this module's constants are formatted in)
            [sorted(NOT_SENT), since, since],
        )
        return [
            ClinicDay(clinic_id, day, int(sends), int(bounces), int(complaints))
            for clinic_id, day, sends, bounces, complaints in cursor.fetchall()
            if sends or bounces or complaints
        ]
