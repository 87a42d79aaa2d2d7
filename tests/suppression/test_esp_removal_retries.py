"""The removal of a reactivated address at the ESP, retried while the ESP fails: each try as a
worker runs it, its retry read off the broker (when, and which try it is), never run at once as
eager Celery would; what the retries leave pending, the sweep hands to a real worker."""

import base64
import json
import uuid

import pytest
import redis
from celery.exceptions import MaxRetriesExceededError, Retry

from config.celery import app
from suppression.models import EspRemoval, Suppression, SuppressionReason
from suppression.services import suppression_reactivate, suppression_record
from suppression.tasks import esp_removal_task, esp_removals_sweep_task
from tests.processes import wait_for

UNREACHABLE = "http://127.0.0.1:9/v3"


def queued(task_name: str) -> list[dict]:
    broker = redis.Redis.from_url(app.conf.broker_url)
    messages = [json.loads(raw) for raw in broker.lrange("celery", 0, -1)]
    return [message for message in messages if message["headers"]["task"] == task_name]


@pytest.fixture
def empty_queue():
    app.control.purge()
    yield
    app.control.purge()


@pytest.fixture
def pending(cast, settings) -> Suppression:
    """Reactivated by support, with the removal at the ESP still to do."""
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_API_URL": UNREACHABLE}
    suppression = suppression_record(
        address="bob@example.test", stream="mailgun", reason=SuppressionReason.HARD_BOUNCE
    )
    # The task its commit queues is purged (empty_queue, start_worker): each test makes the
    # tries itself.
    suppression_reactivate(suppression=suppression, actor=cast.support, reason="Typo fixed")
    suppression.refresh_from_db()
    assert suppression.esp_removal == EspRemoval.PENDING
    return suppression


def try_as_a_worker(suppression: Suppression, *, retries: int):
    """Runs the task body as a worker runs a delivered task that has been retried `retries`
    times; returns what it raised."""
    esp_removal_task.push_request(
        id=str(uuid.uuid4()),
        args=[suppression.pk],
        kwargs={},
        retries=retries,
        is_eager=False,
        called_directly=False,
        delivery_info={"routing_key": "celery", "exchange": ""},
    )
    try:
        esp_removal_task.run(suppression.pk)
    except (Retry, MaxRetriesExceededError) as raised:
        return raised
    finally:
        esp_removal_task.pop_request()
    raise AssertionError("the try succeeded")


# The wait before each retry: 30 s, doubling, at most an hour.
WAITS = [30, 60, 120, 240, 480, 960, 1920, 3600]


@pytest.mark.parametrize(("retries", "wait"), list(enumerate(WAITS)))
def test_a_failed_try_is_retried_after_a_growing_wait(pending, empty_queue, retries, wait):
    raised = try_as_a_worker(pending, retries=retries)
    assert isinstance(raised, Retry)
    assert raised.when == wait
    [retry] = queued("suppression.tasks.esp_removal_task")
    assert retry["headers"]["retries"] == retries + 1
    assert retry["headers"]["eta"]  # it waits on the broker, not in a worker
    assert json.loads(base64.b64decode(retry["body"]))[0] == [pending.pk]
    pending.refresh_from_db()
    assert pending.esp_removal == EspRemoval.PENDING
    assert pending.esp_removal_attempts == 1
    assert "could not reach the ESP" in pending.esp_removal_error


def test_after_the_last_retry_it_is_left_pending_for_the_sweep(pending, empty_queue):
    raised = try_as_a_worker(pending, retries=len(WAITS))
    assert isinstance(raised, MaxRetriesExceededError)
    assert queued("suppression.tasks.esp_removal_task") == []
    pending.refresh_from_db()
    assert pending.esp_removal == EspRemoval.PENDING

    assert esp_removals_sweep_task() == 1
    [fresh] = queued("suppression.tasks.esp_removal_task")
    assert fresh["headers"]["retries"] == 0  # a fresh series of tries
    assert not fresh["headers"]["eta"]


def test_the_sweep_leaves_done_and_unneeded_removals_alone(pending, empty_queue):
    Suppression.objects.filter(pk=pending.pk).update(esp_removal=EspRemoval.DONE)
    suppression_record(
        address="dana@example.test", stream="mailgun", reason=SuppressionReason.HARD_BOUNCE
    )  # still suppressed: nothing to remove
    assert esp_removals_sweep_task() == 0
    assert queued("suppression.tasks.esp_removal_task") == []


@pytest.mark.integration
def test_a_pending_removal_is_completed_by_the_sweep_and_a_real_worker(
    pending, esp_simulator, start_worker, settings
):
    domain = settings.ANYMAIL["MAILGUN_SENDER_DOMAIN"]
    esp_simulator.suppressions.add("bounces", domain, {"address": "bob@example.test"})
    start_worker()  # reaches the simulator
    assert esp_removals_sweep_task() == 1
    wait_for(
        lambda: Suppression.objects.get(pk=pending.pk).esp_removal == EspRemoval.DONE, timeout=30
    )
    assert not esp_simulator.suppressions.get("bounces", domain, "bob@example.test")
    assert (
        Suppression.objects.get(pk=pending.pk).history.filter(action="removed at the ESP").exists()
    )
