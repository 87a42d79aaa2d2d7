"""The loop closes: a practitioner hears that a suppressed or opted-out client's reminder will not
go out; staff ask support to reactivate the address; support answers in admin; the clinic whose
emails caused the suppression hears of the reactivation and opts the client back in."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from messaging.tracking.consequences import (
    email_suppress_consequences,
    email_unsubscribe_consequences,
)
from notifications.models import Notification
from suppression.models import ReactivationAsk, Suppression, SuppressionReason
from suppression.services import (
    AskRefused,
    Refused,
    client_opt_out,
    reactivation_ask_create,
    reactivation_ask_decline,
    suppression_reactivate,
)
from tests.factories import (
    AppointmentFactory,
    ClientFactory,
    MembershipFactory,
    OutboundEmailFactory,
)
from tests.otp import support_login

pytestmark = pytest.mark.usefixtures("eager_celery")

AOIFE = "Aoife O’Brien"
LUKASZ = "Łukasz Żółć"
AOIFE_AR = "أويفه أوبراين"


def notes_of(user) -> list[str]:
    with scopes_disabled():
        return list(Notification.objects.filter(recipient=user).values_list("text", flat=True))


@pytest.fixture
def aoife(cast):
    """Alice's client with an appointment with Alice on Tuesday 8 December 2026 at 09:30 in
    London (09:30 UTC: winter)."""
    with scopes_disabled():
        client = ClientFactory(clinic=cast.alice_clinic, name=AOIFE, email="aoife@example.test")
        AppointmentFactory(
            client=client,
            practitioner=cast.alice,
            start=datetime(2026, 12, 8, 9, 30, tzinfo=UTC),
        )
    return client


def bounce(client, reason=SuppressionReason.HARD_BOUNCE, **email) -> Suppression:
    with scopes_disabled():  # as a webhook's worker applies it, before any clinic's scope
        sent = OutboundEmailFactory(client=client, **email)
        assert email_suppress_consequences(
            email_id=sent.id, reason=reason, diagnostic="550 5.1.1 mailbox does not exist"
        )
    return Suppression.objects.get(address=client.email)


# --- The practitioner hears that no reminder will go out ---------------------------------------


def test_a_bounce_tells_the_appointments_practitioner_no_reminder_goes_out(cast, aoife, clock):
    clock.at = datetime(2026, 11, 30, 12, tzinfo=UTC)
    bounce(aoife)
    [note] = [n for n in notes_of(cast.alice) if n.startswith("No reminder")]
    assert note == (
        f"No reminder will go out to {AOIFE} for the appointment at Tue 8 Dec, 09:30 GMT: "
        "aoife@example.test was suppressed (hard bounce). Remind them another way, or correct "
        "their address."
    )
    with scopes_disabled():
        assert Notification.objects.get(text=note).client_id == aoife.pk


def test_the_time_is_on_the_clinics_clock(cast, clock):
    """Charlie's clinic is in Sydney: 22:00 UTC on 7 December is 09:00 AEDT on the 8th."""
    clock.at = datetime(2026, 11, 30, 12, tzinfo=UTC)
    with scopes_disabled():
        lukasz = ClientFactory(clinic=cast.charlie_clinic, name=LUKASZ, email="lz@example.test")
        AppointmentFactory(
            client=lukasz,
            practitioner=cast.charlie,
            start=datetime(2026, 12, 7, 22, tzinfo=UTC),
        )
    bounce(lukasz)
    [note] = [n for n in notes_of(cast.charlie) if n.startswith("No reminder")]
    assert "Tue 8 Dec, 09:00 AEDT" in note and LUKASZ in note


def test_an_unsubscribe_tells_the_practitioner_too(cast, aoife, clock):
    clock.at = datetime(2026, 11, 30, 12, tzinfo=UTC)
    with scopes_disabled():
        sent = OutboundEmailFactory(client=aoife)
        assert email_unsubscribe_consequences(email_id=sent.id)
        [note] = notes_of(cast.alice)
        assert "they unsubscribed from appointment emails" in note
        # A second unsubscribe changes nothing and tells nobody again.
        assert not email_unsubscribe_consequences(email_id=sent.id)
    assert len(notes_of(cast.alice)) == 1


def test_past_and_cancelled_appointments_tell_nobody(cast, clock):
    clock.at = datetime(2026, 11, 30, 12, tzinfo=UTC)
    with scopes_disabled():
        client = ClientFactory(clinic=cast.alice_clinic, name=AOIFE_AR, email="ar@example.test")
        AppointmentFactory(client=client, practitioner=cast.alice, start=clock.at - timedelta(1))
        AppointmentFactory(
            client=client,
            practitioner=cast.alice,
            start=clock.at + timedelta(days=1),
            status="cancelled",
        )
    bounce(client)
    assert not [n for n in notes_of(cast.alice) if n.startswith("No reminder")]


# --- Support reactivates: the clinics whose emails caused it are told ---------------------------


def test_reactivation_tells_the_causing_clinics_admins_and_practitioners(cast, aoife):
    with scopes_disabled():
        # Charlie's clinic has a client at the same address but its emails did not cause it.
        ClientFactory(clinic=cast.charlie_clinic, name=AOIFE, email="aoife@example.test")
    suppression = bounce(aoife, sent_by=cast.alice_admin)
    before = {u: len(notes_of(u)) for u in (cast.alice, cast.alice_admin, cast.charlie)}
    suppression_reactivate(suppression=suppression, actor=cast.support, reason="Mailbox fixed")
    for user in (cast.alice, cast.alice_admin):
        [told] = notes_of(user)[: len(notes_of(user)) - before[user]]
        assert told.startswith(f"Support reactivated aoife@example.test: emails to {AOIFE}")
        assert "stays opted out of appointment emails until the clinic opts them back in" in told
    assert len(notes_of(cast.charlie)) == before[cast.charlie]


def test_the_client_page_offers_to_opt_back_in_after_a_reactivation(client, cast, aoife):
    suppression = bounce(aoife)
    client.force_login(cast.alice)
    page = client.get(f"/clients/{aoife.pk}/").content.decode()
    assert "The address was reactivated" not in page
    suppression_reactivate(suppression=suppression, actor=cast.support, reason="Mailbox fixed")
    page = client.get(f"/clients/{aoife.pk}/").content.decode()
    assert 'id="address-reactivated"' in page
    assert "The address was reactivated: opt back in to appointment emails" in page
    # The live refresh says the same.
    refresh = client.get(f"/clients/{aoife.pk}/emails/log/").content.decode()
    assert "The address was reactivated: opt back in" in refresh
    client.post(f"/clients/{aoife.pk}/opt-in/")
    page = client.get(f"/clients/{aoife.pk}/").content.decode()
    assert "The address was reactivated" not in page
    with scope(clinic=cast.alice_clinic.pk):
        aoife.refresh_from_db()
    assert aoife.appointment_comms


def test_another_clinic_is_not_told_its_client_was_reactivated(client, cast):
    """Charlie's client shares the address, but only Alice's emails caused the suppression:
    Charlie's page does not claim it was reactivated."""
    with scopes_disabled():
        bob_at_charlie = ClientFactory(
            clinic=cast.charlie_clinic, name="Bob Brown", email="bob@example.test"
        )
    with scope(clinic=cast.charlie_clinic.pk):
        client_opt_out(client=bob_at_charlie, reason="Asked by phone")
    suppression = bounce(cast.bob)
    suppression_reactivate(suppression=suppression, actor=cast.support, reason="Mailbox fixed")
    client.force_login(cast.charlie)
    page = client.get(f"/clients/{bob_at_charlie.pk}/").content.decode()
    assert "The address was reactivated" not in page
    assert client.get(f"/clients/{cast.bob.pk}/ask-reactivation/").status_code == 404


# --- Staff ask support ------------------------------------------------------------------------


def test_staff_ask_once_per_suppression_and_clinic(cast, aoife):
    bounce(aoife)
    with scope(clinic=cast.alice_clinic.pk):
        ask = reactivation_ask_create(
            client=aoife, actor=cast.alice, note="Confirmed the address by phone"
        )
        assert (ask.client_name, ask.state, ask.asked_by) == (AOIFE, "open", cast.alice)
        with pytest.raises(AskRefused, match="already asked"):
            reactivation_ask_create(client=aoife, actor=cast.alice_admin, note="Again")
        with pytest.raises(AskRefused, match="Say why"):
            reactivation_ask_create(client=aoife, actor=cast.alice, note="  ")
    with scopes_disabled():
        assert ReactivationAsk.objects.count() == 1


def test_a_spam_complaint_cannot_be_asked_for_the_client_must_write(client, cast, aoife, settings):
    bounce(aoife, reason=SuppressionReason.SPAM_COMPLAINT)
    with scope(clinic=cast.alice_clinic.pk), pytest.raises(AskRefused) as refusal:
        reactivation_ask_create(client=aoife, actor=cast.alice, note="Please")
    assert settings.SUPPORT_EMAIL in str(refusal.value)
    client.force_login(cast.alice)
    page = client.get(f"/clients/{aoife.pk}/").content.decode()
    assert 'id="clients-own-request"' in page and settings.SUPPORT_EMAIL in page
    assert 'id="ask-reactivation-link"' not in page


def test_the_ask_page_asks_and_the_client_page_shows_it_waiting(client, cast, aoife):
    bounce(aoife)
    client.force_login(cast.alice)
    page = client.get(f"/clients/{aoife.pk}/").content.decode()
    assert 'id="ask-reactivation-link"' in page
    url = f"/clients/{aoife.pk}/ask-reactivation/"
    empty = client.post(url, {"note": ""})
    assert empty.status_code == 200 and "This field is required" in empty.content.decode()
    response = client.post(url, {"note": "She confirmed it by phone"})
    assert response.status_code == 302
    page = client.get(f"/clients/{aoife.pk}/").content.decode()
    assert 'id="reactivation-asked"' in page and 'id="ask-reactivation-link"' not in page
    again = client.post(url, {"note": "Again"}).content.decode()
    assert "already asked" in again


def test_charlie_cannot_ask_for_alices_client(client, cast, aoife):
    bounce(aoife)
    client.force_login(cast.charlie)
    url = f"/clients/{aoife.pk}/ask-reactivation/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"note": "x"}).status_code == 404
    with scopes_disabled():
        assert not ReactivationAsk.objects.exists()


# --- Support answers ----------------------------------------------------------------------------


def asked(cast, aoife) -> ReactivationAsk:
    bounce(aoife)
    with scope(clinic=cast.alice_clinic.pk):
        return reactivation_ask_create(
            client=aoife, actor=cast.alice, note="Confirmed the address by phone"
        )


def test_reactivating_closes_the_ask_and_tells_the_asker_once(cast, aoife):
    ask = asked(cast, aoife)
    suppression_reactivate(suppression=ask.suppression, actor=cast.support, reason="Fixed")
    with scopes_disabled():
        ask.refresh_from_db()
    assert (ask.state, ask.answered_by, ask.answer) == ("reactivated", cast.support, "Fixed")
    answers = [n for n in notes_of(cast.alice) if n.startswith("Support reactivated")]
    assert answers == [
        f"Support reactivated aoife@example.test, as you asked for {AOIFE}. Check with the "
        "client, then opt them back in to appointment emails on their page."
    ]


def test_declining_needs_an_answer_closes_the_ask_and_tells_the_asker(cast, aoife):
    ask = asked(cast, aoife)
    with pytest.raises(Refused, match="Give the clinic your answer"):
        reactivation_ask_decline(ask=ask, actor=cast.support, answer=" ")
    reactivation_ask_decline(ask=ask, actor=cast.support, answer="It bounced again today.")
    assert ask.state == "declined" and ask.answered_at is not None
    assert (
        f"Support declined to reactivate aoife@example.test for {AOIFE}: It bounced again today."
        in notes_of(cast.alice)
    )
    with pytest.raises(Refused, match="already been answered"):
        reactivation_ask_decline(ask=ask, actor=cast.support, answer="Twice")
    assert Suppression.objects.get().active


def test_admin_lists_asks_with_filters_and_the_suppression_shows_them(client, cast, aoife):
    ask = asked(cast, aoife)
    support_login(client, cast.support)
    listing = "/admin/suppression/reactivationask/"
    assert "aoife@example.test" in client.get(listing, {"state__exact": "open"}).content.decode()
    assert (
        "aoife@example.test"
        not in client.get(listing, {"state__exact": "declined"}).content.decode()
    )
    by_clinic = client.get(listing, {"clinic__id__exact": cast.charlie_clinic.pk}).content.decode()
    assert "aoife@example.test" not in by_clinic
    suppression_page = client.get(
        f"/admin/suppression/suppression/{ask.suppression_id}/change/"
    ).content.decode()
    assert "Confirmed the address by phone" in suppression_page
    ask_page = client.get(f"{listing}{ask.pk}/change/").content.decode()
    assert 'id="reactivate-from-ask"' in ask_page


def test_admin_declines_an_ask(client, cast, aoife):
    ask = asked(cast, aoife)
    support_login(client, cast.support)
    url = f"/admin/suppression/reactivationask/{ask.pk}/decline/"
    client.post(url, {"answer": ""})
    with scopes_disabled():
        ask.refresh_from_db()
    assert ask.state == "open"
    client.post(url, {"answer": "The provider still refuses it."})
    with scopes_disabled():
        ask.refresh_from_db()
    assert (ask.state, ask.answer) == ("declined", "The provider still refuses it.")
    assert any("The provider still refuses it." in n for n in notes_of(cast.alice))


def test_admin_reactivation_form_closes_the_ask(client, cast, aoife):
    ask = asked(cast, aoife)
    support_login(client, cast.support)
    client.post(
        f"/admin/suppression/suppression/{ask.suppression_id}/reactivate/",
        {"reason": "Client confirmed the address", "request_received_on": ""},
    )
    with scopes_disabled():
        ask.refresh_from_db()
    assert ask.state == "reactivated"
    assert not Suppression.objects.get().active


def test_clinic_staff_cannot_reach_the_asks_in_admin(client, cast, aoife):
    ask = asked(cast, aoife)
    client.force_login(cast.alice_admin)
    response = client.get(f"/admin/suppression/reactivationask/{ask.pk}/change/")
    assert response.status_code in (302, 403)


def test_a_second_clinic_member_is_a_practitioner_who_is_told(cast, aoife):
    """The client's other practitioner (an upcoming appointment with Dr Żółć) is told too."""
    with scopes_disabled():
        other = MembershipFactory(clinic=cast.alice_clinic, user__email="lz@alice.test").user
        AppointmentFactory(
            client=aoife, practitioner=other, start=timezone.now() + timedelta(days=3)
        )
    suppression = bounce(aoife)
    suppression_reactivate(suppression=suppression, actor=cast.support, reason="Fixed")
    assert any(n.startswith("Support reactivated") for n in notes_of(other))


def test_a_clinic_that_asked_reads_the_reactivation_though_others_emails_caused_it(client, cast):
    """Only Alice's emails caused the suppression; Charlie's clinic, which shares the platform's
    stream, asked for it: its client's page offers the opt-in as a reactivation too, and Alice's
    admin is told while Charlie's practitioner hears the answer to the ask."""
    with scopes_disabled():
        bob_at_charlie = ClientFactory(
            clinic=cast.charlie_clinic, name=LUKASZ, email="bob@example.test"
        )
    with scope(clinic=cast.charlie_clinic.pk):
        client_opt_out(client=bob_at_charlie, reason="Asked by phone")
    suppression = bounce(cast.bob)
    with scope(clinic=cast.charlie_clinic.pk):
        reactivation_ask_create(client=bob_at_charlie, actor=cast.charlie, note="Checked it")
    suppression_reactivate(suppression=suppression, actor=cast.support, reason="Fixed")
    client.force_login(cast.charlie)
    page = client.get(f"/clients/{bob_at_charlie.pk}/").content.decode()
    assert "The address was reactivated: opt back in" in page
    assert any(
        n.startswith("Support reactivated bob@example.test, as you") for n in notes_of(cast.charlie)
    )
    assert any(
        n.startswith("Support reactivated bob@example.test: emails")
        for n in notes_of(cast.alice_admin)
    )
