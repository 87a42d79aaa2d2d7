"""Server time and queries of the clinic's "Needs attention" page at platform size, and EXPLAIN of
its two queries.

    .venv/bin/python bench/needs_attention.py --clinics 200 --emails 2000000
    .venv/bin/python bench/needs_attention.py --reuse      # a database this script filled

seed_scale makes the clinics, clients and emails (about a tenth of them failed, reported as spam,
deferred or still processed); this script adds what the page also reads and seed_scale does not
make: four practitioners and a clinic admin per clinic, the sender of every email that needs
attention, stuck flags on processed emails, an appointment in the coming fortnight for every
client, clients opted out and addresses suppressed (the clinic's own, and other clinics' on the
shared stream). Requests go through Django's full stack in-process, as in bench/log_latency.py.
"""

import argparse
import json
import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._harness import bench_env, scratch_database, scratch_url
from bench.log_latency import percentile

DB_NAME = "clinicmail_bench_attention"
PRACTITIONERS = 4
OPTED_OUT_SHARE = 0.03
SUPPRESSED_SHARE = 0.03


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
    seed_attention()
    print(f"attention data: {time.perf_counter() - began:.0f} s", file=sys.stderr)


def seed_attention() -> None:
    """Staff, senders, stuck flags, appointments, opt-outs and suppressions, set-based in SQL."""
    from django.db import connection, transaction

    statements = [
        # Four practitioners and one clinic admin per clinic (k = 0 is the admin).
        f"""INSERT INTO clinic_user (password, is_superuser, email, first_name, last_name,
               is_staff, is_active, date_joined)
           SELECT '!', false, 'staff' || k || '.c' || c.id || '@bench.test', 'Staff ' || k,
               'of ' || c.id, false, true, now()
           FROM clinic_clinic c, generate_series(0, {PRACTITIONERS}) AS k""",  # noqa: S608 (constants only)
        """INSERT INTO clinic_membership (user_id, clinic_id, role)
           SELECT u.id, split_part(split_part(u.email, '.c', 2), '@', 1)::int,
               CASE WHEN u.email LIKE 'staff0.%' THEN 'clinic_admin' ELSE 'practitioner' END
           FROM clinic_user u WHERE u.email LIKE 'staff%@bench.test'""",
        # Each client's appointment, in the coming fortnight, with one of the practitioners.
        f"""INSERT INTO clinic_appointment (clinic_id, client_id, practitioner_id, start, "end",
               status)
           SELECT cl.clinic_id, cl.id, m.user_id, s.start, s.start + interval '45 minutes',
               'booked'
           FROM clinic_client cl
           CROSS JOIN LATERAL (SELECT now() + random() * interval '14 days' AS start) s
           JOIN clinic_membership m ON m.clinic_id = cl.clinic_id AND m.role = 'practitioner'
           JOIN clinic_user u ON u.id = m.user_id
             AND u.email LIKE 'staff' || (1 + cl.id % {PRACTITIONERS}) || '.%'""",  # noqa: S608 (constants only)
        # Who sent each email that needs attention: its client's practitioner.
        """UPDATE messaging_outboundemail e SET sent_by_id = a.practitioner_id
           FROM clinic_appointment a
           WHERE a.client_id = e.client_id
             AND e.status IN ('failed', 'spam_report', 'deferred', 'processed')""",
        # Support was told of half of the processed emails: stuck.
        """UPDATE messaging_outboundemail SET flagged_stuck_at = now()
           WHERE status = 'processed' AND random() < 0.5""",
        f"""UPDATE clinic_client SET appointment_comms = false,
               appointment_comms_reason = 'Unsubscribed', appointment_comms_changed_at = now()
           WHERE random() < {OPTED_OUT_SHARE}""",  # noqa: S608 (constants only)
        # Suppressed addresses: the clinic's own, and as many again caused by other clinics on
        # the shared stream (no cause for this clinic).
        f"""INSERT INTO suppression_suppression (address, stream, reason, diagnostic,
               first_seen, last_seen, times_seen, active, esp_removal, esp_removal_attempts,
               esp_removal_error)
           SELECT email, 'mailgun', 'hard_bounce', '550 5.1.1', now(), now(), 1, true, '', 0, ''
           FROM clinic_client WHERE random() < {2 * SUPPRESSED_SHARE}""",  # noqa: S608 (constants only)
        """INSERT INTO suppression_suppressioncause (suppression_id, clinic_id, reason,
               diagnostic, first_seen, last_seen)
           SELECT s.id, cl.clinic_id, 'hard_bounce', '550 5.1.1', now(), now()
           FROM suppression_suppression s JOIN clinic_client cl ON cl.email = s.address
           WHERE s.id % 2 = 0""",
        "ANALYZE",
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def measured_clinics(count: int) -> list:
    from django_scopes import scopes_disabled

    from clinic.models import Clinic

    with scopes_disabled():
        return list(Clinic.objects.filter(slug__startswith="scale-").order_by("id")[:count])


def staff_of(clinic, role: str):
    from django_scopes import scopes_disabled

    from clinic.models import Membership

    with scopes_disabled():
        return Membership.objects.filter(clinic=clinic, role=role).order_by("id").first().user


def measure(clinics: list, requests_each: int) -> dict:
    from django.db import connection
    from django.test import Client as HttpClient
    from django.test.utils import CaptureQueriesContext

    views = {
        "clinic admin, everything": ("clinic_admin", {}),
        "clinic admin, one practitioner": ("clinic_admin", {"practitioner": "?"}),
        "clinic admin, failed only, page 3": ("clinic_admin", {"problem": "failed", "page": 3}),
        "practitioner, own rows": ("practitioner", {}),
    }
    timings = {name: [] for name in views}
    queries = {name: set() for name in views}
    rows = {name: set() for name in views}
    for clinic in clinics:
        practitioner = staff_of(clinic, "practitioner")
        for name, (role, params) in views.items():
            browser = HttpClient()
            browser.force_login(staff_of(clinic, role))
            if params.get("practitioner") == "?":
                params = {**params, "practitioner": practitioner.pk}
            for _ in range(requests_each):
                with CaptureQueriesContext(connection) as captured:
                    began = time.perf_counter()
                    response = browser.get("/attention/", params)
                    timings[name].append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200, (name, response.status_code)
                queries[name].add(len(captured))
            listed = re.search(r"Emails \((\d+)\)", response.content.decode())
            rows[name].add(int(listed.group(1)) if listed else 0)
    return {
        name: {
            "p50_ms": round(statistics.median(values), 1),
            "p95_ms": round(percentile(values, 0.95), 1),
            "queries_per_request": sorted(queries[name]),
            "emails_listed": sorted(rows[name]),
        }
        for name, values in timings.items()
    }


def explain(clinic) -> str:
    from django_scopes import scope

    from messaging.log.attention import (
        AttentionFilter,
        attention_emails,
        unremindable_appointments,
    )

    practitioner = staff_of(clinic, "practitioner")
    plans = []
    with scope(clinic=clinic):
        for wanted in (AttentionFilter(), AttentionFilter(practitioner=practitioner)):
            emails = attention_emails(clinic=clinic, wanted=wanted)
            plans.append(emails[:25].explain(analyze=True))
            appointments = unremindable_appointments(clinic=clinic, wanted=wanted)
            plans.append(appointments[:26].explain(analyze=True))
    return "\n\n".join(plans)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clinics", type=int, default=200)
    parser.add_argument("--emails", type=int, default=2_000_000)
    parser.add_argument("--measured", type=int, default=5, help="clinics measured")
    parser.add_argument("--requests", type=int, default=40, help="requests per clinic and view")
    parser.add_argument("--reuse", action="store_true", help="this script already filled it")
    parser.add_argument(
        "--seeded", action="store_true", help="seed_scale already filled it: add the rest only"
    )
    args = parser.parse_args()

    fresh = not (args.reuse or args.seeded)
    url = scratch_database(DB_NAME) if fresh else scratch_url(DB_NAME)
    # Plain HTTP in-process: production redirects it to HTTPS.
    os.environ.update(
        bench_env(DATABASE_URL=url, ALLOWED_HOSTS="testserver", SECURE_SSL_REDIRECT="false")
    )
    prepare(args)
    clinics = measured_clinics(args.measured)
    print(json.dumps(measure(clinics, args.requests), indent=2))
    print(explain(clinics[0]))


if __name__ == "__main__":
    main()
