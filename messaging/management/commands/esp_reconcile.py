"""After an outage: every event the ESP logged in a window, read from its own event log, kept
where the webhooks missed it and applied (messaging/tracking/reconcile.py, docs/operations.md)."""

import re
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from messaging.tracking.drain import inbox_drain
from messaging.tracking.eventlogs import NO_EVENT_LOG, EventLogError, EventLogUnavailable
from messaging.tracking.reconcile import WindowProgress, window_reconcile

UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.IGNORECASE)


def moment(value: str, *, now: datetime) -> datetime:
    """`6h`, `2d`, `90m` ago, or an ISO 8601 time (UTC unless it names its zone)."""
    matched = DURATION.match(value)
    if matched:
        return now - timedelta(**{UNITS[matched.group(2).lower()]: int(matched.group(1))})
    try:
        parsed = parse_datetime(value.strip())
    except ValueError:
        parsed = None
    if parsed is None:
        raise CommandError(
            f"{value!r} is neither a duration (like 6h, 2d, 90m) nor an ISO time "
            "(like 2026-11-30T08:00 or 2026-11-30T08:00+01:00)."
        )
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = (
        "Reads every event the ESP logged since a time (e.g. --since 6h, --since 2d, or an ISO "
        "time) from its own event log, and stores and applies the ones its webhooks did not "
        "bring. Safe to stop (Ctrl-C) and run again: what is stored already is skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--since", required=True, help="6h, 2d, 90m ... ago, or an ISO 8601 time"
        )
        parser.add_argument("--until", help="the same; default: now")
        parser.add_argument(
            "--esp",
            default=None,
            help=f"the ESP whose log is read (default: EMAIL_ESP, now {settings.EMAIL_ESP})",
        )

    def handle(self, *args, since: str, until: str | None, esp: str | None, **options) -> None:
        now = timezone.now()
        begin = moment(since, now=now)
        end = moment(until, now=now) if until else now
        stream = esp or settings.EMAIL_ESP
        if begin >= end:
            raise CommandError(f"--since ({begin:%Y-%m-%d %H:%M:%S %Z}) must be before {end}.")
        if stream in NO_EVENT_LOG:
            raise CommandError(NO_EVENT_LOG[stream])
        retained = now - timedelta(days=settings.EMAIL_LOG_RETENTION_DAYS)
        if begin < retained:
            self.stdout.write(
                f"Our email log keeps {settings.EMAIL_LOG_RETENTION_DAYS} days: events of "
                "emails older than that are skipped."
            )
        self.stdout.write(
            f"Reading {stream}'s event log from {begin:%Y-%m-%d %H:%M:%S} to "
            f"{end:%Y-%m-%d %H:%M:%S} UTC (Ctrl-C stops; running again is harmless)."
        )
        progress = WindowProgress()

        def on_page(what: str, now_at: WindowProgress) -> None:
            nonlocal progress
            progress = now_at
            self.stdout.write(
                f"  {what} read; so far {now_at.events} events, {now_at.kept} new, "
                f"{len(now_at.emails)} of our emails"
            )

        try:
            progress = window_reconcile(
                stream=stream, begin=begin, end=end, on_page=on_page, apply=inbox_drain
            )
        except KeyboardInterrupt:
            inbox_drain()
            raise CommandError(
                f"Stopped after {progress.pages} pages; the {progress.kept} new events read are "
                "stored. Run the same command again to go on: what is stored is skipped.",
                returncode=130,
            ) from None
        except EventLogUnavailable as why:
            raise CommandError(str(why)) from None
        except EventLogError as why:
            inbox_drain()
            raise CommandError(
                f"Stopped after {progress.pages} pages: {why}. The {progress.kept} new events "
                "read are stored; run the same command again to go on."
            ) from None
        inbox_drain()
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: {progress.pages} pages, {progress.events} events, {progress.kept} new "
                f"(stored and applied), {len(progress.emails)} of our emails."
            )
        )
