"""A webhook post is kept as one received batch before the ESP is answered; a worker applies the
waiting batches. Nothing the ESP was told is received can be lost: not with the broker down, not
when a batch cannot be applied."""

import json
import time
import uuid
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime

import psycopg
import pytest
import redis
from django.db import connection
from django_scopes import scopes_disabled

from config.celery import app
from messaging.models import EmailEvent, OutboundEmail, ReceivedBatch
from messaging.tracking import drain
from messaging.tracking.drain import DRAIN_LOCK, Drained, inbox_drain
from messaging.tracking.receive import DrainRequests, events_receive
from messaging.tracking.rows import EventRow, rows_dump
from messaging.tracking.tasks import inbox_drain_task
from tests.otp import support_login
from tests.processes import celery_broker, wait_for
from tests.tracking.helpers import basic_auth, load, post_json, tracked_email

DRAIN_TASK = "messaging.tasks.inbox_drain_task"


def post_delivered(client):
    """The ESP's post alone, with no worker's share done here."""
    return client.post(
        "/anymail/postmark/tracking/",
        data=json.dumps(load("postmark", "delivery")),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic_auth(),
    )


def status_of(email) -> str:
    with scopes_disabled():
        return OutboundEmail.objects.get(pk=email.pk).status


def queued_drains() -> list[dict]:
    broker = redis.Redis.from_url(app.conf.broker_url)
    messages = [json.loads(raw) for raw in broker.lrange("celery", 0, -1)]
    return [message for message in messages if message["headers"]["task"] == DRAIN_TASK]


@pytest.fixture
def bob_email(cast):
    return tracked_email(cast.alice_clinic, cast.bob, esp="postmark", sent_by=cast.alice)


def test_a_post_is_kept_as_one_batch_until_a_worker_applies_it(client, bob_email):
    response = post_delivered(client)
    assert response.status_code == 200
    assert response.content == b"OK (1 received)"
    batch = ReceivedBatch.objects.get()
    assert (batch.esp, batch.event_count, batch.failed_at) == ("postmark", 1, None)
    assert status_of(bob_email) == "processed"
    with scopes_disabled():
        assert not EmailEvent.objects.exists()

    assert inbox_drain().events == 1
    assert status_of(bob_email) == "delivered"
    assert not ReceivedBatch.objects.exists()


def test_a_burst_of_posts_queues_one_drain_that_waits_for_more(client, bob_email):
    app.control.purge()
    try:
        for _ in range(3):
            assert post_delivered(client).status_code == 200
        [drain] = queued_drains()
        assert drain["headers"]["eta"]  # it waits, so that it finds the whole burst
        assert ReceivedBatch.objects.count() == 3

        assert inbox_drain_task.apply().get() == 3  # the queued drain, run here
        assert status_of(bob_email) == "delivered"
        with scopes_disabled():
            assert EmailEvent.objects.count() == 1  # the same event three times

        time.sleep(DrainRequests.DELAY)
        post_delivered(client)
        assert len(queued_drains()) == 2  # once the drain may have started, another is asked
    finally:
        app.control.purge()


@pytest.mark.integration
def test_a_post_asks_a_worker_to_apply_it(client, bob_email, start_worker):
    """A real worker, in real time: the drain the post asks for waits its half second, then
    applies the post."""
    start_worker()
    posted = time.monotonic()
    post_delivered(client)
    assert status_of(bob_email) == "processed"  # not applied while the ESP waits for its answer
    wait_for(lambda: status_of(bob_email) == "delivered", timeout=30, interval=0.05)
    assert time.monotonic() - posted >= DrainRequests.DELAY
    assert not ReceivedBatch.objects.exists()


def test_with_the_broker_down_the_post_is_kept_for_the_beat_drain(client, bob_email, caplog):
    with celery_broker("redis://127.0.0.1:1/0"):
        response = post_delivered(client)
    assert response.status_code == 200
    assert "beat will drain" in caplog.text
    assert ReceivedBatch.objects.count() == 1
    assert status_of(bob_email) == "processed"

    inbox_drain_task.apply()  # the beat schedule's drain
    assert status_of(bob_email) == "delivered"
    assert not ReceivedBatch.objects.exists()

    app.control.purge()
    post_delivered(client)  # the broker is back: the next post asks at once
    assert len(queued_drains()) == 1
    app.control.purge()


@contextmanager
def drain_running_elsewhere():
    """Another worker's drain, as this database sees it: its lock, held from a connection of
    its own."""
    settings = connection.settings_dict
    with psycopg.connect(
        dbname=settings["NAME"],
        host=settings["HOST"] or settings["OPTIONS"].get("host"),
        port=settings["PORT"],
        user=settings["USER"],
        autocommit=True,
    ) as other:
        assert other.execute("SELECT pg_try_advisory_lock(%s)", [DRAIN_LOCK]).fetchone()[0]
        yield
        # Let go before closing: the server ends a closed connection's session a moment later.
        other.execute("SELECT pg_advisory_unlock(%s)", [DRAIN_LOCK])


def test_a_drain_leaves_the_batches_to_the_one_running(client, bob_email):
    post_delivered(client)
    with drain_running_elsewhere():
        assert inbox_drain().events == 0  # at once: no second drain on the same emails
        assert ReceivedBatch.objects.count() == 1
    assert inbox_drain().events == 1
    assert status_of(bob_email) == "delivered"


def test_a_batch_kept_while_the_drain_lets_go_is_applied_by_it(client, bob_email, monkeypatch):
    """Its own drain was turned away by the lock: the running drain looks again after letting
    go, rather than leave the batch to the beat."""
    post_delivered(client)
    let_go = drain._drain_unlock
    late = []

    def a_post_arrives_first():
        if not late:
            late.append(events_receive(esp="postmark", rows=[_spam_row()]))
        let_go()

    monkeypatch.setattr(drain, "_drain_unlock", a_post_arrives_first)
    assert inbox_drain().events == 2
    assert status_of(bob_email) == "spam_report"
    assert not ReceivedBatch.objects.exists()


def test_a_drain_past_its_budget_hands_over_to_a_fresh_one(client, bob_email, settings):
    app.control.purge()
    try:
        post_delivered(client)
        post_delivered(client)
        app.control.purge()
        # One group, then its time is up.
        assert inbox_drain(max_events=1, budget=0) == Drained(1, out_of_time=True)
        assert ReceivedBatch.objects.count() == 1
        assert not queued_drains()  # its task asks for the fresh one

        settings.CELERY_TASK_SOFT_TIME_LIMIT = 0  # the task's budget: none
        post_delivered(client)
        app.control.purge()
        assert inbox_drain_task.apply().get() == 2
        assert len(queued_drains()) == 1
    finally:
        app.control.purge()


def test_the_beat_schedule_drains_regularly():
    schedule = app.conf.beat_schedule
    assert schedule["events-drain"]["task"] == DRAIN_TASK
    assert schedule["events-drain"]["schedule"] <= 60


def test_a_batch_that_cannot_be_applied_is_set_aside_and_the_others_applied(cast, bob_email):
    events_receive(esp="postmark", rows=[])  # an empty batch is applied too
    ReceivedBatch.objects.create(esp="postmark", event_count=1, payload="not json")
    row = _delivered_row()
    too_long = replace(row, event_type="x" * 50, dedup_key="other")  # longer than its column
    events_receive(esp="postmark", rows=[too_long])
    events_receive(esp="postmark", rows=[row])

    inbox_drain()

    assert status_of(bob_email) == "delivered"
    left = list(ReceivedBatch.objects.order_by("id"))
    assert left[0].payload == "not json"
    assert len(left) == 2
    assert all(batch.failed_at and batch.error for batch in left)
    assert "too long" in left[1].error
    assert inbox_drain().events == 0  # set aside: not tried again and again


def test_support_applies_a_set_aside_batch_again(client, cast, bob_email):
    batch_id = events_receive(esp="postmark", rows=[_delivered_row()])
    ReceivedBatch.objects.filter(pk=batch_id).update(failed_at="2026-11-22T10:00Z", error="x")
    support_login(client, cast.support)
    page = client.get("/admin/messaging/receivedbatch/?failed_at__isempty=0")
    assert page.status_code == 200
    assert b'<td class="field-error">x</td>' in page.content
    response = client.post(
        "/admin/messaging/receivedbatch/",
        {"action": "apply_again", "_selected_action": [batch_id]},
        follow=True,
    )
    assert b"1 batch(es) queued to be applied again." in response.content
    inbox_drain()
    assert status_of(bob_email) == "delivered"
    assert not ReceivedBatch.objects.exists()


def _postmark_row(fixture: str):
    """The row our receiver makes of one of Postmark's documented posts."""
    from anymail.webhooks.postmark import PostmarkTrackingWebhookView
    from django.test import RequestFactory

    from messaging.tracking.rows import event_row

    request = RequestFactory().post(
        "/", json.dumps(load("postmark", fixture)), content_type="application/json"
    )
    [event] = PostmarkTrackingWebhookView().parse_events(request)
    return event_row("Postmark", event)


def _delivered_row():
    return _postmark_row("delivery")


def _spam_row():
    return _postmark_row("spam_complaint")


def test_rows_come_back_from_their_batch_as_they_went_in():
    row = _delivered_row()
    [fields] = json.loads(rows_dump([row]))
    fields["occurred_at"] = datetime.fromisoformat(fields["occurred_at"])
    fields["email_id_hint"] = uuid.UUID(fields["email_id_hint"])
    assert EventRow(**fields) == row


def test_a_raw_event_orjson_cannot_write_is_kept_all_the_same(cast, bob_email):
    raw = {"Tag": 2**70, "Details": "Zustellung bestätigt ✓"}  # beyond 64 bits; not ASCII
    events_receive(esp="postmark", rows=[replace(_delivered_row(), raw=raw)])

    assert inbox_drain().events == 1
    assert status_of(bob_email) == "delivered"
    with scopes_disabled():
        assert EmailEvent.objects.get().raw == raw


def test_a_batch_that_cannot_be_read_stays_set_aside_when_the_rest_applies(cast, bob_email):
    ReceivedBatch.objects.create(esp="postmark", event_count=1, payload="not json")
    events_receive(esp="postmark", rows=[_delivered_row()])

    assert inbox_drain().events == 2  # both taken; one of them set aside
    assert status_of(bob_email) == "delivered"
    left = ReceivedBatch.objects.get()
    assert (left.payload, left.failed_at is not None) == ("not json", True)


def test_an_event_from_one_of_anymails_own_views_is_kept_the_same_way(cast, bob_email):
    from anymail.signals import tracking
    from anymail.webhooks.postmark import PostmarkTrackingWebhookView
    from django.test import RequestFactory

    request = RequestFactory().post(
        "/", json.dumps(load("postmark", "delivery")), content_type="application/json"
    )
    [event] = PostmarkTrackingWebhookView().parse_events(request)
    tracking.send(sender=PostmarkTrackingWebhookView, event=event, esp_name="Postmark")

    assert ReceivedBatch.objects.get().event_count == 1
    assert status_of(bob_email) == "processed"
    inbox_drain()
    assert status_of(bob_email) == "delivered"


def test_a_nul_character_in_a_post_is_dropped_and_the_post_kept(client, cast, bob_email):
    """PostgreSQL keeps no NUL character; a post that carries one must still be answered 200
    and applied, not refused again and again."""
    body = load("postmark", "bounce_hard")
    body["Details"] = "smtp;550 5.1.1 no such\u0000 user"
    body["Content"] = "Return-Path: <>\u0000\r\n"
    body["Metadata"]["note\u0000"] = ["\u0000"]
    response = post_json(client, "/anymail/postmark/tracking/", body)

    assert response.status_code == 200
    assert status_of(bob_email) == "failed"
    with scopes_disabled():
        event = EmailEvent.objects.get()
        assert OutboundEmail.objects.get(pk=bob_email.pk).reason == "smtp;550 5.1.1 no such user"
    assert event.raw["Content"] == "Return-Path: <>\r\n"
    assert event.raw["Metadata"]["note"] == [""]


def test_a_lone_surrogate_in_a_post_is_replaced_and_the_post_kept(client, cast, bob_email):
    """An ESP that cut a character in two: orjson cannot write it, PostgreSQL cannot keep it."""
    body = load("postmark", "bounce_hard")
    body["Details"] = "smtp;550 5.1.1 no such user \ud83d"
    text = json.dumps(body)
    assert "\\ud83d" in text  # the escape, as the ESP sent it
    response = post_json(client, "/anymail/postmark/tracking/", text)

    assert response.status_code == 200
    assert status_of(bob_email) == "failed"
    with scopes_disabled():
        assert OutboundEmail.objects.get(pk=bob_email.pk).reason == "smtp;550 5.1.1 no such user ?"


def test_a_nan_beside_a_huge_integer_is_kept_as_null(cast, bob_email):
    raw = {"Tag": 2**70, "Score": float("nan")}  # orjson cannot write the one, jsonb the other
    events_receive(esp="postmark", rows=[replace(_delivered_row(), raw=raw)])

    assert inbox_drain().events == 1
    with scopes_disabled():
        assert EmailEvent.objects.get().raw == {"Tag": 2**70, "Score": None}


def test_a_worker_past_its_time_limit_leaves_the_batch_waiting(cast, bob_email, monkeypatch):
    """Celery's soft time limit is not the batch's fault: it is not set aside."""
    from celery.exceptions import SoftTimeLimitExceeded

    events_receive(esp="postmark", rows=[_delivered_row()])

    def out_of_time(batch_ids):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(drain, "events_store", out_of_time)
    with pytest.raises(SoftTimeLimitExceeded):
        inbox_drain()
    assert ReceivedBatch.objects.get().failed_at is None
    monkeypatch.undo()
    assert inbox_drain().events == 1
