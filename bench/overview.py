"""Server time and queries of the delivery overview (a clinic admin's /overview/ and the emails
behind its commonest reason) and of support's platform overview (/admin/overview/) at platform
size, and EXPLAIN of the counts read behind them.

    .venv/bin/python bench/overview.py --clinics 200 --emails 2000000
    .venv/bin/python bench/overview.py --reuse      # a database this script filled

seed_scale makes the clinics, clients and emails with a platform's rates (most clinics under the
guard's thresholds, a few at a warning, a few over a hold) and folds the day counts; this script
adds what the pages also read and seed_scale does not make: a clinic admin per clinic, a support
superuser with a second factor, standing holds for the clinics over a hold and warnings for those
at one, and a minute of unfolded count changes (the guard folds every minute, so a page reads
some). Requests go through Django's full stack in-process, as in bench/needs_attention.py.
"""

import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._harness import bench_env, scratch_database, scratch_url
from bench.log_latency import percentile

DB_NAME = "clinicmail_bench_overview"
SUPPORT_EMAIL = "support@bench.test"
UNFOLDED_EMAILS = 2_000  # about a minute of a busy platform's sends and status changes


def prepare(args) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    if args.reuse:
        return
    if not args.seeded:
        call_command("migrate", verbosity=0)
        began = time.perf_counter()
        call_command("seed_scale", clinics=args.clinics, emails=args.emails)
        print(f"seed_scale: {time.perf_counter() - began:.0f} s", file=sys.stderr)
    began = time.perf_counter()
    seed_overview()
    print(f"overview data: {time.perf_counter() - began:.0f} s", file=sys.stderr)


def seed_overview() -> None:
    """Admins, support, holds and warnings where the figures call for them, unfolded changes."""
    from django.db import connection, transaction
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from django_scopes import scopes_disabled

    from clinic.models import User
    from messaging.models import GuardWarning, MailHold
    from messaging.reputation.figures import thresholds
    from messaging.reputation.overview import clinic_risks
    from messaging.reputation.platform_counts import clinic_days

    statements = [
        """INSERT INTO clinic_user (password, is_superuser, email, first_name, last_name,
               is_staff, is_active, date_joined)
           SELECT '!', false, 'admin.c' || c.id || '@bench.test', 'Admin', 'of ' || c.id,
               false, true, now()
           FROM clinic_clinic c""",
        """INSERT INTO clinic_membership (user_id, clinic_id, role)
           SELECT u.id, split_part(split_part(u.email, '.c', 2), '@', 1)::int, 'clinic_admin'
           FROM clinic_user u WHERE u.email LIKE 'admin.c%@bench.test'""",
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    with scopes_disabled():
        support = User.objects.create_superuser(SUPPORT_EMAIL, None)
        TOTPDevice.objects.create(user=support, name="bench", confirmed=True)
        _holds_and_warnings(MailHold, GuardWarning, clinic_risks, clinic_days, thresholds())
    _unfolded_changes()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _holds_and_warnings(MailHold, GuardWarning, clinic_risks, clinic_days, limits) -> None:
    """What the guard would have recorded for today's figures: a hold per clinic over a hold
    threshold, a warning per measure at a warning."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from clinic.models import Clinic

    now = timezone.now()
    clinics = [(c.pk, c.name, c.uses_own_smtp, ZoneInfo(c.time_zone)) for c in Clinic.objects.all()]
    series = clinic_days(since=(now - timedelta(days=32)).date(), until=now.date() + timedelta(1))
    for row in clinic_risks(clinics, series, now=now, limits=limits):
        figures = row.figures
        if row.level == "hold":
            MailHold.objects.create(
                clinic_id=row.clinic_id,
                why=f"Hard bounces reached {figures.bounce_rate:.1f}% of {figures.sends} emails.",
                sends=figures.sends,
                bounces=figures.bounces,
                complaints=figures.complaints,
            )
        if row.level in ("hold", "warning"):
            GuardWarning.objects.create(
                clinic_id=row.clinic_id,
                measure="bounces",
                level=row.level,
                rate=figures.bounce_rate,
                sends=figures.sends,
                events=figures.bounces,
            )


def _unfolded_changes() -> None:
    """Status changes after the last fold, as the minute before the guard's next one leaves."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE messaging_outboundemail SET status = 'opened'
               WHERE id IN (SELECT id FROM messaging_outboundemail
                            WHERE status = 'delivered' LIMIT %s)""",
            [UNFOLDED_EMAILS],
        )
        cursor.execute("SELECT count(*) FROM messaging_emailcountchange")
        print(f"unfolded count changes: {cursor.fetchone()[0]}", file=sys.stderr)


def measured_clinics(count: int) -> list:
    """The clinics measured: the riskiest first (the fullest pages), then ordinary ones."""
    from django_scopes import scopes_disabled

    from clinic.models import Clinic
    from messaging.models import MailHold

    with scopes_disabled():
        held = list(Clinic.objects.filter(mail_holds__released_at__isnull=True).order_by("id")[:2])
        others = list(
            Clinic.objects.filter(slug__startswith="scale-")
            .exclude(pk__in=MailHold.objects.values("clinic_id"))
            .order_by("id")[: count - len(held)]
        )
    return held + others


def admin_of(clinic):
    from django_scopes import scopes_disabled

    from clinic.models import Membership

    with scopes_disabled():
        return Membership.objects.get(clinic=clinic, role="clinic_admin").user


def timed(browser, url: str, params: dict, requests: int, timings: list, queries: set) -> str:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(requests):
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            response = browser.get(url, params)
            timings.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries.add(len(captured))
    return response.content.decode()


def measure(clinics: list, requests_each: int, platform_requests: int) -> dict:
    from django.test import Client as HttpClient
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from clinic.models import User

    views = {
        "clinic admin, /overview/": ("/overview/", {}),
        "clinic admin, hard bounces' emails, page 1": (
            "/overview/emails/",
            {"reason": "hard_bounce"},
        ),
        "clinic admin, hard bounces' emails, page 3": (
            "/overview/emails/",
            {"reason": "hard_bounce", "page": 3},
        ),
    }
    results = {}
    for name, (url, params) in views.items():
        timings, queries = [], set()
        for clinic in clinics:
            browser = HttpClient()
            browser.force_login(admin_of(clinic))
            timed(browser, url, params, requests_each, timings, queries)
        results[name] = summary(timings, queries)

    support = User.objects.get(email=SUPPORT_EMAIL)
    browser = HttpClient()
    browser.force_login(support)
    session = browser.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=support).persistent_id
    session.save()
    timings, queries = [], set()
    body = timed(browser, "/admin/overview/", {}, platform_requests, timings, queries)
    results["support, /admin/overview/"] = {
        **summary(timings, queries),
        "clinics_listed": body.count("<tr data-clinic="),
        "first_rows_levels": [part.split('"')[0] for part in body.split('data-level="')[1:6]],
    }
    return results


def summary(timings: list[float], queries: set[int]) -> dict:
    return {
        "requests": len(timings),
        "p50_ms": round(statistics.median(timings), 1),
        "p95_ms": round(percentile(timings, 0.95), 1),
        "queries_per_request": sorted(queries),
    }


def counts_read() -> dict:
    """The two reads of every clinic's counts alone (31 days): each count as it is kept
    (`day_counts`), and summed per clinic and day by PostgreSQL (`clinic_days`, which the
    platform overview reads)."""
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from messaging.reputation.platform_counts import clinic_days
    from messaging.reputation.rollups import day_counts

    since = (timezone.now() - timedelta(days=31)).date()
    until = timezone.now().date() + timedelta(days=1)
    found = {}
    for name, read in (
        ("day_counts", lambda: day_counts(since=since)),
        ("clinic_days", lambda: clinic_days(since=since, until=until)),
    ):
        timings = []
        for _ in range(40):
            began = time.perf_counter()
            rows = read()
            timings.append((time.perf_counter() - began) * 1000)
        found[name] = {
            "rows": len(rows),
            "p50_ms": round(statistics.median(timings), 1),
            "p95_ms": round(percentile(timings, 0.95), 1),
        }
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM messaging_emaildaycount")
        found["emaildaycount_rows"] = cursor.fetchone()[0]
    return found


def explain(clinic) -> str:
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone
    from django_scopes import scope

    from messaging.models import OutboundEmail
    from messaging.reputation.figures import NOT_SENT
    from messaging.reputation.overview import reason_filter
    from messaging.reputation.platform_counts import CLINIC_DAYS_SQL
    from messaging.reputation.rollups import COUNT_KEY

    since = (timezone.now() - timedelta(days=31)).date()
    until = timezone.now().date() + timedelta(days=1)
    plans = []
    with connection.cursor() as cursor:
        # The platform overview's read: every clinic, summed per day, one row per clinic.
        cursor.execute(
            f"EXPLAIN ANALYZE {CLINIC_DAYS_SQL}",
            {"since": since, "until": until, "not_sent": sorted(NOT_SENT)},
        )
        plans.append("\n".join(row[0] for row in cursor.fetchall()))
        # The clinic overview's read: one clinic's counts as they are kept.
        cursor.execute(
            f"""EXPLAIN ANALYZE SELECT {COUNT_KEY}, sum(emails) FROM (
                SELECT {COUNT_KEY}, emails FROM messaging_emaildaycount
                WHERE day >= %s AND clinic_id = ANY(%s)
                UNION ALL
                SELECT {COUNT_KEY}, emails FROM messaging_emailcountchange
                WHERE day >= %s AND clinic_id = ANY(%s)
            ) counts GROUP BY {COUNT_KEY} HAVING sum(emails) <> 0""",  # noqa: S608 (constants)
            [since, [clinic.pk]] * 2,
        )
        plans.append("\n".join(row[0] for row in cursor.fetchall()))
    with scope(clinic=clinic):
        emails = OutboundEmail.objects.filter(
            clinic=clinic, created_at__gte=timezone.now() - timedelta(days=30)
        ).filter(reason_filter("hard_bounce"))
        plans.append(emails.order_by("-created_at", "-id")[:25].explain(analyze=True))
    return "\n\n".join(plans)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clinics", type=int, default=200)
    parser.add_argument("--emails", type=int, default=2_000_000)
    parser.add_argument("--measured", type=int, default=5, help="clinics measured")
    parser.add_argument("--requests", type=int, default=40, help="requests per clinic and view")
    parser.add_argument("--platform-requests", type=int, default=100)
    parser.add_argument("--reuse", action="store_true", help="this script already filled it")
    parser.add_argument(
        "--seeded", action="store_true", help="seed_scale already filled it: add the rest only"
    )
    args = parser.parse_args()

    fresh = not (args.reuse or args.seeded)
    url = scratch_database(DB_NAME) if fresh else scratch_url(DB_NAME)
    # Plain HTTP in-process: production redirects it to HTTPS.
    os.environ.update(
        bench_env(
            DATABASE_URL=url,
            ALLOWED_HOSTS="testserver",
            SECURE_SSL_REDIRECT="false",
            SUPPORT_EMAIL=os.environ.get("SUPPORT_EMAIL", SUPPORT_EMAIL),
        )
    )
    prepare(args)
    clinics = measured_clinics(args.measured)
    print(json.dumps({"counts_read": counts_read()}, indent=2))
    print(json.dumps(measure(clinics, args.requests, args.platform_requests), indent=2))
    print(explain(clinics[0]))


if __name__ == "__main__":
    main()
