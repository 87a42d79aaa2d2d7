from datetime import timedelta

from django.utils import timezone
from django_scopes import scopes_disabled

from clinic.models import Membership
from messaging.log.retention import log_purge
from messaging.log.tasks import retention_purge_task
from messaging.models import EmailEvent, OutboundEmail
from messaging.tracking.tasks import stuck_emails_flag_task
from notifications.models import Notification
from suppression.streams import SMTP
from tests.otp import support_login
from tests.tracking.helpers import emails_aged, load, post_fixture, post_json, tracked_email


def sent_minutes_ago(email, minutes: int) -> None:
    """Sent that long ago, and looked up since in the ESP's own event log, which settled nothing
    (the stuck flag waits for that: messaging/tracking/reconcile.py)."""
    with scopes_disabled():
        OutboundEmail.objects.filter(pk=email.pk).update(
            sent_at=timezone.now() - timedelta(minutes=minutes), reconciled_at=timezone.now()
        )


def test_an_email_processed_for_ten_minutes_is_flagged_once_to_the_admins(cast):
    email = tracked_email(cast.alice_clinic, cast.bob, esp="mailgun")
    sent_minutes_ago(email, 11)
    assert stuck_emails_flag_task() == 1
    assert stuck_emails_flag_task() == 0
    with scopes_disabled():
        notes = list(Notification.objects.filter(email_id=email.id))
        admins = {m.user for m in Membership.objects.filter(role="clinic_admin")}
    assert {note.recipient for note in notes} == admins == {cast.alice_admin}
    assert "nothing has been heard of it since" in notes[0].text


def test_recent_later_and_untracked_emails_are_not_flagged(client, cast):
    recent = tracked_email(cast.alice_clinic, cast.bob, esp="mailgun")
    sent_minutes_ago(recent, 5)
    untracked = tracked_email(
        cast.alice_clinic,
        cast.bob,
        esp=SMTP,
        email_id="0c7a3f52-1d2e-4b7a-8f3c-6e5d4c3b2a10",
        status="sent",
    )
    sent_minutes_ago(untracked, 60)
    assert stuck_emails_flag_task() == 0


def test_support_lists_flagged_emails(client, cast):
    email = tracked_email(cast.alice_clinic, cast.bob, esp="mailgun")
    sent_minutes_ago(email, 30)
    stuck_emails_flag_task()
    support_login(client, cast.support)
    page = client.get("/admin/messaging/outboundemail/?stuck=yes")
    assert page.status_code == 200
    assert "bob@example.test" in page.content.decode()


def test_retention_deletes_old_emails_and_events_only(client, cast, settings):
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "MAILGUN_WEBHOOK_SIGNING_KEY": "key-fixture-mailgun-signing",
    }
    old = tracked_email(cast.alice_clinic, cast.bob, esp="postmark")
    post_fixture(client, "postmark", "delivery")
    long_ago = timezone.now() - timedelta(days=31)
    with scopes_disabled():
        OutboundEmail.objects.filter(pk=old.pk).update(created_at=long_ago)
        EmailEvent.objects.update(received_at=long_ago)
    # A recent email with a recent event, and one a day inside the retention period: both stay.
    new = tracked_email(
        cast.alice_clinic, cast.bob, esp="postmark", email_id="0c7a3f52-1d2e-4b7a-8f3c-6e5d4c3b2a10"
    )
    body = load("postmark", "open")
    body["Metadata"]["email_id"] = str(new.pk)
    post_json(client, "/anymail/postmark/tracking/", body)
    [recent_event] = emails_with_events(new)
    almost = tracked_email(
        cast.alice_clinic, cast.bob, esp="postmark", email_id="1d8b4a63-2e3f-4c8b-9a4d-7f6e5d4c3b21"
    )
    with scopes_disabled():
        OutboundEmail.objects.filter(pk=almost.pk).update(
            created_at=timezone.now() - timedelta(days=29)
        )
    assert retention_purge_task() == 2  # the old email and its event
    with scopes_disabled():
        kept = {str(pk) for pk in OutboundEmail.objects.values_list("pk", flat=True)}
        assert kept == {str(new.pk), str(almost.pk)}
        assert list(EmailEvent.objects.values_list("pk", flat=True)) == [recent_event]


def emails_with_events(email) -> list[int]:
    with scopes_disabled():
        return list(EmailEvent.objects.filter(email=email).values_list("pk", flat=True))


def test_retention_works_in_batches(cast):
    emails_aged(cast.alice_clinic, cast.bob, [timedelta(days=40)] * 5, esp="postmark")
    recent = tracked_email(
        cast.alice_clinic, cast.bob, esp="sendgrid", email_id="2e9c5b74-3f4a-4d9c-8b5e-8a7f6e5d4c32"
    )
    assert log_purge(before=timezone.now() - timedelta(days=30), batch_size=2) == 5
    with scopes_disabled():
        assert [str(pk) for pk in OutboundEmail.objects.values_list("pk", flat=True)] == [
            str(recent.pk)
        ]
