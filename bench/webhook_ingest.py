"""Tracking-webhook ingestion: the app ("ours": the request keeps the post as a received batch, a
Celery worker of 2 processes applies the waiting batches) against a receiver written the obvious
way ("naive": bench/naive_receiver.py, per event one lookup, one INSERT, one UPDATE, in the
request), a view that only answers "ok" ("trivial") and one that only commits the post's raw body
with one INSERT ("durable ceiling": what any receiver that keeps a post before answering must do
at least), each served by gunicorn (4 sync workers) on one scratch PostgreSQL database that is
reset between runs; both webhook servers get the same few warm-up posts first. About 7 minutes;
stops its servers and the worker by itself. The results go to stdout as JSON, and a table of
them to stderr at the end.

    apt-get install -y wrk
    .venv/bin/python bench/webhook_ingest.py > webhook_ingest.json

1. Mailgun: --posts distinct signed single-event posts (delivered/opened/clicked/failed
   temporary, one email each) cycled by wrk (bench/wrk/post_bodies.lua) at --connections for
   --duration seconds: posts answered per second, then how long the worker needed after the
   last answer to apply everything ("drain_lag_s") and the rate of applied events over the
   whole ("applied_per_s"). The trivial view, the durable ceiling (bench/naive_urls.py: one
   committed INSERT of the raw body into bench_ceiling per post, in autocommit, no auth, no
   parsing; each post answered must be a row) and a prototype that only verifies and queues the
   body in Redis (bench/naive_urls.py) get the same posts; ours is also given as a share of the
   durable ceiling.
2. SendGrid: --batches posts of --batch-size events (4 events per email dealt at random over the
   batches, 8 repeats inside each batch; no hard bounces) from Python threads, at concurrency 1
   and each --batch-concurrency: time to answer each post (p50, p99), and events applied per
   second from the first post until the worker has applied the last ("events_per_s").
3. After each run: events stored == distinct events sent, none unmatched, every email at the
   highest status among its events, no 5xx; then one batch posted twice in a row, and another
   twice at once, must answer 200 and store each event once.
4. In process: where the time of one 1,000-event batch goes, in the request (parse, rows,
   keeping the batch) and in the worker (each SQL statement, and the Python around them).
"""

import argparse
import base64
import copy
import cProfile
import hashlib
import hmac
import io
import json
import math
import os
import pstats
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._harness import PYTHON, ROOT, bench_env, free_port, scratch_database, start, stop

FIXTURES = ROOT / "tests" / "fixtures" / "esp"
LUA = ROOT / "bench" / "wrk" / "post_bodies.lua"
MAILGUN_KINDS = {
    "delivered": "delivered",
    "opened": "opened",
    "clicked": "clicked",
    "failed_temporary": "deferred",
}
SENDGRID_KINDS = {
    "processed": "processed",
    "deferred": "deferred",
    "delivered": "delivered",
    "open": "opened",
    "click": "clicked",
}
REPEATS_PER_BATCH = 8
SENDGRID_PATH = "/anymail/sendgrid/tracking/"
GUNICORN = ["-w", "4", "--worker-class", "sync", "--timeout", "120", "--log-level", "warning"]
WORKER = ["--concurrency", "2", "--loglevel", "WARNING", "--without-gossip", "--without-mingle"]
CEILING_TABLE = """CREATE TABLE bench_ceiling (
    id bigserial PRIMARY KEY,
    body bytea NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
)"""


def fixture(esp: str, name: str):
    return json.loads((FIXTURES / esp / f"{name}.json").read_text())


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(len(ordered) * p / 100) - 1)]  # nearest rank


# --- data ----------------------------------------------------------------------------------------


# Every bench email goes to one client; its events name that address.
BENCH_RECIPIENT = "c@example.test"


def make_emails(esp: str, count: int) -> list[uuid.UUID]:
    from django_scopes import scopes_disabled

    from clinic.models import Client, Clinic
    from messaging.models import EmailKind, OutboundEmail

    with scopes_disabled():
        clinic = Clinic.objects.get_or_create(name="Bench Physio", slug="bench")[0]
        client = Client.objects.get_or_create(clinic=clinic, name="C", email=BENCH_RECIPIENT)[0]
    ids = [uuid.uuid4() for _ in range(count)]
    OutboundEmail.objects.bulk_create(
        (
            OutboundEmail(
                id=email_id,
                clinic=clinic,
                client=client,
                kind=EmailKind.DIRECT_MESSAGE,
                to_email=client.email,
                subject="Your appointment",
                body_text="Hello,\n\nSee you on Friday at 10:00.\n" * 10,
                esp=esp,
                esp_message_id=f"<{email_id.hex}@mg.bench.test>",
                status="processed",
            )
            for email_id in ids
        ),
        batch_size=2000,
    )
    return ids


def mailgun_bodies(emails, signing_key: str, rng) -> tuple[list[str], list[str]]:
    """One signed single-event body per email, and the status each should give its email."""
    templates = {kind: fixture("mailgun", kind)["event-data"] for kind in MAILGUN_KINDS}
    bodies, statuses = [], []
    for email_id in emails:
        kind = rng.choice(list(MAILGUN_KINDS))
        data = copy.deepcopy(templates[kind])
        data["id"] = uuid.uuid4().hex
        data["user-variables"] = {"email_id": str(email_id)}
        data["recipient"] = BENCH_RECIPIENT  # the email's own: an event for another changes nothing
        data["message"]["headers"]["message-id"] = f"{email_id.hex}@mg.bench.test"
        timestamp, token = str(int(time.time())), uuid.uuid4().hex
        digest = hmac.new(signing_key.encode(), (timestamp + token).encode(), hashlib.sha256)
        signature = {"timestamp": timestamp, "token": token, "signature": digest.hexdigest()}
        bodies.append(json.dumps({"signature": signature, "event-data": data}))
        statuses.append(MAILGUN_KINDS[kind])
    return bodies, statuses


def sendgrid_batches(emails, size: int, rng) -> list[bytes]:
    """Four events (of the five kinds) per email, shuffled over batches of `size` events, each
    batch repeating a few of its own events."""
    templates = {kind: fixture("sendgrid", kind)[0] for kind in SENDGRID_KINDS}
    events = [
        dict(
            templates[kind],
            sg_event_id=uuid.uuid4().hex,
            sg_message_id=f"{email_id.hex}.bench",
            anymail_id=str(email_id),
            email_id=str(email_id),
            email=BENCH_RECIPIENT,
        )
        for email_id in emails
        for kind in rng.sample(list(SENDGRID_KINDS), 4)
    ]
    rng.shuffle(events)
    distinct, batches = size - REPEATS_PER_BATCH, []
    for start_at in range(0, len(events), distinct):
        batch = events[start_at : start_at + distinct]
        batch += rng.sample(batch, min(REPEATS_PER_BATCH, len(batch)))
        rng.shuffle(batch)
        batches.append(json.dumps(batch).encode())
    return batches


def expected_of(batches: list[bytes]) -> tuple[int, dict]:
    """Distinct events in these batches, and the status each of their emails must end at."""
    from messaging.status import STATUS_RANK

    events = {event["sg_event_id"]: event for body in batches for event in json.loads(body)}
    expected: dict[uuid.UUID, str] = {}
    for event in events.values():
        email_id, status = uuid.UUID(event["email_id"]), SENDGRID_KINDS[event["event"]]
        if STATUS_RANK[status] > STATUS_RANK[expected.get(email_id, "processed")]:
            expected[email_id] = status
    return len(events), expected


# --- database state ------------------------------------------------------------------------------


def reset() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE messaging_emailevent, messaging_receivedbatch")
        cursor.execute(
            "UPDATE messaging_outboundemail SET status = 'processed', "
            "reason = '' WHERE status <> 'processed'"
        )
        cursor.execute(
            "VACUUM ANALYZE messaging_emailevent, messaging_outboundemail, messaging_receivedbatch"
        )
        cursor.execute("CHECKPOINT")  # no writes of the last run left to flush during the next


def check(events_sent: int, expected: dict[str, dict]) -> list[str]:
    """Problems found: stored events against distinct events sent, and every email's status."""
    from django_scopes import scopes_disabled

    from messaging.models import EmailEvent, OutboundEmail

    problems = []
    with scopes_disabled():
        stored = EmailEvent.objects.count()
        unmatched = EmailEvent.objects.filter(email__isnull=True).count()
        if stored != events_sent:
            problems.append(f"{stored} events stored, {events_sent} distinct sent")
        if unmatched:
            problems.append(f"{unmatched} events unmatched")
        for esp, statuses in expected.items():
            found = dict(OutboundEmail.objects.filter(esp=esp).values_list("id", "status"))
            wrong = sum(1 for pk, now in found.items() if statuses.get(pk, "processed") != now)
            if wrong:
                problems.append(f"{wrong} {esp} emails at a wrong status")
    return problems


def drain_lag(timeout: float = 300) -> float:
    """Seconds until the worker has applied every received batch (none for the naive server,
    which applies in the request)."""
    from messaging.models import ReceivedBatch

    began = time.perf_counter()
    while ReceivedBatch.objects.filter(failed_at__isnull=True).exists():
        if time.perf_counter() - began > timeout:
            raise RuntimeError("the worker did not drain the received batches")
        time.sleep(0.02)
    return time.perf_counter() - began


# --- load ----------------------------------------------------------------------------------------


def run_wrk(url: str, bodies_file: Path, auth: str, args) -> dict:
    threads = str(args.wrk_threads)
    command = ["wrk", "-t", threads, "-c", str(args.connections), "-d", f"{args.duration}s"]
    command += ["--timeout", "10s", "-s", str(LUA), url, "--", str(bodies_file), auth, threads]
    out = subprocess.run(
        command, capture_output=True, text=True, timeout=args.duration + 120, check=True
    ).stdout
    result = json.loads(next(line for line in out.splitlines() if line.startswith("WRK_JSON "))[9:])
    seconds = result["duration_us"] / 1e6
    return {
        "seconds": seconds,
        "per_s": round(result["responses"] / seconds),
        "p50_ms": round(result["p50_us"] / 1000, 1),
        "p99_ms": round(result["p99_us"] / 1000, 1),
        **{key: result[key] for key in ("responses", "sent", "distinct_sent", "status_5xx")},
        "errors": result["status_4xx"] + result["socket_errors"] + result["timeouts"],
        "sent_by_thread": result["sent_by_thread"],
    }


def post_all(url: str, bodies: list[bytes], auth: str, concurrency: int) -> dict:
    import requests

    local = threading.local()
    headers = {"Content-Type": "application/json", "Authorization": auth}

    def post(body: bytes) -> tuple[float, int]:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        began = time.perf_counter()
        response = local.session.post(url, data=body, headers=headers, timeout=120)
        return time.perf_counter() - began, response.status_code

    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(post, bodies))
    wall = time.perf_counter() - began
    latencies = [seconds * 1000 for seconds, _ in results]
    return {
        "wall_s": round(wall, 2),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "statuses": sorted({status for _, status in results}),
    }


def mailgun_run(base: str, data: dict, args) -> dict:
    reset()
    run = run_wrk(f"{base}/anymail/mailgun/tracking/", data["mailgun_file"], data["auth"], args)
    statuses = data["mailgun_statuses"]
    sent = {
        index
        for thread_id, count in run.pop("sent_by_thread")
        for index in range(thread_id, len(statuses), args.wrk_threads)[:count]
    }
    time.sleep(1)  # requests written before wrk stopped are still being answered
    lag = drain_lag() + 1
    run["drain_lag_s"] = round(lag, 2)
    run["applied_per_s"] = round(len(sent) / (run.pop("seconds") + lag))
    expected = {data["mailgun_emails"][index]: statuses[index] for index in sent}
    return run | {"problems": check(len(sent), {"mailgun": expected})}


def ceiling_run(base: str, data: dict, args) -> dict:
    """The durable ceiling under the same posts; every post it answered must be a committed row,
    counted here from another connection."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE bench_ceiling")
    reset()
    run = run_wrk(f"{base}/ceiling/", data["mailgun_file"], data["auth"], args)
    del run["seconds"], run["sent_by_thread"]
    time.sleep(1)  # requests written before wrk stopped are still being answered
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_ceiling")
        run["stored"] = cursor.fetchone()[0]
    problems = []
    if run["status_5xx"] or run["errors"]:
        problems.append(f"{run['status_5xx']} answered 5xx, {run['errors']} 4xx or socket errors")
    if run["stored"] < run["responses"]:
        problems.append(f"{run['stored']} rows stored, {run['responses']} posts answered")
    return run | {"problems": problems}


def batches_run(base: str, data: dict, args, concurrency: int) -> dict:
    reset()
    run = post_all(f"{base}{SENDGRID_PATH}", data["batches"], data["auth"], concurrency)
    run["drain_lag_s"] = round(drain_lag(), 2)
    events, expected = expected_of(data["batches"])
    run["answered_per_s"] = round(events / run["wall_s"])
    run["events_per_s"] = round(events / (run["wall_s"] + run["drain_lag_s"]))
    return run | {"problems": check(events, {"sendgrid": expected})}


def duplicates_run(base: str, data: dict, args) -> dict:
    """A batch posted twice in a row, and another posted twice at once."""
    url = f"{base}{SENDGRID_PATH}"
    reset()
    posts = [post_all(url, data["batches"][:1], data["auth"], 1) for _ in range(2)]
    posts.append(post_all(url, data["spare"] * 2, data["auth"], 2))
    drain_lag()
    events, expected = expected_of(data["batches"][:1] + data["spare"])
    return {
        "statuses": sorted({status for post in posts for status in post["statuses"]}),
        "problems": check(events, {"sendgrid": expected}),
    }


def bench(env: dict, data: dict, args) -> dict:
    """Both servers stay up, each idle while the other is measured; every measurement runs on
    the naive server and then on ours, so that the two see the same machine."""
    import redis

    settings = {"naive": "bench.naive_settings", "ours": "config.settings"}
    ports = {name: free_port() for name in settings}
    bases = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    servers = []
    results: dict = {"naive": {}, "ours": {}}
    try:
        for name, module in settings.items():
            command = ["config.wsgi", *GUNICORN, "-b", f"127.0.0.1:{ports[name]}"]
            env_server = {**env, "DJANGO_SETTINGS_MODULE": module}
            servers.append(start([PYTHON, "-m", "gunicorn", *command], env_server))
            wait_up(bases[name], servers[-1])
        redis.Redis.from_url(env["CELERY_BROKER_URL"]).flushdb()  # the bench's own database
        worker = [PYTHON, "-m", "celery", "-A", "config", "worker", *WORKER]
        servers.append(start(worker, env, stdout=subprocess.DEVNULL))
        for base in bases.values():
            warm_up(base, data)
        drain_lag()
        naive, posts = bases["naive"], data["mailgun_file"]
        reset()
        results["trivial"] = run_wrk(f"{naive}/trivial/", posts, data["auth"], args)
        url = f"{naive}/prototype/mailgun-enqueue/"
        results["enqueue_only"] = run_wrk(url, posts, data["auth"], args)
        queue = redis.Redis.from_url(env["CELERY_BROKER_URL"])
        time.sleep(1)
        results["enqueue_only"]["queued"] = queue.llen("bench:mailgun-enqueued")
        queue.delete("bench:mailgun-enqueued")
        load = os.getloadavg()[0]
        print(f"mailgun: durable ceiling (load {load:.1f})", file=sys.stderr)
        results["durable_ceiling"] = ceiling_run(naive, data, args) | {"load_before": load}
        steps = [("mailgun", mailgun_run, {})]
        steps += [
            (f"batches_c{concurrency}", batches_run, {"concurrency": concurrency})
            for concurrency in sorted({1, *args.batch_concurrency})
        ]
        steps.append(("duplicates", duplicates_run, {}))
        for step, run, options in steps:
            for name, base in bases.items():
                load = os.getloadavg()[0]  # other work on the machine shows here
                print(f"{step}: {name} (load {load:.1f})", file=sys.stderr)
                results[name][step] = run(base, data, args, **options) | {"load_before": load}
    finally:
        for server in servers:
            stop(server)
    share = results["ours"]["mailgun"]["per_s"] / max(results["durable_ceiling"]["per_s"], 1)
    results["ours"]["mailgun"]["share_of_durable_ceiling"] = round(share, 3)
    return results


def table(results: dict, args) -> str:
    """The results as one table (markdown), a row per server and measurement."""

    def rate(value: float, unit: str) -> str:
        return f"{value:,} {unit}"

    def note(run: dict, *parts: str) -> str:
        problems = run.get("problems", [])
        return "; ".join([*parts, *(["PROBLEMS: " + ", ".join(problems)] if problems else [])])

    mailgun = f"Mailgun single-event posts, {args.connections} connections, {args.duration} s"
    trivial, ceiling = results["trivial"], results["durable_ceiling"]
    enqueue, naive, ours = results["enqueue_only"], results["naive"], results["ours"]
    rows = [
        (mailgun, "trivial view", rate(trivial["per_s"], "req/s"), trivial, ""),
        (
            "",
            "durable ceiling (one committed INSERT)",
            rate(ceiling["per_s"], "req/s"),
            ceiling,
            note(ceiling, f"{ceiling['stored']:,} rows for {ceiling['responses']:,} answers"),
        ),
        (
            "",
            "verify and queue in Redis (prototype)",
            rate(enqueue["per_s"], "req/s"),
            enqueue,
            f"{enqueue['queued']:,} queued",
        ),
    ]
    for name, label in (("naive", "naive receiver"), ("ours", "ours")):
        run = results[name]["mailgun"]
        parts = [f"applied {run['applied_per_s']:,} events/s, drain lag {run['drain_lag_s']} s"]
        if name == "ours":
            parts.insert(0, f"ours = {run['share_of_durable_ceiling']:.0%} of the durable ceiling")
            parts.insert(1, f"{run['per_s'] / max(naive['mailgun']['per_s'], 1):.1f}x naive")
        rows.append(("", label, rate(run["per_s"], "posts/s"), run, note(run, *parts)))
    steps = sorted(step for step in ours if step.startswith("batches_c"))
    for step in steps:
        concurrency = step.removeprefix("batches_c")
        measurement = f"SendGrid {args.batch_size}-event batches, {concurrency} at a time"
        for name, label in (("naive", "naive receiver"), ("ours", "ours")):
            run = results[name][step]
            parts = [f"answered {run['answered_per_s']:,} events/s"]
            if name == "ours":
                ratio = run["events_per_s"] / max(naive[step]["events_per_s"], 1)
                parts.append(f"{ratio:.1f}x naive")
            first = measurement if name == "naive" else ""
            applied = rate(run["events_per_s"], "events/s applied")
            rows.append((first, label, applied, run, note(run, *parts)))
    for name, label in (("naive", "naive receiver"), ("ours", "ours")):
        run = results[name]["duplicates"]
        first = "duplicates (a batch again, a batch twice at once)" if name == "naive" else ""
        stored = "each event stored once" if not run["problems"] else ""
        statuses = f"statuses {run['statuses']}"
        rows.append((first, label, "", {}, note(run, statuses, *([stored] if stored else []))))
    lines = [
        "| measurement | server | rate | p50 | p99 | note |",
        "|---|---|---|---|---|---|",
    ]
    for measurement, label, rate_text, run, text in rows:
        p50 = f"{run['p50_ms']} ms" if "p50_ms" in run else ""
        p99 = f"{run['p99_ms']} ms" if "p99_ms" in run else ""
        lines.append(f"| {measurement} | {label} | {rate_text} | {p50} | {p99} | {text} |")
    return "\n".join(lines)


def warm_up(base: str, data: dict) -> None:
    """A few posts before anything is measured, on both servers alike: a gunicorn worker's first
    post pays once for what later ones find ready (its connection to the broker, say), and with
    40 posts a run, p99 is the slowest one."""
    small = json.dumps(json.loads(data["spare"][0])[:20]).encode()
    post_all(f"{base}{SENDGRID_PATH}", [small] * 16, data["auth"], 4)


def wait_up(base: str, server, timeout: float = 30) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        try:
            for _ in range(20):  # every worker loads the URLconf before the clock starts
                requests.head(f"{base}/anymail/mailgun/tracking/", timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


# --- where one batch's time goes -----------------------------------------------------------------


def profile_batch(body: bytes, auth: str, repeats: int = 5) -> dict:
    """Times the phases of one batch in process: in the request, anymail's parse, the signal
    with our rows, and keeping the batch; in the worker, the drain split into its SQL
    statements (as timed by the driver) and the Python around them."""
    from anymail.signals import tracking
    from django.db import connection
    from django.test import RequestFactory

    from messaging.tracking.drain import inbox_drain
    from messaging.tracking.receive import events_receive
    from messaging.tracking.webhooks import SendGridTracking, _batch

    def statement(sql: str) -> str:
        kind = sql.split(None, 1)[0].upper()
        if kind == "SELECT":
            if "advisory" in sql:
                return "drain lock"
            return "read batches" if "messaging_receivedbatch" in sql else "lock emails"
        if kind == "WITH":
            return "store events (INSERT ... SELECT from the batches)"
        if kind == "UPDATE":
            return "raise statuses (UPDATE)"
        return kind.lower()

    request = RequestFactory().post(
        "/anymail/sendgrid/tracking/", body, content_type="application/json"
    )
    request.META["HTTP_AUTHORIZATION"] = auth
    view = SendGridTracking()
    samples: dict[str, list[float]] = {}
    profiler = cProfile.Profile()
    for attempt in range(repeats):
        reset()
        timings = {}
        began = time.perf_counter()
        events = view.parse_events(request)
        timings["request: anymail parse"] = time.perf_counter() - began
        began = time.perf_counter()
        rows: list = []
        token = _batch.set(rows)
        for event in events:
            tracking.send(sender=SendGridTracking, event=event, esp_name="SendGrid")
        _batch.reset(token)
        timings["request: signal and our rows"] = time.perf_counter() - began
        began = time.perf_counter()
        events_receive(esp="sendgrid", rows=rows)
        timings["request: keep the batch (JSON + INSERT)"] = time.perf_counter() - began

        sql: dict[str, float] = {}

        def timer(execute, sql_text, params, many, context, sql=sql):
            began = time.perf_counter()
            try:
                return execute(sql_text, params, many, context)
            finally:
                key = "worker: sql " + statement(sql_text)
                sql[key] = sql.get(key, 0) + time.perf_counter() - began

        began = time.perf_counter()
        with connection.execute_wrapper(timer):
            if attempt == repeats - 1:
                profiler.enable()
            inbox_drain()
            profiler.disable()
        timings["worker: drain total"] = time.perf_counter() - began
        timings.update(sql)
        timings["worker: python + commit"] = timings["worker: drain total"] - sum(sql.values())
        for key, seconds in timings.items():
            samples.setdefault(key, []).append(seconds * 1000)
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(12)
    print(text.getvalue(), file=sys.stderr)
    return {key: round(statistics.median(values), 1) for key, values in samples.items()}


# --- main ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=30000)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--batch-concurrency", type=int, nargs="+", default=[2, 4])
    args = parser.parse_args()

    env = bench_env(
        DATABASE_URL=scratch_database("clinicmail_bench_webhooks"),
        ALLOWED_HOSTS="127.0.0.1,localhost",
    )
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(CEILING_TABLE)  # the durable ceiling's own table (bench/naive_urls.py)
    rng = random.Random(20240611)
    auth = "Basic " + base64.b64encode(env["ANYMAIL_WEBHOOK_SECRET"].encode()).decode()
    batch_emails = args.batches * (args.batch_size - REPEATS_PER_BATCH) // 4
    spare_emails = (args.batch_size - REPEATS_PER_BATCH) // 4
    data: dict = {"auth": auth, "mailgun_emails": make_emails("mailgun", args.posts)}
    bodies, data["mailgun_statuses"] = mailgun_bodies(
        data["mailgun_emails"], env["MAILGUN_WEBHOOK_SIGNING_KEY"], rng
    )
    data["batches"] = sendgrid_batches(make_emails("sendgrid", batch_emails), args.batch_size, rng)
    data["spare"] = sendgrid_batches(make_emails("sendgrid", spare_emails), args.batch_size, rng)

    with tempfile.TemporaryDirectory(prefix="bench_webhooks_") as scratch:
        data["mailgun_file"] = Path(scratch) / "mailgun.jsonl"
        data["mailgun_file"].write_text("\n".join(bodies) + "\n")
        results = bench(env, data, args)
    results["profile_1000_event_batch_ms"] = profile_batch(data["spare"][0], auth)
    results["setup"] = vars(args) | {"cores": os.cpu_count()}
    print(json.dumps(results, indent=2))
    print(table(results, args), file=sys.stderr)


if __name__ == "__main__":
    main()
