"""Enqueue N emails and time until every one is `processed` through the ESP simulator, with one
Celery worker of two processes on PostgreSQL and Redis.

    .venv/bin/python bench/send_throughput.py --emails 5000 --mode reminders
    .venv/bin/python bench/send_throughput.py --emails 5000 --mode direct

`reminders`: N appointments fall due together and the beat job saves N reminders and enqueues
them in chunks (the bulk path). `direct`: N direct messages saved in one transaction, each
enqueued as its own task (the path of a manual send). `--count-triggers off` disables the email
table's count triggers (messaging/migrations/0015_reputation.py) in the scratch database, to
measure what keeping the per-day counts costs the send path (docs/benchmarks.md).
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._harness import (
    PYTHON,
    MemorySampler,
    bench_env,
    free_port,
    scratch_database,
    start,
    stop,
    wait_http,
)


def prepare(count: int):
    import django

    django.setup()
    from django.core.management import call_command

    from clinic.models import Client, Clinic, Membership, User

    call_command("migrate", verbosity=0)
    clinic = Clinic.objects.create(name="Bench Physio", slug="bench")
    user = User.objects.create_user("sender@bench.test", "x")
    Membership.objects.create(user=user, clinic=clinic, role="practitioner")
    clients = Client.objects.bulk_create(
        Client(clinic=clinic, name=f"Client {n}", email=f"client{n}@example.test")
        for n in range(count)
    )
    return clinic, user, clients


def triggers_disable() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for trigger in ("email_counts_inserted", "email_counts_updated", "email_counts_deleted"):
            cursor.execute(f"ALTER TABLE messaging_outboundemail DISABLE TRIGGER {trigger}")


def triggers_timed() -> None:
    """PostgreSQL times the count triggers' functions in every session from now on (the
    workers') and in this one (the beat job's), so their own share of the run is known."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"ALTER DATABASE {connection.settings_dict['NAME']} SET track_functions = 'pl'"
        )
        cursor.execute("SET track_functions = 'pl'")


def triggers_time() -> tuple[float, int]:
    """Milliseconds spent in the count triggers, and their calls, in every session so far."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
    time.sleep(1.5)  # other sessions report their figures within a second
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT coalesce(sum(total_time), 0), coalesce(sum(calls), 0)"
            " FROM pg_stat_user_functions WHERE funcname LIKE 'messaging_email_counts_%'"
        )
        milliseconds, calls = cursor.fetchone()
    return float(milliseconds), int(calls)


def reminders_fall_due(clinic, user, clients) -> float:
    """The beat job finds N due reminders, saves and enqueues them. Returns when it began."""
    from datetime import timedelta

    from django.utils import timezone

    from clinic.models import Appointment
    from messaging.sending.tasks import reminders_send_task

    start = timezone.now() + timedelta(hours=2)
    Appointment.objects.bulk_create(
        Appointment(
            clinic=clinic,
            client=c,
            practitioner=user,
            start=start,
            end=start + timedelta(minutes=30),
        )
        for c in clients
    )
    began = time.perf_counter()
    reminders_send_task()
    return began


def save_and_enqueue(clinic, user, clients) -> float:
    """Saves every email in one transaction; they are enqueued on commit. Returns commit time."""
    from django.db import transaction
    from django_scopes import scope

    from messaging.sending.triggers import direct_message_send

    committed = []
    with scope(clinic=clinic), transaction.atomic():
        transaction.on_commit(lambda: committed.append(time.perf_counter()))
        for client in clients:
            direct_message_send(client=client, subject="Hello", body="Body text", sent_by=user)
    return committed[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--emails", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--mode", choices=["reminders", "direct"], default="reminders")
    parser.add_argument("--count-triggers", choices=["on", "off"], default="on")
    args = parser.parse_args()

    port = free_port()
    env = bench_env(
        DATABASE_URL=scratch_database("clinicmail_bench_send"),
        MAILGUN_API_URL=f"http://127.0.0.1:{port}/v3",
    )
    os.environ.update(env)
    clinic, user, clients = prepare(args.emails)
    if args.count_triggers == "off":
        triggers_disable()
    else:
        triggers_timed()

    from django_scopes import scopes_disabled

    from config.celery import app
    from messaging.models import OutboundEmail

    app.control.purge()
    simulator = start(
        [
            PYTHON,
            "-m",
            "espsim",
            "--port",
            str(port),
            "--api-key",
            "bench-key",
            "--log-level",
            "WARNING",
        ],
        env,
    )
    worker = start(
        [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--loglevel",
            os.environ.get("BENCH_WORKER_LOGLEVEL", "WARNING"),
            "--concurrency",
            str(args.concurrency),
            "--without-gossip",
            "--without-mingle",
        ],
        env,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/sim/health")
        sampler = MemorySampler(worker.pid)
        sampler.start()
        time.sleep(3)  # worker boot
        fill = reminders_fall_due if args.mode == "reminders" else save_and_enqueue
        began = fill(clinic, user, clients)
        enqueued = time.perf_counter() - began
        with scopes_disabled():
            pending = OutboundEmail.objects.filter(status="sending")
            while pending.exists():
                time.sleep(0.05)
            elapsed = time.perf_counter() - began
            sampler.stop()
            failed = OutboundEmail.objects.exclude(status="processed").count()
    finally:
        stop(worker)
        stop(simulator)
    trigger_ms, trigger_calls = triggers_time()
    print(
        json.dumps(
            {
                "mode": args.mode,
                "count_triggers": args.count_triggers,
                "emails": args.emails,
                "worker_processes": args.concurrency,
                "enqueue_seconds": round(enqueued, 2),
                "seconds": round(elapsed, 2),
                "emails_per_second": round(args.emails / elapsed, 1),
                "not_processed": failed,
                "count_trigger_ms": round(trigger_ms, 1),
                "count_trigger_calls": trigger_calls,
                "peak_rss_per_worker_process_mib": round(sampler.peak_per_process / 1024, 1),
                "peak_rss_worker_tree_mib": round(sampler.peak_total / 1024, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
