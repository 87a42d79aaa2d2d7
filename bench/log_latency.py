"""Server time of the client summary and of GET /api/clients/<id>/emails at platform size, the
queries per page, EXPLAIN of the log query, and the cost of deleting one day of expired log.

    .venv/bin/python bench/log_latency.py --clinics 200 --emails 2000000
    .venv/bin/python bench/log_latency.py --reuse          # skip seeding a filled database

Requests go through Django's full stack in-process (middleware, scopes, views, templates, DRF),
so the figures are server time without the network.
"""

import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench._harness import bench_env, scratch_database, scratch_url

DB_NAME = "clinicmail_bench_scale"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def prepare(args) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    if not args.reuse:
        call_command("migrate", verbosity=0)
        began = time.perf_counter()
        call_command("seed_scale", clinics=args.clinics, emails=args.emails)
        print(f"seed_scale: {time.perf_counter() - began:.0f} s", file=sys.stderr)


def pick_clients(count: int) -> dict[str, list]:
    from django.db.models import Count
    from django_scopes import scopes_disabled

    from clinic.models import Client

    with scopes_disabled():
        ranked = Client.objects.annotate(n=Count("emails")).filter(n__gt=0)
        heavy = list(ranked.order_by("-n")[:count])
        light = list(ranked.filter(n__lte=3).order_by("id")[:count])
    return {"heavy": heavy, "light": light}


def staff_for(client):
    from django_scopes import scopes_disabled

    from clinic.models import Membership, User

    with scopes_disabled():
        membership = Membership.objects.filter(clinic_id=client.clinic_id).first()
        if membership is None:
            user = User.objects.create_user(f"bench{client.clinic_id}@bench.test", "x")
            membership = Membership.objects.create(
                user=user, clinic_id=client.clinic_id, role="practitioner"
            )
    return membership.user


def measure(clients: list, requests_each: int) -> dict:
    from django.db import connection
    from django.test import Client as HttpClient
    from django.test.utils import CaptureQueriesContext
    from knox.models import AuthToken

    timings: dict[str, list[float]] = {"summary": [], "api": []}
    queries: dict[str, set[int]] = {"summary": set(), "api": set()}
    sizes: list[int] = []
    for client in clients:
        user = staff_for(client)
        browser = HttpClient()
        browser.force_login(user)
        _, token = AuthToken.objects.create(user=user)
        api = HttpClient(HTTP_AUTHORIZATION=f"Token {token}")
        for _ in range(requests_each):
            for name, http, url in (
                ("summary", browser, f"/clients/{client.pk}/"),
                ("api", api, f"/api/clients/{client.pk}/emails"),
            ):
                with CaptureQueriesContext(connection) as captured:
                    began = time.perf_counter()
                    response = http.get(url)
                    timings[name].append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200, (url, response.status_code)
                queries[name].add(len(captured))
        sizes.append(len(api.get(f"/api/clients/{client.pk}/emails").json()["emails"]))
    return {
        name: {
            "p50_ms": round(statistics.median(values), 1),
            "p95_ms": round(percentile(values, 0.95), 1),
            "queries_per_request": sorted(queries[name]),
        }
        for name, values in timings.items()
    } | {"emails_per_client_in_log": [min(sizes), max(sizes)]}


def explain(client) -> str:
    from django.conf import settings
    from django_scopes import scopes_disabled

    from messaging.log.selectors import client_email_log

    with scopes_disabled():
        log = client_email_log(client=client, days=settings.EMAIL_LOG_RETENTION_DAYS)
        return log[:20].explain(analyze=True, buffers=True)


def retention_one_day(days_ago: int) -> dict:
    from datetime import timedelta

    from django.utils import timezone
    from django_scopes import scopes_disabled

    from messaging.log import retention
    from messaging.models import EmailEvent, OutboundEmail

    cutoff = timezone.now() - timedelta(days=days_ago)
    with scopes_disabled():
        expired_emails = OutboundEmail.objects.filter(created_at__lt=cutoff).count()
        expired_events = EmailEvent.objects.filter(received_at__lt=cutoff).count()
    batches: list[float] = []
    original = retention._delete_batch

    def timed(queryset, size):
        began = time.perf_counter()
        deleted = original(queryset, size)
        batches.append((time.perf_counter() - began) * 1000)
        return deleted

    retention._delete_batch = timed
    began = time.perf_counter()
    deleted = retention.log_purge(before=cutoff)
    total = time.perf_counter() - began
    retention._delete_batch = original
    return {
        "expired_emails": expired_emails,
        "expired_events": expired_events,
        "rows_deleted": deleted,
        "seconds": round(total, 1),
        "batches": len(batches),
        "batch_ms_mean": round(statistics.mean(batches), 1),
        "batch_ms_p95": round(percentile(batches, 0.95), 1),
        "batch_ms_max": round(max(batches), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clinics", type=int, default=200)
    parser.add_argument("--emails", type=int, default=2_000_000)
    parser.add_argument("--clients", type=int, default=5, help="clients per category")
    parser.add_argument("--requests", type=int, default=40, help="requests per client and URL")
    parser.add_argument("--reuse", action="store_true", help="the database is already seeded")
    parser.add_argument("--skip-retention", action="store_true")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument(
        "--expire-before-days",
        type=int,
        default=29,
        help="retention deletes what is older than this (29: the oldest day of a fresh seed)",
    )
    args = parser.parse_args()

    url = scratch_url(DB_NAME) if args.reuse else scratch_database(DB_NAME)
    # Every request comes from one address and one token per client: the API's throttles would
    # answer 429 to a benchmark of latency.
    os.environ.update(
        bench_env(
            DATABASE_URL=url,
            ALLOWED_HOSTS="testserver",
            API_RATE_PER_IP="1000000/min",
            API_RATE_PER_TOKEN="1000000/min",  # noqa: S106  (a rate, not a secret)
        )
    )
    prepare(args)
    results, plan = {}, ""
    if not args.skip_latency:
        picked = pick_clients(args.clients)
        results = {
            category: measure(clients, args.requests) for category, clients in picked.items()
        }
        plan = explain(picked["heavy"][0])
    if not args.skip_retention:
        results["retention_one_day"] = retention_one_day(args.expire_before_days)
    print(json.dumps(results, indent=2))
    print(plan)


if __name__ == "__main__":
    main()
