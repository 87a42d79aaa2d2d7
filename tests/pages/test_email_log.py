from datetime import UTC, datetime, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from tests.factories import EmailEventFactory, OutboundEmailFactory
from tests.tracking.helpers import emails_aged, post_fixture, tracked_email


def summary(client, cast, **params) -> str:
    client.force_login(cast.alice)
    return client.get(f"/clients/{cast.bob.pk}/", params).content.decode()


def test_each_status_shows_its_label_and_what_to_do(client, cast, settings):
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "MAILGUN_WEBHOOK_SIGNING_KEY": "key-fixture-mailgun-signing",
    }
    tracked_email(cast.alice_clinic, cast.bob, esp="mailgun", sent_by=cast.alice)
    post_fixture(client, "mailgun", "delivered")
    body = summary(client, cast)
    assert 'data-status="delivered">Delivered</span>' in body
    assert "ask the client to check their junk and spam folders" in body


def test_a_failed_email_shows_the_reason_and_its_timeline(client, cast, settings):
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "MAILGUN_WEBHOOK_SIGNING_KEY": "key-fixture-mailgun-signing",
    }
    tracked_email(cast.alice_clinic, cast.bob, esp="mailgun", sent_by=cast.alice)
    post_fixture(client, "mailgun", "accepted")
    post_fixture(client, "mailgun", "failed_permanent_bounce")
    body = summary(client, cast)
    assert 'data-status="failed">Failed</span>' in body
    assert "Check the address with the client" in body
    assert "<strong>Reason:</strong> 5.1.1 The email account" in body
    assert "<strong>Processed</strong>" in body and "<strong>Failed</strong>" in body


def test_opens_carry_the_privacy_caveat(client, cast, settings):
    tracked_email(cast.alice_clinic, cast.bob, esp="postmark")
    post_fixture(client, "postmark", "open")
    body = summary(client, cast)
    assert 'data-status="opened">Open</span>' in body
    assert "Privacy settings and security scanners" in body


def test_only_the_last_30_days_newest_first_and_paginated(client, cast):
    emails_aged(
        cast.alice_clinic,
        cast.bob,
        [timedelta(days=n * 1.3) for n in range(25)],
        subject="Email {n:02d}",
    )
    first = summary(client, cast)
    assert first.index("Email 00") < first.index("Email 01")
    assert "Email 19" in first and "Email 20" not in first
    assert "Page 1 of 2" in first
    second = summary(client, cast, page=2)
    assert "Email 22" in second
    assert "Email 24" not in second  # 31.2 days old


def test_the_log_fragment_refreshes_alone_and_its_queries_do_not_grow(client, cast):
    client.force_login(cast.alice)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/clients/{cast.bob.pk}/emails/log/").status_code == 200
        return len(captured)

    tracked_email(cast.alice_clinic, cast.bob, esp="mailgun")
    few = queries()
    with scopes_disabled():
        for n in range(15):
            tracked_email(
                cast.alice_clinic,
                cast.bob,
                esp="mailgun",
                email_id=f"00000000-0000-4000-9000-{n:012d}",
            )
    assert queries() == few


def test_another_clinic_gets_404_on_the_fragment(client, cast):
    client.force_login(cast.charlie)
    assert client.get(f"/clients/{cast.bob.pk}/emails/log/").status_code == 404


def test_a_timeline_time_from_another_year_on_the_clinics_clock_shows_its_year(client, cast, clock):
    clock.move_to(datetime(2027, 1, 2, 9, tzinfo=UTC))
    with scopes_disabled():
        for who in (cast.bob, cast.dana):
            email = OutboundEmailFactory(client=who, status="delivered")
            # 31 December in London; already 1 January in Sydney (UTC+11).
            EmailEventFactory(email=email, occurred_at=datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
            EmailEventFactory(email=email, occurred_at=datetime(2027, 1, 1, 8, tzinfo=UTC))
    london = summary(client, cast)
    assert ">31 Dec 2026, 23:30:00</time>" in london
    assert ">1 Jan, 08:00:00</time>" in london
    client.force_login(cast.charlie)
    sydney = client.get(f"/clients/{cast.dana.pk}/").content.decode()
    assert ">1 Jan, 10:30:00</time>" in sydney
    assert ">1 Jan, 19:00:00</time>" in sydney
