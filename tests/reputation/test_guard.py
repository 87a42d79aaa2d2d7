"""The reputation guard (messaging/reputation/guard.py): a clinic whose hard bounces or spam
complaints cross a threshold is warned once per crossing, then held; a hold stops only its mail
to addresses it never reached; support's release sends the held emails once, fails old ones
with words, and is not undone by the same figures. Another clinic is never touched."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail as outbox_mail
from django.utils import timezone
from django_scopes import scopes_disabled
from knox.models import AuthToken
from rest_framework.test import APIClient

from clinic.models import AuditEntry, Clinic
from messaging.log.presentation import status_help
from messaging.models import GuardWarning, MailHold, OutboundEmail
from messaging.reputation.guard import (
    ReleaseRefused,
    guard_evaluate,
    held_emails_counts,
    hold_release,
    mail_held,
)
from messaging.sending.delivery import email_deliver
from messaging.sending.outbox import email_prepare, emails_enqueue, outbox_stuck
from messaging.sending.triggers import daily_quota_reached, direct_message_send
from messaging.status import EmailStatus
from messaging.tracking.stuck import stuck_emails_flag
from notifications.models import Notification
from tests.factories import (
    ClientFactory,
    DeliveredAddressFactory,
    MailHoldFactory,
    MembershipFactory,
    OutboundEmailFactory,
)
from tests.tracking.helpers import mailgun_hard_bounce

pytestmark = pytest.mark.django_db


@scopes_disabled()
def mail(clinic, *, delivered=0, bounced=0, complained=0, created_at=None, sent_at=None) -> None:
    """Emails the clinic handed over, as the ESP's events left them (the counts follow by
    trigger); handed over when written, unless `sent_at` says when."""
    client = ClientFactory(clinic=clinic)
    sent_at = sent_at or created_at or timezone.now()
    rows = []
    for status, number in (
        (EmailStatus.DELIVERED, delivered),
        (EmailStatus.FAILED, bounced),
        (EmailStatus.SPAM_REPORT, complained),
    ):
        rows += [
            OutboundEmail(
                clinic=clinic,
                client=client,
                kind="direct_message",
                to_email=f"{status}-{uuid.uuid4().hex[:8]}@example.test",
                subject="News",
                body_text="News",
                esp="mailgun",
                status=status,
                esp_message_id=f"m-{uuid.uuid4()}",
                sent_at=sent_at,
            )
            for _ in range(number)
        ]
    made = OutboundEmail.objects.bulk_create(rows)
    if created_at is not None:
        OutboundEmail.objects.filter(pk__in=[e.pk for e in made]).update(created_at=created_at)


def notes(user) -> list[str]:
    with scopes_disabled():
        return list(
            Notification.objects.filter(recipient=user)
            .order_by("pk")
            .values_list("text", flat=True)
        )


def warnings(clinic, **filters):
    with scopes_disabled():
        return list(GuardWarning.objects.filter(clinic=clinic, **filters))


def standing_hold(clinic):
    with scopes_disabled():
        return MailHold.objects.filter(clinic=clinic, released_at__isnull=True).first()


def own_smtp(clinic: Clinic) -> None:
    clinic.sending_connection = Clinic.Connection.OWN_SMTP
    clinic.smtp_host = "smtp.alice.test"
    clinic.save()


def test_a_bounce_warning_is_told_once_then_a_hold_and_again_after_falling_below(cast, settings):
    settings.ADMINS = [("Support", "support@platform.test")]
    mail(cast.alice_clinic, delivered=191, bounced=9)  # 4.5% of 200
    guard_evaluate(now=timezone.now())
    [warning] = warnings(cast.alice_clinic)
    assert (warning.measure, warning.level, warning.sends, warning.events) == (
        "bounces",
        "warning",
        200,
        9,
    )
    assert round(warning.rate, 1) == 4.5
    assert len(warning.addresses.splitlines()) == 9
    [told] = notes(cast.alice_admin)
    assert told.startswith(
        "Hard bounces reached 4.5% of the 200 emails this clinic sent in the last 7 days (9 "
        "bounced; the warning level is 4%). An address that bounces is usually mistyped or no "
        "longer used: check the addresses below with the clients and correct them"
    )
    assert "At 8% the clinic's email to addresses it has not reached before is held" in told
    assert "failed-" in told  # the addresses behind it
    assert notes(cast.alice) == []  # a practitioner is not an admin
    assert len(outbox_mail.outbox) == 1 and "Alice Physio" in outbox_mail.outbox[0].subject
    assert standing_hold(cast.alice_clinic) is None

    guard_evaluate(now=timezone.now())  # the same figures: nobody is told again
    assert len(notes(cast.alice_admin)) == 1 and len(outbox_mail.outbox) == 1

    mail(cast.alice_clinic, bounced=12)  # 21 of 212: 9.9%
    guard_evaluate(now=timezone.now())
    hold = standing_hold(cast.alice_clinic)
    assert hold.why == "Hard bounces reached 9.9% of 212 emails in the last 7 days (hold at 8%)."
    assert (hold.sends, hold.bounces, hold.complaints) == (212, 21, 0)
    assert [w.level for w in warnings(cast.alice_clinic, ended_at__isnull=True)] == [
        "hold",
        "warning",
    ]
    assert "(21 bounced; the hold level is 8%)" in notes(cast.alice_admin)[-1]
    assert "is now held until support reviews it" in notes(cast.alice_admin)[-1]
    guard_evaluate(now=timezone.now())
    assert len(notes(cast.alice_admin)) == 2
    with scopes_disabled():
        assert MailHold.objects.count() == 1

    mail(cast.alice_clinic, delivered=400)  # 21 of 612: 3.4%, below both
    guard_evaluate(now=timezone.now())
    assert warnings(cast.alice_clinic, ended_at__isnull=True) == []
    assert standing_hold(cast.alice_clinic) is not None  # only support lifts a hold
    mail(cast.alice_clinic, bounced=10)  # 31 of 622: 5.0%
    guard_evaluate(now=timezone.now())
    assert len(warnings(cast.alice_clinic, ended_at__isnull=True, level="warning")) == 1
    assert len(notes(cast.alice_admin)) == 3


def test_complaints_warn_then_hold(cast):
    mail(cast.alice_clinic, delivered=4995, complained=5)  # 0.10%
    guard_evaluate(now=timezone.now())
    [warning] = warnings(cast.alice_clinic)
    assert (warning.measure, warning.level) == ("complaints", "warning")
    assert notes(cast.alice_admin)[0].startswith(
        "Spam complaints reached 0.10% of the 5000 emails this clinic sent in the last 7 days "
        "(5 complaints; the warning level is 0.08%)."
    )
    assert standing_hold(cast.alice_clinic) is None
    mail(cast.alice_clinic, complained=15)  # 20 of 5015: 0.40%
    guard_evaluate(now=timezone.now())
    hold = standing_hold(cast.alice_clinic)
    assert hold.why == (
        "Spam complaints reached 0.40% of 5015 emails in the last 7 days (hold at 0.3%)."
    )
    assert hold.complaints == 20


@pytest.mark.parametrize(
    "figures",
    [
        {"delivered": 179, "bounced": 20},  # 199 sends, 10%
        {"delivered": 996, "complained": 4},  # 4 complaints, 0.4%
    ],
)
def test_too_little_evidence_does_nothing(cast, figures):
    mail(cast.alice_clinic, **figures)
    guard_evaluate(now=timezone.now())
    assert warnings(cast.alice_clinic) == []
    assert standing_hold(cast.alice_clinic) is None
    assert notes(cast.alice_admin) == []


def test_emails_outside_the_window_do_not_count(cast):
    mail(cast.alice_clinic, delivered=180, bounced=20, created_at=timezone.now() - timedelta(8))
    guard_evaluate(now=timezone.now())
    assert warnings(cast.alice_clinic) == []


def test_a_clinic_on_its_own_smtp_server_is_warned_never_held(cast):
    own_smtp(cast.alice_clinic)
    mail(cast.alice_clinic, delivered=180, bounced=20)
    guard_evaluate(now=timezone.now())
    assert {w.level for w in warnings(cast.alice_clinic)} == {"warning", "hold"}
    assert standing_hold(cast.alice_clinic) is None
    assert "its own mail server, so nothing is held" in notes(cast.alice_admin)[0]
    with scopes_disabled():
        MailHoldFactory(clinic=cast.alice_clinic)  # even a hold left from before the move
    assert not mail_held(clinic=cast.alice_clinic, address="new@example.test")


def test_another_clinic_is_untouched_and_sees_nothing(cast, client):
    charlie_admin = MembershipFactory(
        clinic=cast.charlie_clinic, role="clinic_admin", user__email="boss@charlie.test"
    ).user
    mail(cast.charlie_clinic, delivered=300)
    mail(cast.alice_clinic, delivered=180, bounced=20)
    guard_evaluate(now=timezone.now())
    assert warnings(cast.alice_clinic) != []
    assert warnings(cast.charlie_clinic) == []
    assert standing_hold(cast.charlie_clinic) is None
    assert notes(charlie_admin) == [] and notes(cast.charlie) == []
    assert not mail_held(clinic=cast.charlie_clinic, address="new@example.test")
    client.force_login(charlie_admin)
    assert "Hard bounces" not in client.get("/notifications/").content.decode()


# --- while held --------------------------------------------------------------------------------


@pytest.fixture
def held(cast):
    """Alice's clinic under a hold; Bob's address was delivered to before."""
    with scopes_disabled():
        hold = MailHoldFactory(clinic=cast.alice_clinic)
        DeliveredAddressFactory(clinic=cast.alice_clinic, address="bob@example.test")
    return hold


def test_mail_to_an_address_reached_before_goes_out_and_a_new_one_is_held(cast, held):
    newcomer = ClientFactory(clinic=cast.alice_clinic, email="New.Comer@example.test")
    with scopes_disabled():
        to_bob = email_prepare(client=cast.bob, kind="direct_message", sent_by=cast.alice)
        to_new = email_prepare(client=newcomer, kind="direct_message", sent_by=cast.alice)
    assert to_bob.status == EmailStatus.SENDING
    assert to_new.status == EmailStatus.HELD
    assert to_new.refusal == ""
    assert to_new.reason.startswith("Too many of this clinic's recent emails")
    # Why, in its reason; what happens next, with the days, in its status's words.
    assert "If it is urgent, contact the client another way." in to_new.reason
    assert "goes out by itself if support lifts the pause within 3 days" in status_help("held")
    assert mail_held(clinic=cast.alice_clinic, address="NEW.comer@example.test")
    assert not mail_held(clinic=cast.alice_clinic, address="BOB@example.test")


def test_a_held_appointment_email_tells_the_practitioner(cast, held):
    from tests.factories import AppointmentFactory

    newcomer = ClientFactory(clinic=cast.alice_clinic, email="new@example.test")
    with scopes_disabled():
        appointment = AppointmentFactory(client=newcomer, practitioner=cast.alice)
        email = email_prepare(
            client=newcomer, kind="appointment_confirmation", appointment=appointment
        )
    assert email.status == EmailStatus.HELD
    [told] = notes(cast.alice)
    assert told.startswith("Appointment confirmation to")
    assert "was held, not sent yet" in told
    # A release after HELD_EMAIL_MAX_DAYS fails it: the notice promises no more than that.
    assert (
        "It goes out by itself if support lifts the pause within 3 days of its writing; after "
        "that it is not sent, and you can send it again." in told
    )
    assert "when the pause is lifted" not in told


def test_an_email_queued_before_the_hold_is_held_at_delivery_without_calling_the_esp(cast):
    newcomer = ClientFactory(clinic=cast.alice_clinic, email="new@example.test")
    with scopes_disabled():
        email = email_prepare(client=newcomer, kind="direct_message", sent_by=cast.alice)
        assert email.status == EmailStatus.SENDING
        MailHoldFactory(clinic=cast.alice_clinic)
        delivery = email_deliver(email_id=email.pk)
        email.refresh_from_db()
    assert delivery.outcome == "held"
    assert email.status == EmailStatus.HELD
    assert (email.attempts, email.claimed_until, email.esp_message_id) == (0, None, "")
    assert len(outbox_mail.outbox) == 0


@pytest.mark.parametrize("known", ["delivered before", "own SMTP"])
def test_at_delivery_a_known_address_or_an_own_server_is_not_held(cast, known):
    """The claim reads the hold rule in its own statement: the same exceptions as `mail_held`
    (an address reached before, in any case; a clinic on its own server)."""
    newcomer = ClientFactory(clinic=cast.alice_clinic, email="Known.Patient@example.test")
    with scopes_disabled():
        email = email_prepare(client=newcomer, kind="direct_message", sent_by=cast.alice)
        MailHoldFactory(clinic=cast.alice_clinic)
        if known == "delivered before":
            DeliveredAddressFactory(clinic=cast.alice_clinic, address="known.patient@example.test")
        else:
            cast.alice_clinic.sending_connection = cast.alice_clinic.Connection.OWN_SMTP
            cast.alice_clinic.save()
        assert not mail_held(clinic=cast.alice_clinic, address=newcomer.email)
        delivery = email_deliver(email_id=email.pk)
    assert delivery.outcome != "held"


def test_held_emails_are_outside_the_quota_the_sweeper_and_the_stuck_flag(cast, held, settings):
    settings.DAILY_SEND_QUOTA = 3
    long_ago = timezone.now() - timedelta(hours=2)
    with scopes_disabled():
        held_emails = OutboundEmailFactory.create_batch(3, client=cast.bob, status=EmailStatus.HELD)
        OutboundEmail.objects.filter(pk__in=[e.pk for e in held_emails]).update(
            created_at=long_ago, status_changed_at=long_ago
        )
        assert not daily_quota_reached(cast.alice_clinic)
        assert list(outbox_stuck(now=timezone.now(), older_than=timedelta(minutes=1))) == []
        assert stuck_emails_flag(now=timezone.now()) == 0
        assert not OutboundEmail.objects.filter(flagged_stuck_at__isnull=False).exists()
        # Released a moment ago: written two hours ago, yet not late, neither for the sweeper
        # nor for the stuck flag; once it has waited in `sending` as long, it is.
        OutboundEmail.objects.filter(pk=held_emails[0].pk).update(
            status=EmailStatus.SENDING, status_changed_at=timezone.now()
        )
        assert list(outbox_stuck(now=timezone.now(), older_than=timedelta(minutes=1))) == []
        assert stuck_emails_flag(now=timezone.now()) == 0
        later = timezone.now() + timedelta(minutes=11)
        assert len(outbox_stuck(now=later, older_than=timedelta(minutes=1))) == 1
        assert stuck_emails_flag(now=later) == 1


def test_an_esp_event_naming_a_held_email_does_not_move_it(cast, held, client):
    with scopes_disabled():
        email = OutboundEmailFactory(
            client=cast.bob, status=EmailStatus.HELD, reason="Held, not sent yet."
        )
    mailgun_hard_bounce(client, email)
    with scopes_disabled():
        email.refresh_from_db()
    assert email.status == EmailStatus.HELD


def test_the_send_page_and_the_api_say_held(cast, held, client):
    newcomer = ClientFactory(clinic=cast.alice_clinic, email="new@example.test")
    client.force_login(cast.alice)
    response = client.post(
        f"/clients/{newcomer.pk}/emails/send/",
        {
            "kind": "direct_message",
            "direct_message-subject": "Hello",
            "direct_message-body": "See you soon.",
        },
        follow=True,
    )
    page = response.content.decode()
    assert "was held, not sent yet" in page
    assert "is on its way" not in page
    _, token = AuthToken.objects.create(user=cast.alice)
    api_client = APIClient()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    api = api_client.post(
        f"/api/clients/{newcomer.pk}/emails",
        {"kind": "direct_message", "subject": "Hello", "body": "See you soon."},
        format="json",
    )
    assert api.status_code == 202
    assert api.json()["status"] == "held"
    assert api.json()["reason"].startswith("Too many of this clinic's recent emails")


# --- release -----------------------------------------------------------------------------------


def held_email(clinic, *, age: timedelta, sent_by=None):
    with scopes_disabled():
        email = OutboundEmailFactory(
            client=ClientFactory(clinic=clinic),
            status=EmailStatus.HELD,
            reason="Held, not sent yet.",
            sent_by=sent_by,
        )
        OutboundEmail.objects.filter(pk=email.pk).update(created_at=timezone.now() - age)
    return email


def test_a_release_sends_fresh_held_emails_once_and_fails_old_ones_with_words(
    cast, held, django_capture_on_commit_callbacks
):
    fresh = held_email(cast.alice_clinic, age=timedelta(days=1))
    old = held_email(cast.alice_clinic, age=timedelta(days=4), sent_by=cast.alice)
    charlies = held_email(cast.charlie_clinic, age=timedelta(hours=1))
    assert held_emails_counts(clinic=cast.alice_clinic).__dict__ == {"sent": 1, "failed": 1}
    with django_capture_on_commit_callbacks() as published:
        released = hold_release(hold=held, by=cast.support, reason="Clinic removed its old list.")
    assert (released.sent, released.failed) == (1, 1)
    assert len(published) == 1  # one chunk to the broker
    with scopes_disabled():
        fresh.refresh_from_db(), old.refresh_from_db(), charlies.refresh_from_db()
        held.refresh_from_db()
        entry = AuditEntry.objects.get(action="released_mail_hold")
    assert fresh.status == EmailStatus.SENDING and fresh.reason == ""
    assert old.status == EmailStatus.FAILED and old.failure_cause == "sender"
    assert old.reason == (
        "Held while the clinic's mail to new addresses was on hold, and not sent: it was more "
        "than 3 days old when the hold was released. Send it again if it is still needed."
    )
    assert charlies.status == EmailStatus.HELD  # another clinic's hold is its own
    assert held.released_by == cast.support and held.release_reason.startswith("Clinic removed")
    assert entry.clinic == cast.alice_clinic and entry.detail["sent"] == 1
    assert "1 held email is being sent now" in notes(cast.alice_admin)[0]
    assert any("failed" in text for text in notes(cast.alice))

    with pytest.raises(ReleaseRefused), django_capture_on_commit_callbacks() as again:
        hold_release(hold=held, by=cast.support, reason="Again.")
    assert again == []


def test_a_release_needs_a_reason(cast, held):
    with pytest.raises(ReleaseRefused):
        hold_release(hold=held, by=cast.support, reason="  ")
    assert standing_hold(cast.alice_clinic) == held


def test_the_same_figures_do_not_hold_again_after_a_release_but_new_ones_do(cast):
    mail(cast.alice_clinic, delivered=180, bounced=20)
    guard_evaluate(now=timezone.now())
    hold = standing_hold(cast.alice_clinic)
    hold_release(hold=hold, by=cast.support, reason="Old list removed.")
    guard_evaluate(now=timezone.now())
    guard_evaluate(now=timezone.now() + timedelta(minutes=1))
    assert standing_hold(cast.alice_clinic) is None
    tomorrow = timezone.now() + timedelta(days=1)
    mail(cast.alice_clinic, delivered=180, bounced=20, created_at=tomorrow)
    guard_evaluate(now=tomorrow)
    assert standing_hold(cast.alice_clinic) is not None


def test_emails_handed_over_after_a_release_hold_again_whatever_day_they_were_written(cast):
    """The released emails are the riskiest (addresses never reached), and were written before
    the release: their bounces count toward the next hold, the old figures alone do not."""
    mail(cast.alice_clinic, delivered=180, bounced=20)
    guard_evaluate(now=timezone.now())
    hold_release(hold=standing_hold(cast.alice_clinic), by=cast.support, reason="Old list gone.")
    with scopes_disabled():
        released_at = MailHold.objects.get(clinic=cast.alice_clinic).released_at
    guard_evaluate(now=released_at + timedelta(minutes=1))
    assert standing_hold(cast.alice_clinic) is None  # the figures it was given

    two_days_ago = released_at - timedelta(days=2)
    after = released_at + timedelta(minutes=5)
    mail(cast.alice_clinic, delivered=300, bounced=300, created_at=two_days_ago, sent_at=after)
    mail(cast.charlie_clinic, delivered=300, created_at=two_days_ago, sent_at=after)
    guard_evaluate(now=released_at + timedelta(minutes=10))
    hold = standing_hold(cast.alice_clinic)
    assert (hold.sends, hold.bounces) == (600, 300)
    assert hold.why.startswith("Hard bounces reached 50.0% of 600 emails sent since the last hold")
    assert standing_hold(cast.charlie_clinic) is None


def test_figures_from_before_a_release_do_not_hold_again_within_the_window(cast):
    mail(cast.alice_clinic, delivered=180, bounced=20)
    guard_evaluate(now=timezone.now())
    hold_release(hold=standing_hold(cast.alice_clinic), by=cast.support, reason="Reviewed.")
    # More of the same days' bad figures, handed over before the release: still not a hold.
    with scopes_disabled():
        released_at = MailHold.objects.get(clinic=cast.alice_clinic).released_at
    mail(cast.alice_clinic, bounced=50, sent_at=released_at - timedelta(minutes=1))
    for days in (0, 3, 6):
        guard_evaluate(now=released_at + timedelta(days=days))
    assert standing_hold(cast.alice_clinic) is None


def test_a_release_older_than_the_window_leaves_the_day_counts_to_decide(cast):
    with scopes_disabled():
        MailHoldFactory(clinic=cast.alice_clinic, released_at=timezone.now() - timedelta(days=9))
    mail(cast.alice_clinic, delivered=180, bounced=20)
    guard_evaluate(now=timezone.now())
    hold = standing_hold(cast.alice_clinic)
    assert hold.why == "Hard bounces reached 10.0% of 200 emails in the last 7 days (hold at 8%)."


def test_a_released_emails_second_enqueue_sends_it_once(cast, held):
    """The conditional UPDATE and the claim: a released email enqueued twice goes once."""
    fresh = held_email(cast.alice_clinic, age=timedelta(hours=1))
    with scopes_disabled():
        DeliveredAddressFactory(clinic=cast.alice_clinic, address=fresh.to_email)
    hold_release(hold=held, by=cast.support, reason="Reviewed.")
    with scopes_disabled():
        fresh.refresh_from_db()
        emails_enqueue(emails=[fresh, fresh])
        first = email_deliver(email_id=fresh.pk)
        second = email_deliver(email_id=fresh.pk)
    assert (first.outcome, second.outcome) == ("sent", "skipped")


def test_direct_message_send_while_held_is_saved_not_refused(cast, held):
    newcomer = ClientFactory(clinic=cast.alice_clinic, email="new@example.test")
    with scopes_disabled():
        email = direct_message_send(client=newcomer, subject="Hi", body="Hi", sent_by=cast.alice)
        assert OutboundEmail.objects.get(pk=email.pk).status == EmailStatus.HELD


# --- the window, the addresses, the beat task --------------------------------------------------


def test_the_window_is_the_last_7_days_on_each_clinics_own_clock(cast):
    """At 12:00 UTC on 30 November it is already 1 December in Auckland: its window starts on
    25 November, London's on the 24th. Emails of 10:30 UTC on the 24th (23:30 in Auckland, on
    the 24th) count for London only."""
    auckland = cast.charlie_clinic
    auckland.time_zone = "Pacific/Auckland"
    auckland.save()
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    for clinic in (cast.alice_clinic, auckland):
        mail(
            clinic, delivered=180, bounced=20, created_at=datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
        )
    guard_evaluate(now=now)
    assert warnings(cast.alice_clinic) != []
    assert warnings(auckland) == []
    guard_evaluate(now=now - timedelta(hours=1))  # 00:00 on 1 December in Auckland: still out
    assert warnings(auckland) == []
    guard_evaluate(now=now - timedelta(hours=2))  # 23:00 on 30 November there: in the window
    assert warnings(auckland) != []


def test_a_warning_names_at_most_50_addresses(cast):
    mail(cast.alice_clinic, delivered=500, bounced=60)
    guard_evaluate(now=timezone.now())
    [warning, _] = warnings(cast.alice_clinic)
    addresses = warning.addresses.splitlines()
    assert len(addresses) == 50 == len(set(addresses))
    assert all(address.startswith("failed-") for address in addresses)


def test_the_beat_task_folds_the_counts_then_weighs_them(cast):
    from config.celery import app
    from messaging.models import EmailCountChange
    from messaging.reputation.tasks import reputation_guard_task

    entry = app.conf.beat_schedule["reputation-guard"]
    assert (entry["task"], entry["schedule"]) == ("messaging.tasks.reputation_guard_task", 60.0)
    assert entry["task"] in app.tasks
    mail(cast.alice_clinic, delivered=180, bounced=20)
    with scopes_disabled():
        assert EmailCountChange.objects.exists()
    done = reputation_guard_task()
    assert done == {"warned": 2, "ended": 0, "held": 1, "unheld": 0}
    with scopes_disabled():
        assert not EmailCountChange.objects.exists()
    assert standing_hold(cast.alice_clinic) is not None


# --- the safety net: held emails with no hold standing ----------------------------------------


def test_an_email_held_as_the_release_committed_is_sent_by_the_next_beat_run_once(
    cast, held, django_capture_on_commit_callbacks
):
    """The race, in order: support's release commits, then an email whose sender read the hold
    before it commits `held`. Nothing else would ever move it."""
    from messaging.reputation.tasks import reputation_guard_task

    hold_release(hold=held, by=cast.support, reason="Reviewed.")
    late = held_email(cast.alice_clinic, age=timedelta(minutes=1))
    too_old = held_email(cast.alice_clinic, age=timedelta(days=4), sent_by=cast.alice)
    with scopes_disabled():
        charlies_hold = MailHoldFactory(clinic=cast.charlie_clinic)
    charlies = held_email(cast.charlie_clinic, age=timedelta(minutes=1))

    with django_capture_on_commit_callbacks(execute=False) as published:
        done = reputation_guard_task()
    assert done["unheld"] == 2
    assert len(published) == 1  # the late email, to the broker
    with scopes_disabled():
        late.refresh_from_db(), too_old.refresh_from_db(), charlies.refresh_from_db()
    assert (late.status, late.reason) == (EmailStatus.SENDING, "")
    assert too_old.status == EmailStatus.FAILED and "more than 3 days old" in too_old.reason
    assert any("failed" in text for text in notes(cast.alice))  # its sender is told
    assert charlies.status == EmailStatus.HELD  # a clinic still held keeps its held emails
    assert standing_hold(cast.charlie_clinic) == charlies_hold

    with django_capture_on_commit_callbacks(execute=False) as again:
        assert reputation_guard_task()["unheld"] == 0
    assert again == []
    with scopes_disabled():
        delivery = email_deliver(email_id=late.pk)
    assert delivery.outcome == "sent"


def test_the_safety_net_reads_held_emails_through_their_index(cast, held):
    """Each minute, the held emails only: never a scan of the email table."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from messaging.reputation.guard import held_emails_unheld

    hold_release(hold=held, by=cast.support, reason="Reviewed.")
    with CaptureQueriesContext(connection) as queries:
        held_emails_unheld(now=timezone.now())
    first = queries.captured_queries[0]["sql"]
    assert "\"status\" = 'held'" in first
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + first)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "email_held" in plan, plan
