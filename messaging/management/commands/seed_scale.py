"""Fills PostgreSQL with a platform's worth of clinics, clients, emails and events, spread over
the last 30 days, with set-based INSERT ... SELECT (generate_series) on the server. Failure and
complaint rates are a platform's: most clinics well under the reputation guard's thresholds, a
few at a warning and a few over a hold (`clinic_rates`)."""

import time

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from messaging.reputation.rollups import counts_fold

# Each email's outcome: (outcome, status, failure_cause, refusal) and the share of a clinic's
# emails it takes. A clinic's own hard bounce and spam complaint rates come first (CLINIC_RATES);
# these fixed shares follow, and the rest of its emails are delivered.
OUTCOMES = [
    # (outcome, status, failure_cause, refusal, handed over)
    ("bounce", "failed", "", "", True),
    ("complaint", "spam_report", "", "", True),
    ("suppressed", "failed", "", "suppressed", False),
    ("opted_out", "failed", "", "opted_out", False),
    ("temporary", "failed", "temporary", "", True),
    ("sender", "failed", "sender", "", True),
    ("processed", "processed", "", "", True),
    ("deferred", "deferred", "", "", True),
    ("clicked", "clicked", "", "", True),
    ("opened", "opened", "", "", True),
    ("delivered", "delivered", "", "", True),
]
FIXED_SHARES = [
    ("suppressed", 0.006),
    ("opted_out", 0.004),
    ("temporary", 0.004),
    ("sender", 0.002),
    ("processed", 0.02),
    ("deferred", 0.02),
    ("clicked", 0.12),
    ("opened", 0.30),
]
# The events each outcome implies, in order: (event type, status, suppress, cause).
EVENTS = {
    "processed": [("queued", "processed", "", "")],
    "deferred": [("queued", "processed", "", ""), ("deferred", "deferred", "", "")],
    "delivered": [("queued", "processed", "", ""), ("delivered", "delivered", "", "")],
    "opened": [
        ("queued", "processed", "", ""),
        ("delivered", "delivered", "", ""),
        ("opened", "opened", "", ""),
    ],
    "clicked": [
        ("queued", "processed", "", ""),
        ("delivered", "delivered", "", ""),
        ("opened", "opened", "", ""),
        ("clicked", "clicked", "", ""),
    ],
    "bounce": [("queued", "processed", "", ""), ("bounced", "failed", "hard_bounce", "")],
    "complaint": [
        ("queued", "processed", "", ""),
        ("delivered", "delivered", "", ""),
        ("complained", "spam_report", "spam_complaint", ""),
    ],
    "temporary": [
        ("queued", "processed", "", ""),
        ("deferred", "deferred", "", ""),
        ("failed", "failed", "", "temporary"),
    ],
    "sender": [("queued", "processed", "", ""), ("rejected", "failed", "", "sender")],
}
MTA_RESPONSE = {
    "bounced": "550 5.1.1 mailbox does not exist",
    "delivered": "250 OK",
    "failed": "452 4.2.2 mailbox full (gave up after 3 days)",
    "rejected": "554 5.7.1 rejected: sending domain reputation",
}
REASON = {
    "bounce": "The address does not exist.",
    "suppressed": "This address cannot receive emails.",
    "opted_out": "The client opted out of appointment emails.",
    "temporary": "The receiving server kept refusing it for now.",
    "sender": "Not sent because of a problem on our side.",
}
KINDS = [
    "appointment_reminder",
    "appointment_confirmation",
    "invoice",
    "direct_message",
    "smart_form",
    "appointment_cancellation",
]
# Low-discrepancy steps (golden ratio, square root of 2): the n-th email of a clinic takes its
# outcome and its moment from two Weyl sequences, so a clinic's rates over any stretch of days
# are its own rates, whatever the size, and the guard's levels in the tests never rest on luck.
OUTCOME_STEP = 0.6180339887498949
MOMENT_STEP = 0.4142135623730951


def clinic_rates(position: int) -> tuple[float, float]:
    """A clinic's (hard bounce, spam complaint) share of its emails, by its position among the
    seeded clinics: most well under the guard's thresholds (bounces 0.5-2 %, complaints
    0.01-0.03 %); of every 50, one over the bounce hold (9-12 %), and of the first 150 of them
    one over the complaint hold (0.4 %), one at the bounce warning (5-6.5 %) and one at the
    complaint warning (0.12-0.18 %): 4, 3, 3 and 3 of 200 clinics."""
    spread = (position * OUTCOME_STEP) % 1
    role = position % 50
    if position >= 150 and role:
        role = None  # past the first 150 clinics, only the bounce holds go on
    if role == 0:
        return 0.09 + 0.03 * spread, 0.0002
    if role == 1:
        return 0.01, 0.004 + 0.0005 * spread
    if role == 2:
        return 0.05 + 0.015 * spread, 0.0002
    if role == 3:
        return 0.01, 0.0012 + 0.0006 * spread
    return 0.005 + 0.015 * spread, 0.0001 + 0.0002 * ((position * MOMENT_STEP) % 1)


def _outcome_case() -> str:
    """SQL choosing an outcome from `u` (uniform on [0, 1)) and the clinic's rates (`b`, `c`)."""
    parts = ["WHEN u < b THEN 'bounce'", "WHEN u < b + c THEN 'complaint'"]
    edge = ""
    for outcome, share in FIXED_SHARES:
        edge += f" + {share}"
        parts.append(f"WHEN u < b + c{edge} THEN '{outcome}'")
    return "CASE " + " ".join(parts) + " ELSE 'delivered' END"


class Command(BaseCommand):
    help = "Fills PostgreSQL with scale data for the benchmarks (not for production databases)."

    def add_arguments(self, parser):
        parser.add_argument("--clinics", type=int, default=200)
        parser.add_argument("--clients-per-clinic", type=int, default=500)
        parser.add_argument("--emails", type=int, default=2_000_000)
        parser.add_argument("--days", type=int, default=30)

    def handle(self, *args, **options) -> None:
        began = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            first_clinic = self._clinics(cursor, options["clinics"])
            self._clients(cursor, first_clinic, options["clinics"], options["clients_per_clinic"])
            self._emails(cursor, first_clinic, options)
            emailed = time.perf_counter()
            self._events(cursor, first_clinic)
        # The email table's trigger wrote its count changes; folded now, the day counts are
        # ready for the overviews and the guard.
        folded = time.perf_counter()
        counts_fold()
        fold_seconds = time.perf_counter() - folded
        with connection.cursor() as cursor:
            cursor.execute(
                "ANALYZE clinic_client, messaging_outboundemail, messaging_emailevent, "
                "messaging_emaildaycount, messaging_deliveredaddress"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {options['clinics']} clinics and {options['emails']:,} emails "
                f"in {time.perf_counter() - began:.0f} s (emails {emailed - began:.0f} s, "
                f"fold {fold_seconds:.1f} s)."
            )
        )

    def _clinics(self, cursor, count: int) -> int:
        cursor.execute("SELECT coalesce(max(id), 0) FROM clinic_clinic")
        start = cursor.fetchone()[0] + 1
        cursor.execute(
            """INSERT INTO clinic_clinic (id, name, slug, time_zone, from_name, reminder_lead_hours,
                   sending_connection, smtp_host, smtp_port, smtp_username, smtp_password,
                   smtp_security, smtp_from_email, created_at)
               SELECT n, 'Scale clinic ' || n, 'scale-' || n, 'Europe/London', '', 24,
                   'platform_esp', '', 587, '', '', 'starttls', '', now()
               FROM generate_series(%s, %s) AS n""",
            [start, start + count - 1],
        )
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('clinic_clinic', 'id'), %s)",
            [start + count - 1],
        )
        return start

    def _clients(self, cursor, first_clinic: int, clinics: int, per_clinic: int) -> None:
        cursor.execute(
            """INSERT INTO clinic_client (clinic_id, name, email, appointment_comms,
                   appointment_comms_reason, created_at)
               SELECT c, 'Client ' || c || '-' || k, 'client' || k || '.c' || c || '@example.test',
                   true, '', now()
               FROM generate_series(%s, %s) AS c, generate_series(1, %s) AS k""",
            [first_clinic, first_clinic + clinics - 1, per_clinic],
        )

    def _emails(self, cursor, first_clinic: int, options: dict) -> None:
        # The client is drawn with a skew (random()^4), so a few clients per clinic have
        # hundreds of emails and most have a handful. The m-th email of a clinic takes its
        # outcome and its moment from the Weyl sequences (OUTCOME_STEP, MOMENT_STEP).
        rates = ", ".join(
            f"({first_clinic + i}, {b:.6f}, {c:.6f})"
            for i, (b, c) in ((i, clinic_rates(i)) for i in range(options["clinics"]))
        )
        outcomes = ", ".join(
            f"('{o}', '{status}', '{cause}', '{refusal}', {str(handed).lower()}, "
            f"'{REASON.get(o, '')}')"
            for o, status, cause, refusal, handed in OUTCOMES
        )
        cursor.execute(
            f"""
            WITH rates(clinic_id, b, c) AS (VALUES {rates}),
            outcomes(outcome, status, failure_cause, refusal, handed_over, reason) AS (
                VALUES {outcomes}
            ), picks AS (
                SELECT %(first)s + (n %% %(clinics)s) AS clinic_id,
                       floor(power(random(), 4) * %(per)s)::int AS k,
                       n, n / %(clinics)s AS m
                FROM generate_series(1, %(emails)s) AS n
            ), clients AS (
                SELECT id, clinic_id,
                       row_number() OVER (PARTITION BY clinic_id ORDER BY id) - 1 AS k
                FROM clinic_client WHERE clinic_id >= %(first)s
            )
            INSERT INTO messaging_outboundemail (id, clinic_id, client_id, kind, to_email, subject,
                body_text, body_html, status, failure_cause, refusal, reason, esp,
                esp_message_id, attempts, created_at, sent_at, status_changed_at)
            SELECT gen_random_uuid(), p.clinic_id, c.id, (ARRAY{KINDS!r})[1 + p.n %% 6],
                'client' || (p.k + 1) || '.c' || p.clinic_id || '@example.test',
                'Your appointment at Scale clinic ' || p.clinic_id, 'Hello', '',
                o.status, o.failure_cause, o.refusal, o.reason, 'mailgun',
                CASE WHEN o.handed_over THEN '<' || p.n || '.scale@mail.clinicmail.test>'
                    ELSE '' END,
                o.handed_over::int,
                w.at, CASE WHEN o.handed_over THEN w.at + interval '2 seconds' END,
                w.at + interval '1 minute'
            FROM picks p
            JOIN clients c ON c.clinic_id = p.clinic_id AND c.k = p.k
            JOIN rates r ON r.clinic_id = p.clinic_id
            CROSS JOIN LATERAL (
                SELECT p.m * {OUTCOME_STEP}::float8 - floor(p.m * {OUTCOME_STEP}::float8) AS u,
                    now() - (p.m * {MOMENT_STEP}::float8 - floor(p.m * {MOMENT_STEP}::float8))
                        * make_interval(days => %(days)s) AS at
            ) w
            CROSS JOIN LATERAL (SELECT {_outcome_case()} AS outcome FROM (
                SELECT w.u AS u, r.b AS b, r.c AS c) x) chosen
            JOIN outcomes o ON o.outcome = chosen.outcome
            """,  # noqa: S608 (only this module's constants are formatted in)
            {
                "first": first_clinic,
                "clinics": options["clinics"],
                "per": options["clients_per_clinic"],
                "days": options["days"],
                "emails": options["emails"],
            },
        )

    def _events(self, cursor, first_clinic: int) -> None:
        rows = [
            f"('{outcome}', {position}, '{event}', '{status}', '{suppress}', '{cause}', "
            f"'{MTA_RESPONSE.get(event, '')}')"
            for outcome, events in EVENTS.items()
            for position, (event, status, suppress, cause) in enumerate(events)
        ]
        outcome_of = ", ".join(
            f"('{status}', '{cause}', '{outcome}')"
            for outcome, status, cause, refusal, handed in OUTCOMES
            if handed
        )
        cursor.execute(
            f"""
            INSERT INTO messaging_emailevent (clinic_id, email_id, esp, event_type, status,
                suppress, cause, occurred_at, received_at, matched_at, reject_reason,
                description, mta_response, click_url, user_agent, recipient, message_id,
                email_id_hint, dedup_key, raw)
            SELECT e.clinic_id, e.id, 'mailgun', v.event, v.event_status, v.suppress, v.cause,
                e.created_at + v.position * interval '90 seconds',
                e.created_at + v.position * interval '91 seconds',
                e.created_at + v.position * interval '91 seconds',
                '', '', v.mta_response, '', '', e.to_email, e.esp_message_id, e.id,
                e.id::text || ':' || v.position, '{{}}'::jsonb
            FROM messaging_outboundemail e
            JOIN (VALUES {outcome_of}) AS k(status, failure_cause, outcome)
              ON k.status = e.status AND k.failure_cause = e.failure_cause
            JOIN (VALUES {", ".join(rows)})
                AS v(outcome, position, event, event_status, suppress, cause, mta_response)
              ON v.outcome = k.outcome
            WHERE e.clinic_id >= %s AND e.refusal = ''
            """,  # noqa: S608 (only this module's constants are formatted in)
            [first_clinic],
        )
