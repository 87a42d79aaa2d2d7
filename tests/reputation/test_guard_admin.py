"""Support's admin of the reputation guard: holds listed standing first, a Release page that
says what it will do and requires a reason (recorded and audited), warnings read-only; only
support (verified superusers) reach any of it. And what clinic staff read of held emails."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from clinic.models import AuditEntry
from messaging.models import MailHold, OutboundEmail
from messaging.status import EmailStatus
from tests.factories import (
    AppointmentFactory,
    ClientFactory,
    GuardWarningFactory,
    MailHoldFactory,
    MembershipFactory,
    OutboundEmailFactory,
)
from tests.otp import support_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def hold(cast):
    with scopes_disabled():
        released = MailHoldFactory(
            clinic=cast.charlie_clinic,
            why="Spam complaints reached 0.40% of 5000 emails in the last 7 days (hold at 0.3%).",
            released_at=timezone.now(),
            release_reason="Reviewed.",
        )
        standing = MailHoldFactory(clinic=cast.alice_clinic)
        for age in (timedelta(hours=2), timedelta(days=1), timedelta(days=5)):
            email = OutboundEmailFactory(client=cast.bob, status=EmailStatus.HELD)
            OutboundEmail.objects.filter(pk=email.pk).update(created_at=timezone.now() - age)
    return standing, released


def release_url(hold) -> str:
    return f"/admin/messaging/mailhold/{hold.pk}/release/"


def test_support_lists_holds_standing_first_with_why_and_figures(client, cast, hold):
    support_login(client, cast.support)
    body = client.get("/admin/messaging/mailhold/").content.decode()
    assert body.index("Alice Physio") < body.index("Charlie Osteo")
    assert "Hard bounces reached 9.0% of 300 emails" in body
    assert release_url(hold[0]) in body and release_url(hold[1]) not in body


def test_the_release_page_says_what_it_will_do_and_requires_a_reason(client, cast, hold):
    standing, _ = hold
    support_login(client, cast.support)
    page = client.get(release_url(standing)).content.decode()
    assert "Releasing it sends <strong>2</strong> held emails now" in page
    assert "fails <strong>1</strong> written more than 3 days ago" in page
    assert (
        "For the next 7 days, a new hold rests only on the emails sent after this release, "
        "these included" in page
    )
    refused = client.post(release_url(standing), {"reason": "   "})
    assert refused.status_code == 200
    assert "This field is required." in refused.content.decode()
    with scopes_disabled():
        assert MailHold.objects.get(pk=standing.pk).released_at is None
        assert OutboundEmail.objects.filter(status=EmailStatus.HELD).count() == 3


def test_a_release_in_admin_is_recorded_and_audited(
    client, cast, hold, django_capture_on_commit_callbacks
):
    standing, _ = hold
    support_login(client, cast.support)
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(
            release_url(standing), {"reason": "The clinic removed its old list."}, follow=True
        )
    assert "2 held email(s) being sent, 1 failed as too old" in response.content.decode()
    assert len(queued) == 1
    with scopes_disabled():
        standing.refresh_from_db()
        entry = AuditEntry.objects.get(action=AuditEntry.Action.RELEASED_MAIL_HOLD)
        statuses = sorted(OutboundEmail.objects.values_list("status", flat=True))
    assert standing.released_by == cast.support
    assert standing.release_reason == "The clinic removed its old list."
    assert entry.actor == cast.support and entry.clinic == cast.alice_clinic
    assert entry.detail == {
        "reason": "The clinic removed its old list.",
        "sent": 2,
        "failed": 1,
    }
    assert statuses == ["failed", "sending", "sending"]
    # A second post (a double click) releases nothing again.
    again = client.post(release_url(standing), {"reason": "Again."}, follow=True)
    assert "Already released" in again.content.decode()
    with scopes_disabled():
        assert AuditEntry.objects.filter(action="released_mail_hold").count() == 1


@pytest.mark.parametrize("who", ["alice_admin", "alice"])
def test_clinic_staff_cannot_reach_the_holds_or_release_one(client, cast, hold, who):
    user = getattr(cast, who)
    user.is_staff = True
    user.save()
    client.force_login(user)
    for path in ("/admin/messaging/mailhold/", release_url(hold[0])):
        response = client.get(path)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.post(release_url(hold[0]), {"reason": "Let me send."})
    with scopes_disabled():
        assert MailHold.objects.get(pk=hold[0].pk).released_at is None


def test_a_superuser_without_the_second_factor_cannot_release(client, cast, hold):
    client.force_login(cast.support)  # password only: no authenticator code given
    response = client.post(release_url(hold[0]), {"reason": "Fine."})
    assert response.status_code == 302
    with scopes_disabled():
        assert MailHold.objects.get(pk=hold[0].pk).released_at is None


def test_warnings_are_read_only_for_support(client, cast):
    with scopes_disabled():
        warning = GuardWarningFactory(clinic=cast.alice_clinic, addresses="old@example.test")
    support_login(client, cast.support)
    assert "4.50%" in client.get("/admin/messaging/guardwarning/").content.decode()
    page = client.get(f"/admin/messaging/guardwarning/{warning.pk}/change/").content.decode()
    assert "old@example.test" in page
    assert 'name="_save"' not in page
    assert client.get("/admin/messaging/guardwarning/add/").status_code == 403
    assert client.get("/admin/messaging/mailhold/add/").status_code == 403


# --- what staff read of a held email -----------------------------------------------------------


@pytest.fixture
def held_email(cast):
    with scopes_disabled():
        newcomer = ClientFactory(clinic=cast.alice_clinic, name="Nora New", email="n@x.test")
        appointment = AppointmentFactory(client=newcomer, practitioner=cast.alice)
        return OutboundEmailFactory(
            client=newcomer,
            appointment=appointment,
            kind="appointment_confirmation",
            status=EmailStatus.HELD,
            reason="Held, not sent yet. Support is reviewing it.",
        )


def test_the_client_page_shows_held_and_why(client, cast, held_email):
    client.force_login(cast.alice)
    body = client.get(f"/clients/{held_email.client_id}/").content.decode()
    assert 'data-status="held"' in body and "badge-warn" in body
    assert "Held, not sent yet. Support is reviewing it." in body


def test_needs_attention_lists_held_emails_to_whom_they_concern(client, cast, held_email):
    receptionist = MembershipFactory(clinic=cast.alice_clinic, role="receptionist").user
    other = MembershipFactory(clinic=cast.alice_clinic, role="practitioner").user
    for user, sees in (
        (cast.alice, True),  # the appointment's practitioner
        (cast.alice_admin, True),
        (receptionist, True),
        (other, False),  # another practitioner's appointment
        (cast.charlie, False),  # another clinic
    ):
        client.force_login(user)
        body = client.get("/attention/", {"problem": "held"}).content.decode()
        assert (str(held_email.pk) in body) is sees, user
        if sees:
            assert 'data-problem="held"' in body
            assert "It goes out when the pause is lifted" in body


def test_another_clinic_gets_404_for_a_held_emails_client(client, cast, held_email):
    client.force_login(cast.charlie)
    assert client.get(f"/clients/{held_email.client_id}/").status_code == 404
    assert client.get(f"/api/clients/{held_email.client_id}/emails").status_code in (401, 403, 404)
