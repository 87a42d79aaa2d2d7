"""Kill things while mail flows; every email must end in a final state, sent exactly once,
with no event lost. Real Redis, PostgreSQL, Celery workers and the ESP simulator."""

import os
import time
from pathlib import Path

import pytest
from django.db import connection, transaction
from django_scopes import scope, scopes_disabled

from messaging.models import EmailEvent, OutboundEmail, ReceivedBatch
from messaging.sending.tasks import outbox_sweep_task
from messaging.sending.triggers import direct_message_send
from messaging.tracking.tasks import inbox_drain_task
from scripts.private_postgres import server_start, server_stop
from tests.factories import ClientFactory
from tests.faults.conftest import kill_process_group
from tests.processes import wait_for

pytestmark = [pytest.mark.fault, pytest.mark.integration]

FINAL = {"delivered", "opened", "clicked", "failed", "spam_report"}


def make_clients(cast, count: int) -> list:
    prefixes = ["", "open.", "click.", "bounce."]
    with scopes_disabled():
        return [
            ClientFactory(clinic=cast.alice_clinic, email=f"{prefixes[n % 4]}c{n}@example.test")
            for n in range(count)
        ]


def send_one(cast, client) -> OutboundEmail:
    with transaction.atomic(), scope(clinic=cast.alice_clinic):
        return direct_message_send(client=client, subject="Plan", body="x", sent_by=cast.alice)


def all_final(emails) -> bool:
    with scopes_disabled():
        statuses = OutboundEmail.objects.filter(pk__in=[e.pk for e in emails]).values_list(
            "status", flat=True
        )
        return set(statuses) <= FINAL


def fault(simulator, spec) -> None:
    import requests

    requests.post(f"{simulator.url}/sim/faults", json=spec, timeout=5).raise_for_status()


def sweep_until_final(emails, timeout: float = 90) -> None:
    def done() -> bool:
        outbox_sweep_task()
        return all_final(emails)

    wait_for(done, timeout=timeout, interval=1.0)


def drained_as_beat_would() -> None:
    """Queues the beat schedule's drain until no received batch waits (one that arrived just
    before PostgreSQL stopped may have had its own drain fail)."""

    def drained() -> bool:
        if not ReceivedBatch.objects.exists():
            return True
        inbox_drain_task.delay()
        return False

    wait_for(drained, timeout=60, interval=1.0)


def assert_exactly_once_and_nothing_lost(emails, simulator) -> None:
    assert simulator.wait_idle(timeout=60)
    drained_as_beat_would()
    for email in emails:
        sent = simulator.messages(email_id=str(email.id))
        assert len(sent) == 1, f"{email.to_email} reached the ESP {len(sent)} times"
    posted = [e for e in simulator.events() if e["state"] == "delivered"]
    given_up = [e for e in simulator.events() if e["state"] in ("gave_up", "refused")]
    assert given_up == []
    with scopes_disabled():
        stored = EmailEvent.objects.filter(email__in=[e.pk for e in emails]).count()
    assert stored == len(posted)


def rows(emails) -> list[OutboundEmail]:
    with scopes_disabled():
        return list(OutboundEmail.objects.filter(pk__in=[e.pk for e in emails]))


def handed_over(emails) -> bool:
    return all(row.status != "sending" for row in rows(emails))


def test_redis_stopped_while_emails_are_created(
    cast, esp_simulator, private_redis, start_worker, fast_retries, caplog
):
    worker = start_worker(CELERY_BROKER_URL=private_redis.url, **fast_retries)
    clients = make_clients(cast, 24)
    before = [send_one(cast, client) for client in clients[:8]]
    wait_for(lambda: handed_over(before), timeout=60)
    private_redis.stop()
    caplog.clear()
    during = [send_one(cast, client) for client in clients[8:16]]  # broker down at commit
    # The fault happened: each commit's hand-over to the broker was refused.
    refused = [r for r in caplog.records if "left for the outbox sweeper" in r.getMessage()]
    assert len(refused) == len(during)
    private_redis.start()
    if worker.process.poll() is not None:
        # kombu can exit on losing Redis while it puts unacknowledged tasks back ("Unrecoverable
        # error: 'NoneType' object has no attribute 'hostname'"); a supervisor starts another.
        start_worker(CELERY_BROKER_URL=private_redis.url, **fast_retries)
    after = [send_one(cast, client) for client in clients[16:]]
    wait_for(lambda: handed_over(after), timeout=60)  # the worker is back on the broker
    # ... and no task carries the emails of the outage: untouched, they wait for the sweep.
    assert {(row.status, row.attempts) for row in rows(during)} == {("sending", 0)}
    assert all(esp_simulator.messages(email_id=str(e.id)) == [] for e in during)

    emails = before + during + after
    sweep_until_final(emails)
    assert_exactly_once_and_nothing_lost(emails, esp_simulator)


IN_FLIGHT = 4.0  # seconds the simulator holds one send request before it accepts it


def test_a_worker_killed_mid_batch_then_a_new_worker(
    cast, esp_simulator, private_redis, start_worker, fast_retries
):
    worker = start_worker(CELERY_BROKER_URL=private_redis.url, **fast_retries)
    clients = make_clients(cast, 40)
    emails = [send_one(cast, client) for client in clients]

    def some_sent() -> bool:
        with scopes_disabled():
            return OutboundEmail.objects.exclude(status="sending").count() >= 5

    wait_for(some_sent, timeout=30, interval=0.02)
    # The next send request is held by the ESP: the worker is killed while it waits for it.
    fault(esp_simulator, {"timeout": IN_FLIGHT, "count": 1})
    wait_for(lambda: esp_simulator.faults.pending() == [], timeout=30, interval=0.01)
    killed_at = time.time()
    kill_process_group(worker.process)
    # Claimed by the dead worker (its attempt counted, its lease running), never recorded.
    claimed = {
        str(row.id)
        for row in rows(emails)
        if row.status == "sending" and row.attempts >= 1 and row.claimed_until
    }

    # The fault happened: the ESP accepted the held request after the worker died, so its
    # answer never arrived, and the email it was for is still `sending` with no message id.
    in_flight = wait_for(
        lambda: [
            m for m in esp_simulator.messages() if m["accepted_at"] >= killed_at + IN_FLIGHT / 2
        ],
        timeout=30,
    )
    [held] = in_flight
    held_id = held["user_variables"]["email_id"]
    assert held_id in claimed
    [row] = rows([e for e in emails if str(e.id) == held_id])
    assert (row.status, row.esp_message_id) == ("sending", "")
    unsent = [r for r in rows(emails) if not esp_simulator.messages(email_id=str(r.id))]
    assert unsent, "the batch had finished before the kill: nothing was interrupted"

    start_worker(CELERY_BROKER_URL=private_redis.url, **fast_retries)
    sweep_until_final(emails)
    assert_exactly_once_and_nothing_lost(emails, esp_simulator)
    # Its acceptance was heard by webhook; it was not sent again (its answer never came).
    [row] = rows([e for e in emails if str(e.id) == held_id])
    assert row.esp_message_id == ""


def test_the_esp_failing_and_timing_out_for_a_while(
    cast, esp_simulator, private_redis, start_worker, fast_retries, settings
):
    # Six answers of 500, then two requests held 3 s, longer than the worker waits (1 s): the
    # ESP accepts those two after the worker has stopped waiting.
    fault(esp_simulator, [{"status": 500, "count": 6}, {"timeout": 3, "count": 2}])
    start_worker(CELERY_BROKER_URL=private_redis.url, EMAIL_TIMEOUT="1", **fast_retries)
    emails = [send_one(cast, client) for client in make_clients(cast, 12)]
    sweep_until_final(emails)
    assert_exactly_once_and_nothing_lost(emails, esp_simulator)

    assert esp_simulator.faults.pending() == []  # every fault was met
    with scopes_disabled():
        assert max(OutboundEmail.objects.values_list("attempts", flat=True)) > 1
    # The timeouts happened: two emails reached the ESP whose answer the worker never had, and
    # they were not sent again after it.
    never_answered = [
        row for row in rows(emails) if row.esp_message_id == "" and row.status != "sending"
    ]
    assert len(never_answered) == 2
    for row in never_answered:
        assert len(esp_simulator.messages(email_id=str(row.id))) == 1
        assert row.attempts >= 1


# The private server `make test` started for this run (scripts/private_postgres.py): this test
# stops and starts it. A server given by DATABASE_URL is somebody else's, and is left alone.
PRIVATE_DATA = os.environ.get("PRIVATE_POSTGRES_DATA")


def refused_webhooks(simulator) -> list:
    return [
        attempt
        for event in simulator.events()
        for attempt in event["attempts"]
        if "error" in attempt or attempt.get("status", 200) >= 500
    ]


@pytest.mark.skipif(
    PRIVATE_DATA is None, reason="needs the test run's own PostgreSQL server (DATABASE_URL unset)"
)
def test_postgresql_restarted_while_webhooks_arrive(
    cast, esp_simulator, private_redis, start_worker, fast_retries
):
    esp_simulator.configure(delay_scale=2.0)  # the webhooks come over several seconds
    start_worker(CELERY_BROKER_URL=private_redis.url, **fast_retries)
    emails = [send_one(cast, client) for client in make_clients(cast, 16)]

    def all_handed_over() -> bool:
        with scopes_disabled():
            return not OutboundEmail.objects.filter(status="sending").exists()

    wait_for(all_handed_over, timeout=60, interval=0.1)
    data = Path(PRIVATE_DATA)
    server_stop(data)  # while the delivered/opened/clicked webhooks are still coming
    try:
        wait_for(lambda: refused_webhooks(esp_simulator), timeout=60, interval=0.2)
    finally:
        server_start(data)
    connection.close()
    esp_simulator.configure(delay_scale=0.02)
    sweep_until_final(emails)
    assert_exactly_once_and_nothing_lost(emails, esp_simulator)
