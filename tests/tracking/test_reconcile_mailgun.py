"""Reconciling with Mailgun's event log, through the local simulator: its webhooks cannot reach
us, and every email reaches its outcome, with its consequences, from the Events API alone; with
both sources, each event is stored once and each consequence happens once."""

import socket
import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from clinic.models import Client
from messaging.models import EmailEvent, OutboundEmail
from messaging.sending.delivery import email_deliver
from messaging.sending.triggers import direct_message_send
from messaging.tracking.drain import inbox_drain
from messaging.tracking.eventlogs import HAS_EVENT_LOG
from messaging.tracking.reconcile import UNAVAILABLE_KEY, emails_reconcile, window_reconcile
from notifications.models import Notification
from suppression.models import Suppression
from tests.factories import ClientFactory
from tests.processes import wait_for

pytestmark = [pytest.mark.integration]

FINAL = {
    "click.carla@example.test": "clicked",
    "bounce.ben@example.test": "failed",
    "defer.dev@example.test": "delivered",
    "complaint.cora@example.test": "spam_report",
}
EVENTS = {  # what the simulator logs of each (espsim/outcomes.py)
    "click.carla@example.test": ["queued", "delivered", "opened", "clicked"],
    "bounce.ben@example.test": ["queued", "bounced"],
    "defer.dev@example.test": ["queued", "deferred", "delivered"],
    "complaint.cora@example.test": ["queued", "delivered", "complained"],
}
SUPPRESSED = {
    "bounce.ben@example.test": "hard_bounce",
    "complaint.cora@example.test": "spam_complaint",
}


@pytest.fixture(autouse=True)
def event_logs_not_known_unavailable():
    keys = [UNAVAILABLE_KEY.format(stream=stream) for stream in HAS_EVENT_LOG]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)


@pytest.fixture
def dead_webhook(esp_simulator) -> str:
    """The simulator's webhooks point at a port nobody listens on, for the whole test; it
    retries quickly, for longer than any test."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://webhook:test-webhook-secret@127.0.0.1:{port}/anymail/mailgun/tracking/"
    esp_simulator.configure(webhook_url=url, retry_base=0.05, retry_max=0.2, retry_total=3600)
    return url


def send_each(cast, simulator) -> dict[str, OutboundEmail]:
    """One email to each outcome's address, handed to the simulator, and waited for until every
    event of it has happened (is in Mailgun's log)."""
    with scopes_disabled():
        clients = {
            address: ClientFactory(clinic=cast.alice_clinic, email=address) for address in FINAL
        }
    emails = {}
    for address, client in clients.items():
        with scope(clinic=cast.alice_clinic):
            with transaction.atomic():
                email = direct_message_send(
                    client=client, subject="Your plan", body="Stretch daily.", sent_by=cast.alice
                )
            assert email_deliver(email_id=email.id).outcome == "sent"
        emails[address] = email
    expected = sum(len(events) for events in EVENTS.values())

    def all_happened():
        logged = simulator.events()
        return len(logged) == expected and all(e["timestamp"] <= time.time() for e in logged)

    wait_for(all_happened, timeout=30)
    return emails


def statuses(emails) -> dict[str, str]:
    with scopes_disabled():
        return {a: OutboundEmail.objects.get(pk=e.pk).status for a, e in emails.items()}


def stored_events(email) -> list[str]:
    with scopes_disabled():
        return list(
            EmailEvent.objects.filter(email=email)
            .order_by("occurred_at", "id")
            .values_list("event_type", flat=True)
        )


def assert_consequences_once(cast, emails) -> None:
    with scopes_disabled():
        for address, email in emails.items():
            assert stored_events(email) == EVENTS[address], address
            client = Client.objects.get(pk=email.client_id)
            assert client.appointment_comms is (address not in SUPPRESSED), address
            told = Notification.objects.filter(email_id=email.id)
            assert told.count() == (1 if address in SUPPRESSED else 0), address
            if address in SUPPRESSED:
                assert told.get().recipient == cast.alice
        suppressions = {s.address: s.reason for s in Suppression.objects.all()}
        assert suppressions == SUPPRESSED


def test_with_every_webhook_lost_reconciliation_alone_settles_each_email(
    cast, esp_simulator, dead_webhook, settings
):
    settings.RECONCILE_AFTER_SECONDS = 0
    emails = send_each(cast, esp_simulator)
    assert set(statuses(emails).values()) == {"processed"}

    done = emails_reconcile()
    inbox_drain()

    assert done.emails == 4
    assert done.kept == sum(len(events) for events in EVENTS.values())
    assert statuses(emails) == FINAL
    assert_consequences_once(cast, emails)
    with scopes_disabled():
        bounced = OutboundEmail.objects.get(pk=emails["bounce.ben@example.test"].pk)
    assert "5.1.1" in bounced.reason
    logged = esp_simulator.events()
    assert not [e for e in logged if e["state"] == "delivered"], "no webhook got through"
    assert all("error" in e["attempts"][0] for e in logged if e["attempts"])


def test_an_email_the_log_settles_nothing_of_is_asked_again_later_and_flagged_only_then(
    cast, esp_simulator, dead_webhook
):
    from messaging.tracking.stuck import stuck_emails_flag

    with scopes_disabled():
        client = ClientFactory(clinic=cast.alice_clinic, email="plain.paul@example.test")
    with scope(clinic=cast.alice_clinic), transaction.atomic():
        email = direct_message_send(client=client, subject="Hi", body="Hi.", sent_by=cast.alice)
    with scope(clinic=cast.alice_clinic):
        email_deliver(email_id=email.id)
    esp_simulator.reset()  # Mailgun's log has nothing of it
    with scopes_disabled():
        OutboundEmail.objects.filter(pk=email.pk).update(
            sent_at=timezone.now() - timedelta(minutes=11)
        )
    assert stuck_emails_flag(now=timezone.now()) == 0, "not before its log was read"

    assert emails_reconcile().emails == 1
    with scopes_disabled():
        email = OutboundEmail.objects.get(pk=email.pk)
    assert email.status == "processed"
    wait = email.reconcile_at - email.reconciled_at
    assert timedelta(minutes=11) <= wait < timedelta(minutes=11, seconds=5), "as old as it is"
    assert emails_reconcile().emails == 0, "not due again yet"
    assert stuck_emails_flag(now=timezone.now()) == 1, "its log settled nothing"


def test_with_both_sources_each_event_is_stored_once_and_each_consequence_happens_once(
    cast, esp_simulator, dead_webhook, settings, live_server, transactional_db
):
    settings.RECONCILE_AFTER_SECONDS = 0
    emails = send_each(cast, esp_simulator)
    emails_reconcile()
    inbox_drain()
    assert statuses(emails) == FINAL

    # The receiver is back: every webhook Mailgun kept retrying now arrives, after the log.
    secret = settings.ANYMAIL["WEBHOOK_SECRET"][0]
    esp_simulator.configure(
        webhook_url=live_server.url.replace("http://", f"http://{secret}@")
        + "/anymail/mailgun/tracking/"
    )
    assert esp_simulator.wait_idle(timeout=60)
    assert {e["state"] for e in esp_simulator.events()} == {"delivered"}
    inbox_drain()

    assert statuses(emails) == FINAL
    assert_consequences_once(cast, emails)
    # And the log read once more, after the webhooks: nothing new.
    now = timezone.now()
    again = window_reconcile(stream="mailgun", begin=now - timedelta(hours=1), end=now)
    assert (again.events, again.kept) == (sum(len(e) for e in EVENTS.values()), 0)


def test_esp_reconcile_after_an_outage_reads_the_window_and_a_second_run_stores_nothing(
    cast, esp_simulator, dead_webhook, capsys
):
    emails = send_each(cast, esp_simulator)

    call_command("esp_reconcile", "--since", "1h")
    first = capsys.readouterr().out

    assert statuses(emails) == FINAL
    assert_consequences_once(cast, emails)
    assert "page 1 read; so far 12 events, 12 new, 4 of our emails" in first
    assert "Done: 1 pages, 12 events, 12 new (stored and applied), 4 of our emails." in first
    with scopes_disabled():
        stored = EmailEvent.objects.count()

    call_command("esp_reconcile", "--since", "1h")
    second = capsys.readouterr().out

    assert "Done: 1 pages, 12 events, 0 new (stored and applied), 4 of our emails." in second
    with scopes_disabled():
        assert EmailEvent.objects.count() == stored
    assert_consequences_once(cast, emails)


def test_esp_reconcile_stopped_midway_keeps_what_it_read_and_goes_on_when_run_again(
    cast, esp_simulator, dead_webhook, capsys, monkeypatch
):
    from messaging.tracking.eventlogs import mailgun

    emails = send_each(cast, esp_simulator)
    monkeypatch.setattr(mailgun, "PAGE_LIMIT", 5)
    reading = mailgun.MailgunEventLog.pages

    def interrupted(self, **window):  # Ctrl-C while the second page is read
        pages = reading(self, **window)
        yield next(pages)
        raise KeyboardInterrupt

    monkeypatch.setattr(mailgun.MailgunEventLog, "pages", interrupted)
    with pytest.raises(CommandError) as stopped:
        call_command("esp_reconcile", "--since", "1h")
    assert stopped.value.returncode == 130
    assert "Stopped after 1 pages; the 5 new events read are stored" in str(stopped.value)
    with scopes_disabled():
        assert EmailEvent.objects.count() == 5

    monkeypatch.setattr(mailgun.MailgunEventLog, "pages", reading)
    call_command("esp_reconcile", "--since", "1h")
    assert "Done: 3 pages, 12 events, 7 new" in capsys.readouterr().out
    assert statuses(emails) == FINAL
    assert_consequences_once(cast, emails)


def test_esp_reconcile_says_plainly_that_amazon_ses_keeps_no_event_log(db):
    with pytest.raises(CommandError) as said:
        call_command("esp_reconcile", "--since", "6h", "--esp", "amazon_ses")
    assert "Amazon SES keeps no event log" in str(said.value)
    assert "docs/operations.md" in str(said.value)


@pytest.mark.parametrize("since", ["yesterday", "6x", "2026-13-01T00:00"])
def test_esp_reconcile_refuses_a_time_it_cannot_read(db, since):
    with pytest.raises(CommandError, match="neither a duration"):
        call_command("esp_reconcile", "--since", since)
