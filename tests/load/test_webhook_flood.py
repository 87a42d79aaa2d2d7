"""A flood of concurrent Mailgun posts and SendGrid batches, with duplicates and in shuffled
order, against the app served by gunicorn on loopback and applied by a real Celery worker of two
processes: every final status must be exact."""

import json
import os
import random
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django_scopes import scopes_disabled

from config.celery import app
from messaging.models import EmailEvent, OutboundEmail, ReceivedBatch
from messaging.status import STATUS_RANK, highest_status
from tests.processes import ROOT, Worker, database_url, wait_for
from tests.sending.test_own_smtp import free_port
from tests.tracking.helpers import SECRET, mailgun_event, mailgun_signed, tracked_email

pytestmark = [pytest.mark.integration]

MAILGUN_KINDS = {
    "accepted": ("processed", {}),
    "delivered": ("delivered", {}),
    "opened": ("opened", {}),
    "clicked": ("clicked", {"url": "https://clinic.test/x"}),
    "failed": ("deferred", {"severity": "temporary", "reason": "generic"}),
}
SENDGRID_KINDS = {
    "processed": "processed",
    "deferred": "deferred",
    "delivered": "delivered",
    "open": "opened",
    "click": "clicked",
}
SIGNING_KEY = "flood-signing-key"


@pytest.fixture
def gunicorn(transactional_db):
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY,
        "ANYMAIL_WEBHOOK_SECRET": SECRET,
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "-w",
            "3",
            "-b",
            f"127.0.0.1:{port}",
            "--timeout",
            "60",
        ],
        cwd=ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return requests.get(url + "/accounts/login/", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    wait_for(up, timeout=30)
    app.control.purge()
    worker = Worker(env, concurrency=2).start()
    yield url
    worker.stop()
    process.terminate()
    process.wait(timeout=20)


def applied(expected: dict) -> dict:
    """Each email's final status, once the worker has drained every received batch."""

    def drained() -> dict | None:
        with scopes_disabled():
            if ReceivedBatch.objects.filter(failed_at__isnull=True).exists():
                return None
            found = OutboundEmail.objects.filter(pk__in=expected).values_list("id", "status")
            return dict(found)

    final = wait_for(drained, timeout=60, interval=0.5)
    assert not ReceivedBatch.objects.exists(), "a batch was set aside"
    return final


def mailgun_posts(emails, rng) -> tuple[list[bytes], dict]:
    posts, expected = [], {}
    for email in emails:
        kinds = rng.sample(sorted(MAILGUN_KINDS), rng.randint(1, len(MAILGUN_KINDS)))
        expected[email.id] = highest_status([MAILGUN_KINDS[k][0] for k in kinds])
        for kind in kinds:
            _, extra = MAILGUN_KINDS[kind]
            data = mailgun_event(kind, email_id=email.id, recipient=email.to_email, **extra)
            body = json.dumps(mailgun_signed(data, SIGNING_KEY)).encode()
            posts += [body] * rng.randint(1, 2)  # some delivered twice
    rng.shuffle(posts)
    return posts, expected


def sendgrid_event(email, kind: str) -> dict:
    return {
        "email": email.to_email,
        "timestamp": int(time.time()),
        "event": kind,
        "sg_event_id": uuid.uuid4().hex,
        "sg_message_id": f"sg-{email.id}",
        "email_id": str(email.id),
        "clinic_id": "1",
    }


def in_flight(cast, esp: str, count: int) -> list:
    """Emails just handed to the ESP, whose events may come before their ESP id is stored."""
    with scopes_disabled():
        return [
            tracked_email(
                cast.alice_clinic, cast.bob, esp=esp, email_id=uuid.uuid4(), status="sending"
            )
            for _ in range(count)
        ]


def post(base: str, esp: str, body: bytes) -> int:
    return requests.post(
        f"{base}/anymail/{esp}/tracking/",
        data=body,
        auth=tuple(SECRET.split(":")),
        headers={"Content-Type": "application/json"},
        timeout=60,
    ).status_code


def sendgrid_batches(emails, rng, size: int = 150) -> tuple[list[bytes], dict]:
    events, expected = [], {}
    for email in emails:
        kinds = rng.sample(sorted(SENDGRID_KINDS), rng.randint(1, len(SENDGRID_KINDS)))
        expected[email.id] = highest_status([SENDGRID_KINDS[k] for k in kinds])
        for kind in kinds:
            events += [sendgrid_event(email, kind)] * rng.randint(1, 2)
    rng.shuffle(events)
    batches = [events[i : i + size] for i in range(0, len(events), size)]
    bodies = [json.dumps(batch).encode() for batch in batches]
    return bodies + bodies[:2], expected  # two whole batches delivered again


def test_a_concurrent_shuffled_duplicated_flood_ends_exact(cast, gunicorn):
    rng = random.Random(20261122)
    mailgun = in_flight(cast, "mailgun", 120)
    sendgrid = in_flight(cast, "sendgrid", 200)
    mg_posts, mg_expected = mailgun_posts(mailgun, rng)
    sg_posts, sg_expected = sendgrid_batches(sendgrid, rng)
    jobs = [("mailgun", body) for body in mg_posts] + [("sendgrid", body) for body in sg_posts]
    rng.shuffle(jobs)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=16) as pool:
        codes = list(pool.map(lambda job: post(gunicorn, *job), jobs))
    assert time.monotonic() - started < 120
    assert set(codes) == {200}

    expected = {**mg_expected, **sg_expected}
    final = applied(expected)
    with scopes_disabled():
        stored = EmailEvent.objects.count()
    assert final == expected
    distinct_mailgun = len({json.loads(b)["event-data"]["id"] for b in mg_posts})
    distinct_sendgrid = len({e["sg_event_id"] for b in sg_posts for e in json.loads(b)})
    assert stored == distinct_mailgun + distinct_sendgrid
    assert all(STATUS_RANK[s] >= 10 for s in final.values())


def test_concurrent_big_batches_over_the_same_emails_never_fail(cast, gunicorn):
    """Each email's events spread over every batch, as SendGrid spreads them: the batches
    must queue for each other's row locks, never deadlock into a 500."""
    rng = random.Random(7)
    emails = in_flight(cast, "sendgrid", 250)
    events, expected = [], {}
    for email in emails:
        kinds = sorted(SENDGRID_KINDS)
        expected[email.id] = highest_status([SENDGRID_KINDS[k] for k in kinds])
        events += [sendgrid_event(email, kind) for kind in kinds]
    rng.shuffle(events)
    bodies = [json.dumps(events[i::8]).encode() for i in range(8)]  # 8 batches of 500 events

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(lambda body: post(gunicorn, "sendgrid", body), bodies)) == {200}
    final = applied(expected)
    with scopes_disabled():
        assert EmailEvent.objects.count() == len(events)
    assert final == expected
