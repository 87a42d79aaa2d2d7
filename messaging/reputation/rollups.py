"""A clinic's email counts per day, kept by the database (see EmailDayCount): the fold that moves
the email table's appended changes into the day counts, the counts as the overviews and the
guard read them, and the recount from the email table they must always equal."""

from dataclasses import dataclass
from datetime import date

from django.db import connection, transaction

# The advisory lock that lets one fold run at a time (a second one has nothing to add).
FOLD_LOCK = 7302

COUNT_KEY = "clinic_id, day, status, failure_cause, refusal, handed_over"


@dataclass(frozen=True)
class DayCount:
    clinic_id: int
    day: date
    status: str
    failure_cause: str
    refusal: str
    handed_over: bool
    emails: int


def counts_fold() -> int | None:
    """Moves every committed change into the day counts, in one statement; returns how many
    changes it moved, or None when another fold was under way. Changes of clinics that no longer
    exist are dropped; counts that come to nothing are deleted."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [FOLD_LOCK])
        if not cursor.fetchone()[0]:
            return None
        cursor.execute(
            f"""
            WITH moved AS (
                DELETE FROM messaging_emailcountchange RETURNING {COUNT_KEY}, emails
            ), summed AS (
                SELECT {COUNT_KEY}, sum(emails) AS emails, count(*) AS changes
                FROM moved GROUP BY {COUNT_KEY}
            ), folded AS (
                INSERT INTO messaging_emaildaycount ({COUNT_KEY}, emails)
                SELECT {COUNT_KEY}, emails FROM summed
                WHERE emails <> 0
                    AND EXISTS (SELECT 1 FROM clinic_clinic c WHERE c.id = summed.clinic_id)
                ORDER BY {COUNT_KEY}
                ON CONFLICT ({COUNT_KEY})
                DO UPDATE SET emails = messaging_emaildaycount.emails + EXCLUDED.emails
            )
            SELECT coalesce(sum(changes), 0) FROM summed
            """  # noqa: S608 (only this module's constants are formatted in)
        )
        moved = cursor.fetchone()[0]
        cursor.execute("DELETE FROM messaging_emaildaycount WHERE emails = 0")
    return int(moved)


def day_counts(*, since: date, clinic_ids: list[int] | None = None) -> list[DayCount]:
    """Every count from `since` on (days on each clinic's clock), the changes not folded yet
    included, so a read is as fresh as the email table. Of these clinics only, when given."""
    where, params = "day >= %s", [since]
    if clinic_ids is not None:
        where += " AND clinic_id = ANY(%s)"
        params.append(list(clinic_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT {COUNT_KEY}, sum(emails)
            FROM (
                SELECT {COUNT_KEY}, emails FROM messaging_emaildaycount WHERE {where}
                UNION ALL
                SELECT {COUNT_KEY}, emails FROM messaging_emailcountchange WHERE {where}
            ) counts
            GROUP BY {COUNT_KEY}
            HAVING sum(emails) <> 0
            """,  # noqa: S608 (only this module's constants are formatted in)
            params * 2,
        )
        return [DayCount(*row) for row in cursor.fetchall()]


def day_counts_recounted(*, clinic_ids: list[int] | None = None) -> list[DayCount]:
    """The same counts recounted from the email table, as they must always be (tests and
    `counts_rebuild` use it; never a page)."""
    where, params = "", []
    if clinic_ids is not None:
        where, params = "WHERE e.clinic_id = ANY(%s)", [list(clinic_ids)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT e.clinic_id, (e.created_at AT TIME ZONE c.time_zone)::date AS day, e.status,
                e.failure_cause, e.refusal, e.esp_message_id <> '' AS handed_over, count(*)
            FROM messaging_outboundemail e JOIN clinic_clinic c ON c.id = e.clinic_id
            {where}
            GROUP BY 1, 2, 3, 4, 5, 6
            """,  # noqa: S608 (only this module's constants are formatted in)
            params,
        )
        return [DayCount(*row) for row in cursor.fetchall()]


def counts_rebuild(*, clinic_id: int) -> None:
    """Counts one clinic's emails again from the email table: after its time zone changed, its
    emails' days are those of the new clock."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [FOLD_LOCK])
        cursor.execute("LOCK TABLE messaging_outboundemail IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute("DELETE FROM messaging_emailcountchange WHERE clinic_id = %s", [clinic_id])
        cursor.execute("DELETE FROM messaging_emaildaycount WHERE clinic_id = %s", [clinic_id])
        cursor.execute(
            f"""
            INSERT INTO messaging_emaildaycount ({COUNT_KEY}, emails)
            SELECT e.clinic_id, (e.created_at AT TIME ZONE c.time_zone)::date, e.status,
                e.failure_cause, e.refusal, e.esp_message_id <> '', count(*)
            FROM messaging_outboundemail e JOIN clinic_clinic c ON c.id = e.clinic_id
            WHERE e.clinic_id = %s
            GROUP BY 1, 2, 3, 4, 5, 6
            """,  # noqa: S608 (only this module's constants are formatted in)
            [clinic_id],
        )


def counts_rebuild_on_clock_change(*, clinic_id: int, **kwargs) -> None:
    """Answers `clinic.clock_change.clinic_clock_changed`: the clinic's days now begin at other
    moments, so its counts are counted again on its new clock."""
    counts_rebuild(clinic_id=clinic_id)
