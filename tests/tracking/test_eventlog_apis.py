"""Postmark's, SendGrid's and Mailgun's event logs, read from a local server answering their
documented JSON (tests/fixtures/esp_api): each record becomes the event its webhook would have
brought, stored once whichever source brings it first, with its consequences once."""

import json
import logging
import uuid
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from django_scopes import scopes_disabled

from clinic.models import Client
from messaging.models import EmailEvent, EmailKind, OutboundEmail
from messaging.tracking.drain import inbox_drain
from messaging.tracking.eventlogs import HAS_EVENT_LOG, EventLogError, MessageRef
from messaging.tracking.eventlogs.mailgun import MailgunEventLog
from messaging.tracking.eventlogs.postmark import PostmarkEventLog
from messaging.tracking.eventlogs.sendgrid import SendGridEventLog
from messaging.tracking.mapping import verdict_for
from messaging.tracking.reconcile import UNAVAILABLE_KEY, emails_reconcile, window_reconcile
from messaging.tracking.rows import event_row
from notifications.models import Notification
from suppression.models import Suppression
from tests.factories import ClientFactory
from tests.tracking.api_server import ApiServer, documented
from tests.tracking.helpers import basic_auth

EMAIL_ID = uuid.UUID("00000000-0000-4000-8000-000000000001")  # in the documented metadata
POSTMARK_ID = "883953f4-6105-42a2-a16a-77a8eac79483"
SENDGRID_MSG_ID = "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0"
ANYMAIL_ID = "3f9b1c2e-7a4d-4e8b-9c1f-2a3b4c5d6e7f"
PATIENT = "patient@example.test"


@pytest.fixture(autouse=True)
def event_logs_not_known_unavailable():
    """An event log found unavailable is remembered in the (shared) cache: not across tests."""
    keys = [UNAVAILABLE_KEY.format(stream=stream) for stream in HAS_EVENT_LOG]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)


@pytest.fixture
def api():
    server = ApiServer()
    yield server
    server.stop()


@pytest.fixture
def postmark(api, settings):
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "POSTMARK_API_URL": api.url + "/",
        "POSTMARK_SERVER_TOKEN": "pm-server-token",
    }
    api.on(f"/messages/outbound/{POSTMARK_ID}/details", documented("postmark_message_details"))
    api.on("/bounces", documented("postmark_bounces"))
    return api


@pytest.fixture
def sendgrid(api, settings):
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "SENDGRID_API_URL": api.url + "/v3/",
        "SENDGRID_API_KEY": "SG.test-key",
    }
    return api


def patient_email(cast, *, esp: str, message_id: str, minutes_ago: int = 11) -> OutboundEmail:
    """The email the documented answers are about, sent by Alice `minutes_ago`."""
    with scopes_disabled():
        patient = ClientFactory(clinic=cast.alice_clinic, name="Pat Ient", email=PATIENT)
        return OutboundEmail.objects.create(
            id=EMAIL_ID,
            clinic=cast.alice_clinic,
            client=patient,
            kind=EmailKind.DIRECT_MESSAGE,
            to_email=PATIENT,
            subject="Your appointment",
            body_text="See you soon.",
            sent_by=cast.alice,
            esp=esp,
            esp_message_id=message_id,
            status="processed",
            sent_at=timezone.now() - timedelta(minutes=minutes_ago),
        )


def fetched(email: OutboundEmail) -> OutboundEmail:
    with scopes_disabled():
        return OutboundEmail.objects.get(pk=email.pk)


def stored(email: OutboundEmail) -> list[tuple[str, str]]:
    with scopes_disabled():
        return list(
            EmailEvent.objects.filter(email=email)
            .order_by("occurred_at", "id")
            .values_list("event_type", "status")
        )


# -- Postmark -----------------------------------------------------------------------------------


def test_postmark_message_events_and_bounces_become_the_events_its_webhooks_bring(postmark):
    log = PostmarkEventLog()
    sent = timezone.now()
    events = log.message_events(MessageRef(EMAIL_ID, POSTMARK_ID, sent))
    rows = [event_row(log.esp_name, event) for event in events]

    assert [(row.event_type, row.status) for row in rows] == [
        ("deferred", "deferred"),
        ("delivered", "delivered"),
        ("opened", "opened"),
        ("clicked", "clicked"),
        ("bounced", "failed"),
    ]
    bounce = rows[-1]
    assert bounce.suppress == "hard_bounce"
    assert bounce.dedup_key == f"4200000001:{PATIENT}", "the key its webhook is stored under"
    assert "5.1.1" in bounce.mta_response
    assert {row.email_id_hint for row in rows} == {EMAIL_ID}
    assert {row.message_id for row in rows} == {POSTMARK_ID}
    assert rows[3].click_url == "https://clinic.example.test/appointments/confirm"
    assert rows[1].mta_response == "250 2.0.0 OK"

    details, bounces = postmark.requests
    assert details[0] == f"/messages/outbound/{POSTMARK_ID}/details"
    assert bounces[0] == "/bounces"
    assert bounces[1] == {"messageID": POSTMARK_ID, "count": "500", "offset": "0"}
    assert {details[2]["X-Postmark-Server-Token"], bounces[2]["X-Postmark-Server-Token"]} == {
        "pm-server-token"
    }


def post_postmark(client, name: str) -> None:
    response = client.post(
        "/anymail/postmark/tracking/",
        data=json.dumps(documented(name)),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic_auth(),
    )
    assert response.status_code == 200
    inbox_drain()


def test_a_postmark_delivery_from_its_webhook_then_its_log_is_one_event(postmark, client, cast):
    """Neither source gives a delivery an id: both key it by message, type and second."""
    postmark.on("/messages/outbound", {"TotalCount": 1, "Messages": [{"MessageID": POSTMARK_ID}]})
    email = patient_email(cast, esp="postmark", message_id=POSTMARK_ID)
    post_postmark(client, "postmark_delivery_webhook")
    assert stored(email) == [("delivered", "delivered")]

    now = timezone.now()
    progress = window_reconcile(stream="postmark", begin=now - timedelta(days=1), end=now)
    inbox_drain()

    assert (progress.events, progress.kept) == (5, 4)
    assert [event_type for event_type, _ in stored(email)].count("delivered") == 1
    assert len(stored(email)) == 5


def test_a_postmark_email_reconciled_fails_once_and_its_late_webhook_changes_nothing(
    postmark, client, cast, settings
):
    settings.RECONCILE_AFTER_SECONDS = 600
    email = patient_email(cast, esp="postmark", message_id=POSTMARK_ID)

    done = emails_reconcile()
    inbox_drain()

    assert (done.emails, done.events, done.kept) == (1, 5, 5)
    email = fetched(email)
    assert email.status == "failed"
    assert "5.1.1" in email.reason
    assert email.reconciled_at is not None
    wait = email.reconcile_at - email.reconciled_at
    assert timedelta(minutes=11) <= wait < timedelta(minutes=11, seconds=5), "as old as it is"
    with scopes_disabled():
        assert Suppression.objects.get(address=PATIENT).reason == "hard_bounce"
        assert not Client.objects.get(pk=email.client_id).appointment_comms
        assert Notification.objects.filter(email_id=email.id, recipient=cast.alice).count() == 1

    # Postmark's webhooks for the same bounce (its ID) and delivery (its second), late.
    post_postmark(client, "postmark_bounce_webhook")
    post_postmark(client, "postmark_delivery_webhook")
    with scopes_disabled():
        assert EmailEvent.objects.filter(email=email).count() == 5
        assert Suppression.objects.filter(address=PATIENT).count() == 1
        assert Notification.objects.filter(email_id=email.id).count() == 1
    assert emails_reconcile().emails == 0, "failed: an outcome, never asked again"


def test_an_email_sent_less_than_reconcile_after_seconds_ago_is_not_asked(postmark, cast, settings):
    settings.RECONCILE_AFTER_SECONDS = 600
    patient_email(cast, esp="postmark", message_id=POSTMARK_ID, minutes_ago=9)
    assert emails_reconcile().emails == 0
    assert postmark.requests == []


def test_a_window_of_postmark_reads_bounces_then_each_message_sent(postmark, cast):
    postmark.on(
        "/messages/outbound",
        {"TotalCount": 1, "Messages": [{"MessageID": POSTMARK_ID, "Recipients": [PATIENT]}]},
    )
    email = patient_email(cast, esp="postmark", message_id=POSTMARK_ID)
    now = timezone.now()

    progress = window_reconcile(
        stream="postmark", begin=now - timedelta(hours=6), end=now, apply=inbox_drain
    )

    assert (progress.pages, progress.events, progress.kept) == (2, 5, 5)
    assert progress.emails == {email.id}
    assert fetched(email).status == "failed"
    bounce_windows = [query for path, query, _ in postmark.requests if path == "/bounces"]
    assert "fromdate" in bounce_windows[0]
    assert "T" in bounce_windows[0]["todate"], "Eastern time, to the second"
    again = window_reconcile(stream="postmark", begin=now - timedelta(hours=6), end=now)
    assert (again.events, again.kept) == (5, 0)


def test_an_unreadable_answer_is_asked_again_later_not_at_once(api, settings, cast, caplog):
    settings.ANYMAIL = {**settings.ANYMAIL, "POSTMARK_API_URL": api.url + "/"}
    broken = {"MessageID": POSTMARK_ID, "MessageEvents": [{"Type": "Delivered", "ReceivedAt": 12}]}
    api.on(f"/messages/outbound/{POSTMARK_ID}/details", broken)
    api.on("/bounces", {"TotalCount": 0, "Bounces": []})
    email = patient_email(cast, esp="postmark", message_id=POSTMARK_ID)
    done = emails_reconcile()
    assert (done.emails, done.kept) == (1, 0)
    assert "log of email" in caplog.text and "unreadable" in caplog.text
    assert fetched(email).reconcile_at > timezone.now() + timedelta(minutes=10)


def test_postmark_api_not_where_it_is_configured_is_said_once(api, settings, cast):
    settings.ANYMAIL = {**settings.ANYMAIL, "POSTMARK_API_URL": api.url + "/nothing-here/"}
    patient_email(cast, esp="postmark", message_id=POSTMARK_ID)
    done = emails_reconcile()
    assert done.emails == 1
    assert "check POSTMARK_API_URL" in done.unavailable["postmark"]
    assert api.paths() == [
        f"/nothing-here/messages/outbound/{POSTMARK_ID}/details",  # 404: no such message
        "/nothing-here/bounces",  # 404: no such API
    ]


# -- SendGrid -----------------------------------------------------------------------------------


def sendgrid_answers(api: ApiServer, *, anymail_id: str = ANYMAIL_ID) -> None:
    message = documented("sendgrid_message")
    message["unique_args"] = json.dumps({"email_id": str(EMAIL_ID), "anymail_id": anymail_id})
    api.on("/v3/messages", documented("sendgrid_messages"))
    api.on(f"/v3/messages/{SENDGRID_MSG_ID}", message)


def test_sendgrid_activity_becomes_the_events_its_webhook_brings(sendgrid):
    sendgrid_answers(sendgrid)
    log = SendGridEventLog()
    events = log.message_events(MessageRef(EMAIL_ID, ANYMAIL_ID, timezone.now()))
    rows = [event_row(log.esp_name, event) for event in events]

    assert [(row.event_type, row.status, row.suppress) for row in rows] == [
        ("queued", "processed", ""),
        ("bounced", "failed", "hard_bounce"),  # bounce_type hard: the webhook's type bounce
    ]
    assert {row.message_id for row in rows} == {ANYMAIL_ID}, "anymail's id, as the webhook's"
    assert {row.email_id_hint for row in rows} == {EMAIL_ID}
    assert rows[1].mta_response.startswith("550 5.1.1")
    listing, detail = sendgrid.requests
    assert listing[1]["query"] == f"unique_args['email_id']=\"{EMAIL_ID}\""
    assert detail[0] == f"/v3/messages/{SENDGRID_MSG_ID}"
    assert listing[2]["Authorization"] == detail[2]["Authorization"] == "Bearer SG.test-key"


def test_a_soft_bounce_in_the_activity_is_a_block_as_in_the_webhook(sendgrid):
    message = documented("sendgrid_message")
    message["events"][1]["bounce_type"] = "soft"
    sendgrid.on("/v3/messages", documented("sendgrid_messages"))
    sendgrid.on(f"/v3/messages/{SENDGRID_MSG_ID}", message)
    log = SendGridEventLog()
    [_processed, bounce] = log.message_events(MessageRef(EMAIL_ID, ANYMAIL_ID, timezone.now()))
    assert bounce.esp_event["type"] == "blocked"
    webhook = {"event": "bounce", "type": "blocked", "email": PATIENT}
    assert (
        event_row(log.esp_name, bounce).status == verdict_for("sendgrid", "bounced", webhook).status
    )


def test_a_sendgrid_email_reconciled_fails_once_with_its_consequences(sendgrid, cast):
    sendgrid_answers(sendgrid)
    email = patient_email(cast, esp="sendgrid", message_id=ANYMAIL_ID)

    done = emails_reconcile()
    inbox_drain()

    assert (done.emails, done.kept) == (1, 2)
    assert fetched(email).status == "failed"
    with scopes_disabled():
        assert Suppression.objects.get(address=PATIENT).reason == "hard_bounce"
        assert Notification.objects.filter(email_id=email.id).count() == 1
    with scopes_disabled():
        OutboundEmail.objects.filter(pk=email.pk).update(status="processed", reconcile_at=None)
    assert emails_reconcile().kept == 0, "read again, nothing new"


def test_a_sendgrid_event_its_webhook_brought_first_is_not_kept_again_from_the_activity(
    sendgrid, client, cast
):
    """The activity API names no sg_event_id: an event the webhook brought (same email, type and
    second) is recognised and not stored a second time."""
    sendgrid_answers(sendgrid)
    email = patient_email(cast, esp="sendgrid", message_id=ANYMAIL_ID)
    processed = {
        "email": PATIENT,
        "timestamp": 1767605400,  # 2026-01-05T09:30:00Z, as the activity's processed event
        "event": "processed",
        "sg_event_id": "sg-event-processed-1",
        "sg_message_id": SENDGRID_MSG_ID,
        "email_id": str(EMAIL_ID),
        "anymail_id": ANYMAIL_ID,
    }
    response = client.post(
        "/anymail/sendgrid/tracking/",
        data=json.dumps([processed]),
        content_type="application/json",
        HTTP_AUTHORIZATION=basic_auth(),
    )
    assert response.status_code == 200
    inbox_drain()

    done = emails_reconcile()
    inbox_drain()

    assert (done.events, done.kept) == (2, 1), "only the bounce is new"
    assert stored(email) == [("queued", "processed"), ("bounced", "failed")]


def test_sendgrid_without_the_activity_add_on_is_said_once_not_asked_again(sendgrid, cast, caplog):
    sendgrid.on(
        "/v3/messages", {"errors": [{"field": None, "message": "access forbidden"}]}, status=403
    )
    email = patient_email(cast, esp="sendgrid", message_id=ANYMAIL_ID)
    with caplog.at_level(logging.WARNING, logger="messaging.tracking.reconcile"):
        done = emails_reconcile()
    assert done.emails == 1
    assert "paid add-on" in done.unavailable["sendgrid"]
    [warning] = [r for r in caplog.records if "No reconciliation with sendgrid" in r.message]
    assert "Email Activity API is not available" in warning.message

    # Asked about, found nothing: the stuck flag may now be raised; the log is not asked again.
    assert fetched(email).reconciled_at is not None
    with scopes_disabled():
        OutboundEmail.objects.filter(pk=email.pk).update(reconcile_at=None)
    asked = len(sendgrid.requests)
    caplog.clear()
    assert emails_reconcile().emails == 1
    assert len(sendgrid.requests) == asked
    assert not [r for r in caplog.records if "No reconciliation" in r.message]


def test_sendgrid_rate_limit_stops_the_run_and_leaves_the_email_for_later(sendgrid, cast):
    sendgrid.on("/v3/messages", {"errors": [{"message": "too many requests"}]}, status=429)
    email = patient_email(cast, esp="sendgrid", message_id=ANYMAIL_ID)
    done = emails_reconcile()
    assert "429" in done.errors["sendgrid"]
    assert done.emails == 0
    email = fetched(email)
    assert email.reconciled_at is None, "not asked: no stuck flag yet"
    assert email.reconcile_at > timezone.now(), "taken for a few minutes, then due again"
    with pytest.raises(EventLogError) as raised:
        SendGridEventLog().message_events(MessageRef(EMAIL_ID, ANYMAIL_ID, timezone.now()))
    assert raised.value.retry_after == 10.0


def test_a_sendgrid_window_reads_each_listed_message(sendgrid, cast):
    sendgrid_answers(sendgrid)
    email = patient_email(cast, esp="sendgrid", message_id=ANYMAIL_ID)
    now = timezone.now()
    progress = window_reconcile(
        stream="sendgrid", begin=now - timedelta(days=2), end=now, apply=inbox_drain
    )
    assert (progress.pages, progress.events, progress.kept) == (1, 2, 2)
    assert progress.emails == {email.id}
    assert fetched(email).status == "failed"
    query = sendgrid.requests[0][1]["query"]
    assert query.startswith('last_event_time BETWEEN TIMESTAMP "')
    assert query.endswith('Z"')


# -- Mailgun's documented answer ----------------------------------------------------------------


def test_mailgun_events_api_documented_page_is_read_as_its_webhooks_and_followed(api, settings):
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "MAILGUN_API_URL": api.url + "/v3",
        "MAILGUN_SENDER_DOMAIN": "mg.example.test",
    }
    page = documented("mailgun_events_page")
    page["paging"]["next"] = api.url + "/v3/mg.example.test/events/W3siYSI6IGZhbHNlfV0"
    api.on("/v3/mg.example.test/events/W3siYSI6IGZhbHNlfV0", {"items": [], "paging": {}})
    api.on("/v3/mg.example.test/events", page)
    log = MailgunEventLog()
    sent = timezone.now()

    events = log.message_events(
        MessageRef(EMAIL_ID, "<20260105093000.0a1b2c3d4e5f6a7b@mg.example.test>", sent)
    )
    rows = [event_row(log.esp_name, event) for event in events]

    assert [(row.event_type, row.status) for row in rows] == [
        ("queued", "processed"),
        ("delivered", "delivered"),
    ]
    assert rows[1].dedup_key == f"hK7mQVt1QtqRiOfQXta4sw:{PATIENT}", "Mailgun's event id"
    assert {row.email_id_hint for row in rows} == {EMAIL_ID}
    (first, query, headers), (following, more, _) = api.requests
    assert first == "/v3/mg.example.test/events"
    assert query["message-id"] == "20260105093000.0a1b2c3d4e5f6a7b@mg.example.test"
    assert (query["ascending"], query["limit"]) == ("yes", "300")
    assert headers["Authorization"].startswith("Basic ")
    assert following.endswith("/W3siYSI6IGZhbHNlfV0") and more == {}


def test_mailgun_next_page_on_another_host_is_not_followed(api, settings):
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "MAILGUN_API_URL": api.url + "/v3",
        "MAILGUN_SENDER_DOMAIN": "mg.example.test",
    }
    page = documented("mailgun_events_page")  # its next page is on api.mailgun.net
    api.on("/v3/mg.example.test/events", page)
    with pytest.raises(EventLogError, match="next page is not on"):
        MailgunEventLog().message_events(
            MessageRef(EMAIL_ID, "<x@mg.example.test>", timezone.now())
        )
    assert len(api.requests) == 1, "the API key is not sent elsewhere"
