"""Fills PostgreSQL with a platform's worth of clinics, clients, emails and events, spread over
the last 30 days, with set-based INSERT ... SELECT (generate_series) on the server."""

import time

from django.core.management.base import BaseCommand
from django.db import connection, transaction

# (status, share of emails) and the events each status implies, in order.
STATUS_MIX = [
    ("delivered", 0.46),
    ("opened", 0.30),
    ("clicked", 0.12),
    ("processed", 0.02),
    ("deferred", 0.02),
    ("failed", 0.06),
    ("spam_report", 0.02),
]
EVENTS = {
    "processed": ["queued"],
    "deferred": ["queued", "deferred"],
    "delivered": ["queued", "delivered"],
    "opened": ["queued", "delivered", "opened"],
    "clicked": ["queued", "delivered", "opened", "clicked"],
    "failed": ["queued", "bounced"],
    "spam_report": ["queued", "delivered", "complained"],
}
EVENT_STATUS = {
    "queued": "processed",
    "deferred": "deferred",
    "delivered": "delivered",
    "opened": "opened",
    "clicked": "clicked",
    "bounced": "failed",
    "complained": "spam_report",
}
KINDS = [
    "appointment_reminder",
    "appointment_confirmation",
    "invoice",
    "direct_message",
    "smart_form",
    "appointment_cancellation",
]


def _status_case() -> str:
    """SQL choosing a status from a uniform random number `r` by the mix above."""
    parts, edge = [], 0.0
    for status, share in STATUS_MIX:
        edge += share
        parts.append(f"WHEN r < {edge:.4f} THEN '{status}'")
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
            self._events(cursor, first_clinic)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE clinic_client, messaging_outboundemail, messaging_emailevent")
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {options['clinics']} clinics and {options['emails']:,} emails "
                f"in {time.perf_counter() - began:.0f} s."
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
        # hundreds of emails and most have a handful.
        cursor.execute(
            f"""
            WITH picks AS (
                SELECT %(first)s + (n %% %(clinics)s) AS clinic_id,
                       floor(power(random(), 4) * %(per)s)::int AS k,
                       random() AS r, n,
                       now() - random() * make_interval(days => %(days)s) AS at
                FROM generate_series(1, %(emails)s) AS n
            ), clients AS (
                SELECT id, clinic_id,
                       row_number() OVER (PARTITION BY clinic_id ORDER BY id) - 1 AS k
                FROM clinic_client WHERE clinic_id >= %(first)s
            )
            INSERT INTO messaging_outboundemail (id, clinic_id, client_id, kind, to_email, subject,
                body_text, body_html, status, refusal, reason, esp, esp_message_id, attempts,
                created_at, sent_at, status_changed_at)
            SELECT gen_random_uuid(), p.clinic_id, c.id, (ARRAY{KINDS!r})[1 + p.n %% 6],
                'client' || (p.k + 1) || '.c' || p.clinic_id || '@example.test',
                'Your appointment at Scale clinic ' || p.clinic_id, 'Hello', '',
                s.status, '', '', 'mailgun',
                '<' || p.n || '.scale@mail.clinicmail.test>', 1,
                p.at, p.at + interval '2 seconds', p.at + interval '1 minute'
            FROM picks p
            JOIN clients c ON c.clinic_id = p.clinic_id AND c.k = p.k
            CROSS JOIN LATERAL (SELECT {_status_case()} AS status) s
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
            f"('{status}', {position}, '{event}', '{EVENT_STATUS[event]}')"
            for status, events in EVENTS.items()
            for position, event in enumerate(events)
        ]
        cursor.execute(
            f"""
            INSERT INTO messaging_emailevent (clinic_id, email_id, esp, event_type, status,
                suppress, occurred_at, received_at, matched_at, reject_reason, description,
                mta_response, click_url, user_agent, recipient, message_id, email_id_hint,
                dedup_key, raw)
            SELECT e.clinic_id, e.id, 'mailgun', v.event, v.event_status,
                CASE v.event WHEN 'bounced' THEN 'hard_bounce' WHEN 'complained'
                    THEN 'spam_complaint' ELSE '' END,
                e.created_at + v.position * interval '90 seconds',
                e.created_at + v.position * interval '91 seconds',
                e.created_at + v.position * interval '91 seconds',
                '', '',
                CASE v.event WHEN 'bounced' THEN '550 5.1.1 mailbox does not exist'
                    WHEN 'delivered' THEN '250 OK' ELSE '' END,
                '', '', e.to_email, e.esp_message_id, e.id,
                e.id::text || ':' || v.position, '{{}}'::jsonb
            FROM messaging_outboundemail e
            JOIN (VALUES {", ".join(rows)}) AS v(email_status, position, event, event_status)
              ON v.email_status = e.status
            WHERE e.clinic_id >= %s
            """,  # noqa: S608 (only this module's constants are formatted in)
            [first_clinic],
        )
