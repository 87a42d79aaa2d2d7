"""The one-off review of past suppressions: each is re-read from the events that made it, with
the current rules; those the rules would not make now are listed, and with --apply lifted through
the reactivation service, by the system user, and each clinic concerned is told once. Clients
stay opted out."""

import io
import json

import pytest
from django.core.management import call_command
from django.test import RequestFactory
from django_scopes import scopes_disabled

from clinic.models import Client, Clinic, Membership, User
from messaging.models import EmailEvent, OutboundEmail
from messaging.tracking.consequences import email_suppress_consequences
from notifications.models import Notification
from notifications.rendering import notification_render
from suppression.management.commands.suppressions_review import (
    SYSTEM_USER_EMAIL,
    suppression_lift,
    suppressions_review,
    system_user,
)
from suppression.models import EspRemoval, Suppression, SuppressionHistory, SuppressionReason
from suppression.services import Refused, suppression_record
from tests.factories import ClientFactory, MembershipFactory
from tests.tracking.helpers import FIXTURES

HARD = SuppressionReason.HARD_BOUNCE
SPAM = SuppressionReason.SPAM_COMPLAINT
REJECTED = SuppressionReason.ESP_REJECTED


@pytest.fixture(autouse=True)
def platform_on_mailgun(settings):
    settings.EMAIL_ESP = "mailgun"


def anymail_event(esp: str, name: str):
    """The fixture's first event as anymail's view for the ESP parses it, as the webhook did."""
    from messaging.tracking import webhooks

    view = {
        "mailgun": webhooks.MailgunTracking,
        "postmark": webhooks.PostmarkTracking,
        "amazon_ses": webhooks.AmazonSESTracking,
        "sendgrid": webhooks.SendGridTracking,
    }[esp]
    body = (FIXTURES / esp / f"{name}.json").read_text()
    headers = {}
    if esp == "amazon_ses":
        envelope = json.loads(body)
        headers = {
            "HTTP_X_AMZ_SNS_MESSAGE_TYPE": envelope["Type"],
            "HTTP_X_AMZ_SNS_MESSAGE_ID": envelope["MessageId"],
        }
    request = RequestFactory().post("/", data=body, content_type="application/json", **headers)
    return view().parse_events(request)[0]


def addressed(value, address: str):
    """The fixture's event with its recipient (bob@example.test) replaced by `address`."""
    return json.loads(json.dumps(value).replace("bob@example.test", address))


def suppressed_by(cast, client, *, esp: str, fixture: str, reason: str) -> Suppression:
    """A suppression as the rules of the time made it: the event stored with that reason, then
    the consequences of a permanent failure applied, as the drain applies them."""
    parsed = anymail_event(esp, fixture)
    with scopes_disabled():
        email = OutboundEmail.objects.create(
            clinic=client.clinic,
            client=client,
            to_email=client.email,
            subject="Your appointment",
            body_text="See you soon",
            esp=esp,
            status="failed",
            sent_by=cast.alice,
        )
        event = EmailEvent.objects.create(
            clinic=client.clinic,
            email=email,
            esp=esp,
            event_type=parsed.event_type,
            status="spam_report" if reason == SPAM else "failed",
            suppress=reason,
            recipient=client.email,
            mta_response=parsed.mta_response or "",
            dedup_key=f"{fixture}:{client.email}",
            raw=addressed(parsed.esp_event, client.email),
        )
        email_suppress_consequences(
            email_id=email.id, reason=reason, diagnostic=event.words, source_event_id=event.id
        )
    return Suppression.objects.get(address=client.email, stream=esp)


def refused_at_send_time(client) -> Suppression:
    """A suppression made when the ESP refused the address at send time: no event."""
    with scopes_disabled():
        email = OutboundEmail.objects.create(
            clinic=client.clinic,
            client=client,
            to_email=client.email,
            subject="Invoice",
            body_text="Attached",
            esp="postmark",
            status="failed",
        )
        email_suppress_consequences(
            email_id=email.id, reason=REJECTED, diagnostic="406 Inactive recipient"
        )
    return Suppression.objects.get(address=client.email, stream="postmark")


@pytest.fixture
def past(cast):
    """Two mistakes of earlier rules, two suppressions the documented rules make too, and one
    made at send time."""
    with scopes_disabled():
        carol, dave, erin, frank = (
            ClientFactory(clinic=cast.alice_clinic, name=name, email=f"{name.lower()}@example.test")
            for name in ("Carol", "Dave", "Erin", "Frank")
        )
    return {
        "espblock": suppressed_by(
            cast, cast.bob, esp="mailgun", fixture="failed_permanent_espblock", reason=HARD
        ),
        "soft_bounce": suppressed_by(
            cast, carol, esp="postmark", fixture="bounce_soft", reason=HARD
        ),
        "hard_bounce": suppressed_by(
            cast, dave, esp="postmark", fixture="bounce_hard", reason=HARD
        ),
        "spam_complaint": suppressed_by(
            cast, erin, esp="mailgun", fixture="complained", reason=SPAM
        ),
        "send_time": refused_at_send_time(frank),
    }


def review(*args) -> str:
    out = io.StringIO()
    call_command("suppressions_review", *args, stdout=out)
    return out.getvalue()


def active(*suppressions) -> list[bool]:
    return [Suppression.objects.get(pk=s.pk).active for s in suppressions]


def notes_to(user) -> list[Notification]:
    with scopes_disabled():
        return list(Notification.objects.filter(recipient=user).order_by("pk"))


def test_a_dry_run_lists_the_mistakes_and_changes_nothing(cast, past):
    notes_before = notes_to(cast.alice_admin)
    out = review()
    assert "5 active suppressions reviewed" in out
    assert "Would lift (dry run: nothing is changed; --apply lifts): 2" in out
    assert (
        "bob@example.test on mailgun (hard_bounce, event "
        f"{past['espblock'].source_event_id}): Mailgun's failed event (permanent, espblock, "
        "5.7.1) was a failure of ours (our sending reputation, policy, content or request), "
        "not of the address"
    ) in out
    assert (
        "carol@example.test on postmark (hard_bounce, event "
        f"{past['soft_bounce'].source_event_id}): Postmark's Bounce event (SoftBounce) was a "
        "temporary failure after which the provider stopped trying; nothing is wrong with the "
        "address"
    ) in out
    assert "dave@example.test" not in out and "erin@example.test" not in out
    assert "Kept, the documented rules make them too: 2" in out
    assert "Left alone: 1 with no source event" in out
    assert active(*past.values()) == [True] * 5
    assert not SuppressionHistory.objects.filter(action="reactivated").exists()
    assert not User.objects.filter(email=SYSTEM_USER_EMAIL).exists()
    assert notes_to(cast.alice_admin) == notes_before


def test_apply_lifts_the_mistakes_by_the_system_user_and_tells_the_clinic_once(cast, past):
    practitioner_notes = notes_to(cast.alice)
    out = review("--apply")
    assert "Lifted 2" in out
    assert "2 clinic admin notifications" in out

    assert active(*past.values()) == [False, False, True, True, True]
    lifted = [Suppression.objects.get(pk=past[k].pk) for k in ("espblock", "soft_bounce")]
    assert [s.esp_removal for s in lifted] == [EspRemoval.PENDING] * 2
    history = {h.suppression_id: h for h in SuppressionHistory.objects.filter(action="reactivated")}
    assert set(history) == {past["espblock"].pk, past["soft_bounce"].pk}
    system = User.objects.get(email=SYSTEM_USER_EMAIL)
    assert not system.is_active and not system.has_usable_password()
    assert str(system) == "Suppressions review (system)"
    assert {h.actor for h in history.values()} == {system}
    assert history[past["espblock"].pk].why == (
        "Reviewed: Mailgun's failed event (permanent, espblock, 5.7.1) was a failure of ours "
        "(our sending reputation, policy, content or request), not of the address under the "
        "documented rules"
    )
    assert history[past["soft_bounce"].pk].why.startswith(
        "Reviewed: Postmark's Bounce event (SoftBounce) was a temporary failure"
    )

    notes = notes_to(cast.alice_admin)
    assert len(notes) == 2
    with scopes_disabled():
        assert [(n.clinic, n.client.email) for n in notes] == [
            (cast.alice_clinic, "bob@example.test"),
            (cast.alice_clinic, "carol@example.test"),
        ]
        emails = [past[k].source_email_id for k in ("espblock", "soft_bounce")]
        assert [n.email_id for n in notes] == emails
    assert notes[0].text.startswith(
        'bob@example.test is no longer suppressed on Mailgun. It had been suppressed as "Hard '
        "bounce\", which the provider's documentation does not support: Mailgun's failed event"
    )
    assert "Bob Brown stays opted out of appointment emails: consent is the clinic's to " in (
        notes[0].text
    )
    assert notes_to(cast.alice) == practitioner_notes  # the owner heard at suppression time

    with scopes_disabled():  # consent is the clinic's to restore
        assert not Client.objects.get(email="bob@example.test").appointment_comms
        assert not Client.objects.get(email="carol@example.test").appointment_comms


def test_a_second_run_changes_nothing(cast, past):
    review("--apply")
    history = list(SuppressionHistory.objects.values_list("pk", flat=True))
    notes = notes_to(cast.alice_admin)
    out = review("--apply")
    assert "To lift: 0" in out
    assert "Lifted 0" in out
    assert list(SuppressionHistory.objects.values_list("pk", flat=True)) == history
    assert notes_to(cast.alice_admin) == notes
    assert active(*past.values()) == [False, False, True, True, True]
    assert User.objects.filter(email=SYSTEM_USER_EMAIL).count() == 1


def test_a_suppression_a_later_event_still_makes_is_kept(cast):
    """A real hard bounce, then an espblock on another email that suppressed the address again
    (and became its source): the hard bounce still makes it."""
    suppressed_by(cast, cast.bob, esp="mailgun", fixture="failed_permanent_bounce", reason=HARD)
    suppression = suppressed_by(
        cast, cast.bob, esp="mailgun", fixture="failed_permanent_espblock", reason=HARD
    )
    with scopes_disabled():
        source = EmailEvent.objects.get(pk=suppression.source_event_id)
    assert source.raw["event-data"]["reason"] == "espblock"
    out = review("--apply")
    assert "To lift: 0" in out
    assert "Kept, the documented rules make them too: 1" in out
    assert active(suppression) == [True]


def test_a_suppression_also_refused_at_send_time_is_left_alone(cast):
    """A policy block made it, then the ESP refused the address at send time: the refusal
    stands."""
    suppression = suppressed_by(
        cast, cast.bob, esp="postmark", fixture="bounce_hard_policy", reason=HARD
    )
    refused_at_send_time(cast.bob)
    out = review("--apply")
    assert "To lift: 0" in out
    assert "1 also suppressed by a refusal at send time or by hand" in out
    assert active(suppression) == [True]


def test_the_reactivation_services_refusal_is_reported_not_bypassed(cast):
    """A complaint SES says is not spam was a spam complaint under the earlier rules; lifting a
    spam complaint needs the client's own request, which a review does not have."""
    suppression = suppressed_by(
        cast, cast.bob, esp="amazon_ses", fixture="complaint_not_spam", reason=SPAM
    )
    out = review("--apply")
    assert "To lift: 1" in out
    assert "Lifted 0" in out
    assert (
        "Not lifted: bob@example.test on amazon_ses: A spam complaint is lifted only on the "
        "client's own request"
    ) in out
    assert active(suppression) == [True]
    assert notes_to(cast.alice_admin) == []


def test_a_suppression_made_again_after_the_review_is_not_lifted(cast):
    suppressed_by(cast, cast.bob, esp="mailgun", fixture="failed_permanent_espblock", reason=HARD)
    with scopes_disabled():
        [finding] = suppressions_review().to_lift
    suppression_record(address="bob@example.test", stream="mailgun", reason=REJECTED)
    with pytest.raises(Refused, match="suppressed again since it was reviewed"):
        suppression_lift(finding, actor=system_user())
    assert active(finding.suppression) == [True]


def test_every_clinic_mailing_the_address_on_that_stream_is_told(cast):
    with scopes_disabled():
        charlie_admin = MembershipFactory(
            clinic=cast.charlie_clinic, role=Membership.Role.CLINIC_ADMIN
        ).user
        ClientFactory(clinic=cast.charlie_clinic, name="Bob Elsewhere", email="bob@example.test")
    suppressed_by(cast, cast.bob, esp="mailgun", fixture="failed_permanent_espblock", reason=HARD)
    review("--apply")
    [alice_note], [charlie_note] = notes_to(cast.alice_admin), notes_to(charlie_admin)
    with scopes_disabled():
        assert charlie_note.clinic == cast.charlie_clinic
        assert charlie_note.client.name == "Bob Elsewhere"
        assert charlie_note.email_id is None  # the email was Alice's clinic's
    assert "Bob Brown" in alice_note.text and "Bob Brown" not in charlie_note.text
    assert "Any client opted out of appointment emails because of it stays opted out" in (
        charlie_note.text
    )
    # Least disclosure: the reason and the event only for the clinic whose email caused it.
    assert '"Hard bounce"' in alice_note.text and "Mailgun's failed event" in alice_note.text
    assert "It had been suppressed in error." in charlie_note.text
    assert "Hard bounce" not in charlie_note.text and "failed event" not in charlie_note.text


def test_the_notification_text():
    text = notification_render(
        "suppression_lifted",
        {
            "address": "bob@example.test",
            "provider": "Postmark",
            "disclosed": True,
            "reason": "Hard bounce",
            "why": "Postmark's Bounce event (SoftBounce) was a temporary failure",
            "opted_out": ["Bob O'Brien", "Robert Brown"],
        },
        clinic=Clinic(name="Alice Physio", time_zone="Europe/London"),
    )
    assert text == (
        'bob@example.test is no longer suppressed on Postmark. It had been suppressed as "Hard '
        "bounce\", which the provider's documentation does not support: Postmark's Bounce event "
        "(SoftBounce) was a temporary failure. Bob O'Brien, Robert Brown stay opted out of "
        "appointment emails: consent is the clinic's to restore. Check with the client, then "
        "opt them back in on their page."
    )


def test_every_clinic_whose_email_caused_it_is_told_why_though_the_review_read_one_event(cast):
    """Both clinics' emails met the same mistaken refusal; the lift tells each its reason,
    though it forgets the causes as it lifts."""
    with scopes_disabled():
        charlie_admin = MembershipFactory(
            clinic=cast.charlie_clinic, role=Membership.Role.CLINIC_ADMIN
        ).user
        bo = ClientFactory(clinic=cast.charlie_clinic, name="Bo", email="bob@example.test")
    suppressed_by(cast, cast.bob, esp="mailgun", fixture="failed_permanent_espblock", reason=HARD)
    suppressed_by(cast, bo, esp="mailgun", fixture="failed_temporary_espblock", reason=HARD)
    review("--apply")
    [alice_note], [charlie_note] = notes_to(cast.alice_admin), notes_to(charlie_admin)
    for note in (alice_note, charlie_note):
        assert '"Hard bounce"' in note.text, note.text
        assert "suppressed in error" not in note.text
