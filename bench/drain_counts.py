"""What keeping the per-day email counts costs the tracking drain: the same kept webhook batches
drained with the email table's count triggers (`email_counts_inserted/updated/deleted`,
messaging/migrations/0015_reputation.py) enabled and disabled, alternating, in one run.

One scratch database is filled once (--clinics clinics, --emails processed emails over the last
three days, --batches received batches of --batch-size events: 4 events per email dealt at random
over the batches, as bench/webhook_ingest.py deals SendGrid's, plus --bounces hard bounces in
every thousand events, whose consequences suppress the address). Each round copies it
(CREATE DATABASE ... TEMPLATE), disables the triggers in the copy or not, and drains every batch
in a fresh process with the app's own `inbox_drain`, timed from the first group to the last; the
copy is then checked (every email at its highest event, every event stored) and, with the
triggers on, the counts read must equal the recount. The results go to stdout as JSON, a table to
stderr.

    .venv/bin/python bench/drain_counts.py                  # about 3 minutes
    .venv/bin/python bench/drain_counts.py --rounds 6 --explain
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._harness import PYTHON, ROOT, bench_env, scratch_database, scratch_url

TRIGGERS = ["email_counts_inserted", "email_counts_updated", "email_counts_deleted"]
KINDS = {  # anymail's event type: the status it gives
    "queued": "processed",
    "deferred": "deferred",
    "delivered": "delivered",
    "opened": "opened",
    "clicked": "clicked",
}
RANK = {"processed": 1, "deferred": 2, "delivered": 3, "opened": 4, "clicked": 5, "failed": 6}
# Dedup keys are unique per event, so every event sent is stored.


def setup_django(url: str) -> None:
    os.environ.update(bench_env(DATABASE_URL=url))
    import django

    django.setup()


def fill(args) -> None:
    """The template: clinics, one client each per 50 emails, the emails, the kept batches."""
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from clinic.models import Client, Clinic
    from messaging.models import EmailKind, OutboundEmail
    from messaging.reputation.rollups import counts_fold
    from messaging.tracking.receive import events_receive
    from messaging.tracking.rows import EventRow

    rng = random.Random(20261130)
    now = timezone.now()
    zones = ["Europe/London", "America/New_York", "Australia/Sydney", "Asia/Tokyo"]
    with scopes_disabled():
        clinics = [
            Clinic.objects.create(
                name=f"Bench clinic {n}", slug=f"bench-{n}", time_zone=zones[n % len(zones)]
            )
            for n in range(args.clinics)
        ]
        clients = [
            Client.objects.create(clinic=clinic, name=f"C {k}", email=f"c{k}.{clinic.pk}@x.test")
            for clinic in clinics
            for k in range(max(1, args.emails // args.clinics // 50))
        ]
    emails = []
    for n in range(args.emails):
        client = clients[n % len(clients)]
        emails.append(
            OutboundEmail(
                id=uuid.uuid4(),
                clinic_id=client.clinic_id,
                client=client,
                kind=EmailKind.DIRECT_MESSAGE,
                to_email=client.email,
                subject="Your appointment",
                body_text="Hello,\n\nSee you on Friday at 10:00.\n" * 10,
                esp="sendgrid",
                esp_message_id=f"<{n}@bench.test>",
                status="processed",
            )
        )
    OutboundEmail.objects.bulk_create(emails, batch_size=2000)
    with scopes_disabled():
        for n, email in enumerate(emails):  # spread over three days on each clinic's clock
            email.created_at = now - timedelta(hours=(n * 7) % 72)
        OutboundEmail.objects.bulk_update(emails, ["created_at"], batch_size=2000)

    def row(email, kind: str, status: str, suppress: str = "") -> EventRow:
        return EventRow(
            esp="sendgrid",
            event_type=kind,
            status=status,
            suppress=suppress,
            occurred_at=now,
            reject_reason="",
            description="",
            mta_response="550 5.1.1 no such user" if suppress else "",
            click_url="",
            user_agent="",
            recipient=email.to_email,
            message_id=email.esp_message_id,
            email_id_hint=email.id,
            dedup_key=uuid.uuid4().hex,
            raw={},
        )

    events = []
    for email in emails:
        if rng.random() < args.bounces / 1000 * 4:
            events += [
                row(email, "queued", "processed"),
                row(email, "bounced", "failed", "hard_bounce"),
            ]
            continue
        events += [row(email, kind, KINDS[kind]) for kind in rng.sample(sorted(KINDS), 4)]
    rng.shuffle(events)
    size = args.batch_size
    for at in range(0, min(len(events), args.batches * size), size):
        events_receive(esp="sendgrid", rows=events[at : at + size])
    counts_fold()  # the counts of the emails as they stand; no change waiting


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process on this machine (the PostgreSQL backend)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drain_round(url: str, explain: bool) -> dict:
    """In a fresh process on one copy: drains everything, then checks it."""
    setup_django(url)
    from django.db import connection
    from django_scopes import scopes_disabled

    from messaging.models import EmailEvent, OutboundEmail, ReceivedBatch
    from messaging.reputation.rollups import day_counts, day_counts_recounted
    from messaging.tracking.drain import inbox_drain

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgname = ANY(%s) AND tgenabled <> 'D'",
            [TRIGGERS],
        )
        triggers_on = cursor.fetchone()[0] == len(TRIGGERS)
        cursor.execute("SELECT coalesce(sum(event_count), 0) FROM messaging_receivedbatch")
        sent = cursor.fetchone()[0]
        if explain:
            cursor.execute("LOAD 'auto_explain'")
            cursor.execute("SET auto_explain.log_min_duration = 0")
            cursor.execute("SET auto_explain.log_nested_statements = on")
            cursor.execute("SET auto_explain.log_analyze = on")
        cursor.execute("SET track_functions = 'pl'")  # the triggers' own time, below
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    began, cpu, server = time.perf_counter(), time.process_time(), cpu_seconds(backend)
    drained = inbox_drain()
    seconds = time.perf_counter() - began
    cpu, server = time.process_time() - cpu, cpu_seconds(backend) - server
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT coalesce(sum(total_time), 0), coalesce(sum(calls), 0)"
            " FROM pg_stat_user_functions WHERE funcname LIKE 'messaging_email_counts_%%'"
        )
        trigger_ms, trigger_calls = cursor.fetchone()
    with scopes_disabled():
        assert not ReceivedBatch.objects.exists(), "batches left undrained"
        highest: dict = {}
        for email_id, status in EmailEvent.objects.values_list("email_id", "status"):
            highest[email_id] = max(highest.get(email_id, "processed"), status, key=RANK.get)
        shown = dict(OutboundEmail.objects.values_list("id", "status"))
    assert sum(1 for _ in highest) and len(highest) == len(shown)
    assert highest == shown, "an email is not at the highest status of its events"
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM messaging_emailevent")
        assert cursor.fetchone()[0] == sent, "events stored differ from events sent"
        cursor.execute(
            "SELECT count(*), coalesce(sum(abs(emails)), 0) FROM messaging_emailcountchange"
        )
        changes, moved = cursor.fetchone()
    if triggers_on:
        read = sorted(day_counts(since=date(2000, 1, 1)), key=repr)
        assert read == sorted(day_counts_recounted(), key=repr), "counts differ from recount"
    return {
        "triggers": "on" if triggers_on else "off",
        "events": drained.events,
        "seconds": round(seconds, 3),
        "events_per_s": round(drained.events / seconds),
        # CPU seconds of the drain's process and of its PostgreSQL backend: steadier than the
        # wall clock on a machine shared with other work.
        "cpu_s": round(cpu + server, 3),
        "events_per_cpu_s": round(drained.events / (cpu + server)),
        "trigger_ms": round(float(trigger_ms), 1),
        "trigger_calls": int(trigger_calls),
        "count_changes": changes,
        "emails_moved": moved,
    }


def copy_of(template: str, name: str, triggers_on: bool) -> str:
    host = ["-h", "127.0.0.1", "-U", "postgres"]
    database = name.rpartition("/")[2]
    subprocess.run(["dropdb", "--if-exists", "-f", *host, database], check=True)
    subprocess.run(["createdb", *host, "-T", template, database], check=True)
    if not triggers_on:
        statements = "; ".join(
            f"ALTER TABLE messaging_outboundemail DISABLE TRIGGER {trigger}" for trigger in TRIGGERS
        )
        subprocess.run(["psql", "-q", *host, "-d", database, "-c", statements], check=True)
    subprocess.run(["psql", "-q", *host, "-d", database, "-c", "VACUUM ANALYZE"], check=True)
    return name


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clinics", type=int, default=20)
    parser.add_argument("--emails", type=int, default=10_000)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--bounces", type=float, default=5, help="hard bounces per 1,000 events")
    parser.add_argument("--rounds", type=int, default=4, help="rounds of each, alternating")
    parser.add_argument("--explain", action="store_true", help="log each statement's plan")
    parser.add_argument("--round", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.round:
        print(json.dumps(drain_round(args.round, args.explain)))
        return

    copy = scratch_url("clinicmail_bench_drain_counts_round")
    template = scratch_database("clinicmail_bench_drain_counts")
    setup_django(template)
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    began = time.perf_counter()
    fill(args)
    print(f"filled in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    connection.close()
    runs = []
    for n in range(-1, args.rounds * 2):  # round -1 warms the machine up and is not counted
        triggers_on = n % 2 == 1  # off, on, off, on...
        copy_of(template.rpartition("/")[2], copy, triggers_on)
        out = subprocess.run(
            [PYTHON, __file__, "--round", copy, *(["--explain"] if args.explain else [])],
            cwd=ROOT,
            env=bench_env(DATABASE_URL=copy),
            capture_output=True,
            text=True,
        )
        if out.returncode:
            sys.exit(out.stderr)
        run = json.loads(out.stdout.strip().splitlines()[-1])
        if n < 0:
            continue
        runs.append(run)
        print(json.dumps(run), file=sys.stderr)
    results = {"setup": vars(args) | {"cores": os.cpu_count()}, "runs": runs}
    for measure in ("events_per_s", "events_per_cpu_s"):
        median = {
            mode: statistics.median(run[measure] for run in runs if run["triggers"] == mode)
            for mode in ("off", "on")
        }
        change = round(100 * (median["on"] - median["off"]) / median["off"], 1)
        results[f"median_{measure}"] = median | {"on_vs_off_percent": change}
        print(
            f"{measure}: {median['off']:,.0f} without the count triggers, {median['on']:,.0f} "
            f"with ({change:+} %); rounds: "
            + ", ".join(f"{r['triggers']} {r[measure]:,}" for r in runs),
            file=sys.stderr,
        )
    on_runs = [run for run in runs if run["triggers"] == "on"]
    results["trigger_share_percent"] = round(
        100 * statistics.median(r["trigger_ms"] / 1000 / r["cpu_s"] for r in on_runs), 1
    )
    print(json.dumps(results, indent=2))
    print(
        f"the triggers' own time: {results['trigger_share_percent']} % of the drain's CPU "
        f"({statistics.median(r['trigger_ms'] for r in on_runs):.0f} ms in "
        f"{on_runs[0]['trigger_calls']} calls a round)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
