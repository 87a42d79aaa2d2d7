"""Consent is per clinic and person: a clinic's own suppressions follow it onto its own SMTP
server; other clinics' suppressions guard only the platform's shared stream; and a clinic is told
the reason, date and the provider's words only of suppressions its own emails caused."""

import pytest
from django_scopes import scope, scopes_disabled

from messaging.models import OutboundEmail
from messaging.sending.triggers import direct_message_send
from messaging.status import EmailStatus
from messaging.tracking.consequences import email_suppress_consequences
from suppression.models import Refusal, Suppression, SuppressionReason
from suppression.selectors import (
    OTHER_CLINICS_ONLY_WORDS,
    UNDISCLOSED_WORDS,
    address_permission,
)
from suppression.services import Refused, client_opt_in, suppression_reactivate
from tests.factories import ClientFactory, OutboundEmailFactory

DIAGNOSTIC = "550 5.7.1 complaint from mx.alice-mail.test for bob@example.test"


def permanent_failure(client, reason=SuppressionReason.SPAM_COMPLAINT, diagnostic=DIAGNOSTIC):
    """One of the client's clinic's emails to them fails for good, as a webhook would tell it."""
    with scopes_disabled():
        email = OutboundEmailFactory(client=client)
        assert email_suppress_consequences(email_id=email.id, reason=reason, diagnostic=diagnostic)
        return Suppression.objects.get(address=client.email)


def complaint_of_alices_email(cast) -> Suppression:
    """Bob reports one of Alice's clinic's emails as spam."""
    return permanent_failure(cast.bob)


def own_smtp(clinic):
    clinic.sending_connection = "own_smtp"
    clinic.smtp_host, clinic.smtp_from_email = "smtp.clinic.test", "desk@clinic.test"
    clinic.save()


def charlies_client_at_bobs_address(cast):
    with scopes_disabled():
        return ClientFactory(clinic=cast.charlie_clinic, name="Bo Brown", email="bob@example.test")


def preferences(client, user, person) -> str:
    """The client summary's communication preferences, as the user sees them."""
    client.force_login(user)
    page = client.get(f"/clients/{person.pk}/").content.decode()
    start = page.index('id="communication"')
    return page[start : page.index("</section>", start)]


def send(clinic, client, user) -> OutboundEmail:
    with scope(clinic=clinic):
        return direct_message_send(client=client, subject="Hi", body="x", sent_by=user)


def test_the_complaint_is_kept_as_caused_by_the_clinic_whose_email_drew_it(cast):
    suppression = complaint_of_alices_email(cast)
    with scopes_disabled():
        assert list(suppression.caused_by.all()) == [cast.alice_clinic]
        [cause] = suppression.causes.all()
    assert (cause.reason, cause.diagnostic) == (SuppressionReason.SPAM_COMPLAINT, DIAGNOSTIC)


def test_each_clinic_is_told_its_own_part_only(cast, client):
    """Alice's email to the address bounced; then Charlie's drew a complaint: one suppression,
    two parts, each clinic told its own."""
    bo = charlies_client_at_bobs_address(cast)
    permanent_failure(cast.bob, SuppressionReason.HARD_BOUNCE, "550 5.1.1 no mailbox (alice)")
    permanent_failure(bo, SuppressionReason.SPAM_COMPLAINT, "abuse report (charlie)")

    alices = preferences(client, cast.alice, cast.bob)
    assert "Hard bounce since" in alices and "550 5.1.1 no mailbox (alice)" in alices
    assert "Spam complaint" not in alices and "abuse report (charlie)" not in alices
    charlies = preferences(client, cast.charlie, bo)
    assert "Spam complaint since" in charlies and "abuse report (charlie)" in charlies
    assert "Hard bounce" not in charlies and "(alice)" not in charlies


def test_a_lifted_suppression_forgets_its_causes(cast, client):
    """Support lifted Alice's bounce; Charlie's complaint later is Charlie's alone: Alice is told
    nothing of it, and her own server is not stopped by it."""
    bo = charlies_client_at_bobs_address(cast)
    bounce = permanent_failure(cast.bob, SuppressionReason.HARD_BOUNCE, "550 (alice)")
    suppression_reactivate(suppression=bounce, actor=cast.support, reason="Address corrected")
    permanent_failure(bo, SuppressionReason.SPAM_COMPLAINT, "abuse report (charlie)")

    alices = preferences(client, cast.alice, cast.bob)
    assert "Cannot be emailed" in alices and "Spam complaint" not in alices
    own_smtp(cast.alice_clinic)
    assert send(cast.alice_clinic, cast.bob, cast.alice).status == EmailStatus.SENDING


def test_a_later_bounce_never_turns_a_complaint_into_something_support_may_lift(cast):
    """An email already on its way when the complaint came bounces afterwards: the address stays
    suppressed for a complaint, which only the client's own request lifts."""
    complaint = complaint_of_alices_email(cast)
    permanent_failure(cast.bob, SuppressionReason.HARD_BOUNCE, "550 5.1.1")
    complaint.refresh_from_db()
    assert complaint.reason == SuppressionReason.SPAM_COMPLAINT
    with scopes_disabled():
        assert complaint.causes.get().reason == SuppressionReason.SPAM_COMPLAINT
    with pytest.raises(Refused, match="only on the client's own request"):
        suppression_reactivate(suppression=complaint, actor=cast.support, reason="Asked")


def test_a_clinics_own_complaint_stops_it_on_its_own_smtp_server(cast, client):
    complaint_of_alices_email(cast)
    own_smtp(cast.alice_clinic)
    with scopes_disabled():
        control = ClientFactory(clinic=cast.alice_clinic, name="Ann", email="ann@example.test")

    # The control: an unsuppressed client of the same clinic is queued for its server.
    assert send(cast.alice_clinic, control, cast.alice).status == EmailStatus.SENDING
    refused = send(cast.alice_clinic, cast.bob, cast.alice)
    assert (refused.status, refused.refusal) == (EmailStatus.FAILED, Refusal.SUPPRESSED)
    assert "marked one of our emails as spam" in refused.reason

    # The complaint opted Bob out; the clinic cannot opt him back in on its own server either.
    with scope(clinic=cast.alice_clinic), pytest.raises(Refused, match="marked one of our"):
        client_opt_in(client=cast.bob, actor=cast.alice)
    page = preferences(client, cast.alice, cast.bob)
    assert "Address suppressed" in page
    assert "Spam complaint" in page
    assert "Receives appointment confirmations" not in page


def test_another_clinics_complaint_does_not_stop_a_clinic_on_its_own_server(cast, client):
    complaint_of_alices_email(cast)
    bo = charlies_client_at_bobs_address(cast)
    # On the platform's shared stream it does stop Charlie's clinic...
    assert send(cast.charlie_clinic, bo, cast.charlie).refusal == Refusal.SUPPRESSED
    # ...on its own server it does not, and the page warns without a reason.
    own_smtp(cast.charlie_clinic)
    assert send(cast.charlie_clinic, bo, cast.charlie).status == EmailStatus.SENDING
    page = preferences(client, cast.charlie, bo)
    assert OTHER_CLINICS_ONLY_WORDS.replace("'", "&#x27;") in page
    assert "Address suppressed" not in page
    assert "spam" not in page.lower()


def test_another_clinic_learns_only_that_the_address_cannot_be_emailed(cast, client):
    suppression = complaint_of_alices_email(cast)
    bo = charlies_client_at_bobs_address(cast)

    page = preferences(client, cast.charlie, bo)
    assert "Address suppressed" in page and "Cannot be emailed" in page
    for secret in ("Spam complaint", "spam", DIAGNOSTIC, f"{suppression.first_seen:%-d %b %Y}"):
        assert secret not in page
    refused = send(cast.charlie_clinic, bo, cast.charlie)
    assert refused.refusal == Refusal.SUPPRESSED
    assert refused.reason == UNDISCLOSED_WORDS

    # The clinic whose email drew the complaint is told all of it.
    page = preferences(client, cast.alice, cast.bob)
    assert "Spam complaint since" in page
    assert DIAGNOSTIC in page


def test_a_suppression_no_clinic_caused_shows_no_reason_to_any_clinic(cast):
    from suppression.services import suppression_record

    suppression_record(
        address="bob@example.test",
        stream="mailgun",
        reason=SuppressionReason.HARD_BOUNCE,
        diagnostic="550 5.1.1 no such user",
    )
    permission = address_permission(clinic=cast.alice_clinic, address="bob@example.test")
    assert (permission.refusal, permission.reason) == (Refusal.SUPPRESSED, UNDISCLOSED_WORDS)


def test_own_suppressions_follow_the_clinic_when_the_platform_moves_to_another_esp(cast, settings):
    complaint_of_alices_email(cast)  # on Mailgun
    bo = charlies_client_at_bobs_address(cast)
    settings.EMAIL_ESP = "postmark"
    assert send(cast.alice_clinic, cast.bob, cast.alice).refusal == Refusal.SUPPRESSED
    assert send(cast.charlie_clinic, bo, cast.charlie).status == EmailStatus.SENDING
