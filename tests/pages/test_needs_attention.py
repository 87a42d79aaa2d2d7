"""The clinic's "Needs attention" page: failed, spam-reported, stuck and deferred emails, and
upcoming appointments that will get no reminder; practitioners see their own, clinic admins and
receptionists everyone's; another clinic sees nothing of it."""

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scopes_disabled

from clinic.models import Appointment, Membership
from messaging.models import EmailKind, OutboundEmail
from suppression.models import Suppression, SuppressionCause, SuppressionReason
from tests.factories import (
    AppointmentFactory,
    ClientFactory,
    MembershipFactory,
    OutboundEmailFactory,
)

URL = "/attention/"


def _suppress(clinic, address: str, stream: str = "mailgun") -> Suppression:
    suppression = Suppression.objects.create(
        address=address, stream=stream, reason=SuppressionReason.HARD_BOUNCE
    )
    SuppressionCause.objects.create(
        suppression=suppression, clinic=clinic, reason=SuppressionReason.HARD_BOUNCE
    )
    return suppression


@pytest.fixture
def world(cast):
    """Alice's clinic with one row of each kind, rows that must not show, and Charlie's own."""
    clinic = cast.alice_clinic
    with scopes_disabled():
        nina = MembershipFactory(
            clinic=clinic,
            user__email="nina@alice.test",
            user__first_name="Nina",
            user__last_name="Nowak",
        ).user
        rita = MembershipFactory(
            clinic=clinic, user__email="rita@alice.test", role=Membership.Role.RECEPTIONIST
        ).user
        aoife = ClientFactory(clinic=clinic, name="Aoife O’Brien", email="aoife@example.test")
        lukasz = ClientFactory(clinic=clinic, name="Łukasz Żółć", email="lukasz@example.test")
        arabic = ClientFactory(clinic=clinic, name="أويفه أوبراين", email="aoifeh@example.test")
        soon = timezone.now() + timedelta(days=2)
        lukasz_visit = AppointmentFactory(client=lukasz, practitioner=nina, start=soon)
        failed = OutboundEmailFactory(
            client=aoife, status="failed", sent_by=cast.alice, subject="Your exercises"
        )
        spam = OutboundEmailFactory(
            client=lukasz,
            status="spam_report",
            kind=EmailKind.APPOINTMENT_REMINDER,
            appointment=lukasz_visit,
            subject="Your appointment",
        )
        stuck = OutboundEmailFactory(
            client=cast.bob,
            status="processed",
            sent_by=nina,
            flagged_stuck_at=timezone.now(),
            subject="Your plan",
        )
        deferred = OutboundEmailFactory(
            client=arabic, status="deferred", kind=EmailKind.INVOICE, sent_by=cast.alice
        )
        # Settled, or past the log's retention: not listed.
        OutboundEmailFactory(client=cast.bob, status="delivered", sent_by=cast.alice)
        OutboundEmailFactory(
            client=cast.bob, status="delivered", sent_by=nina, flagged_stuck_at=timezone.now()
        )
        old = OutboundEmailFactory(client=aoife, status="failed", sent_by=cast.alice)
        OutboundEmail.objects.filter(pk=old.pk).update(
            created_at=timezone.now() - timedelta(days=31)
        )
        # Aoife's address is suppressed for this clinic; Łukasz opted out.
        _suppress(clinic, aoife.email)
        lukasz.appointment_comms = False
        lukasz.save()
        aoife_visit = AppointmentFactory(client=aoife, practitioner=cast.alice, start=soon)
        # Not listed: Bob can be reminded; the arabic client's appointment is past; a
        # cancelled one sends nothing.
        AppointmentFactory(client=cast.bob, practitioner=cast.alice, start=soon)
        arabic.appointment_comms = False
        arabic.save()
        AppointmentFactory(
            client=arabic, practitioner=cast.alice, start=timezone.now() - timedelta(days=1)
        )
        AppointmentFactory(
            client=arabic,
            practitioner=cast.alice,
            start=soon,
            status=Appointment.Status.CANCELLED,
        )
        # Charlie's clinic: a failed email and a client whose reminder will not go out. Its
        # sender gets a name of its own: factory staff borrow client names in turn, and a
        # "sent by Aoife O’Brien" would read as Alice's client on Charlie's page.
        cast.charlie.first_name, cast.charlie.last_name = "Charles", "Okafor"
        cast.charlie.save()
        dana_failed = OutboundEmailFactory(
            client=cast.dana, status="failed", sent_by=cast.charlie, subject="Dana’s exercises"
        )
        cast.dana.appointment_comms = False
        cast.dana.save()
        AppointmentFactory(client=cast.dana, practitioner=cast.charlie, start=soon)
        # An address Charlie's emails got suppressed, on a stream Alice's clinic does not use.
        _suppress(cast.charlie_clinic, cast.bob.email, stream="postmark")
    return SimpleNamespace(
        nina=nina,
        rita=rita,
        aoife=aoife,
        lukasz=lukasz,
        arabic=arabic,
        failed=failed,
        spam=spam,
        stuck=stuck,
        deferred=deferred,
        old=old,
        aoife_visit=aoife_visit,
        lukasz_visit=lukasz_visit,
        dana_failed=dana_failed,
    )


def page(client, user, **params) -> str:
    client.force_login(user)
    response = client.get(URL, params)
    assert response.status_code == 200
    return response.content.decode()


def email_rows(body: str) -> set[str]:
    return set(re.findall(r"\?email=([0-9a-f-]{36})#email-", body))


def appointment_clients(body: str) -> list[str]:
    section = body.partition('id="attention-appointments"')[2]
    return re.findall(r'<a href="/clients/\d+/"><bdi>([^<]+)</bdi></a>', section)


def test_a_clinic_admin_sees_every_kind_of_row_and_nothing_else(client, cast, world):
    body = page(client, cast.alice_admin)
    assert email_rows(body) == {
        str(email.id) for email in (world.failed, world.spam, world.stuck, world.deferred)
    }
    for label in ("Failed", "Reported as spam", "Stuck", "Still deferred"):
        assert f">{label}</span>" in body
    assert sorted(appointment_clients(body)) == sorted(["Aoife O’Brien", "Łukasz Żółć"])
    assert "Opted out of appointment emails: no reminder will go out." in body
    assert "The address cannot be emailed: no reminder will go out." in body
    assert "أويفه أوبراين" in body  # the deferred invoice's client, as written


def test_each_row_opens_the_clients_log_at_its_email(client, cast, world):
    body = page(client, cast.alice_admin)
    link = f"/clients/{world.aoife.pk}/?email={world.failed.id}#email-{world.failed.id}"
    assert f'href="{link}"' in body
    client.force_login(cast.alice_admin)
    opened = client.get(f"/clients/{world.aoife.pk}/", {"email": str(world.failed.id)})
    assert f'id="email-{world.failed.id}"' in opened.content.decode()


def test_a_receptionist_sees_the_whole_clinic(client, cast, world):
    body = page(client, world.rita)
    assert len(email_rows(body)) == 4
    assert len(appointment_clients(body)) == 2
    assert 'id="practitioner"' in body


def test_a_practitioner_sees_only_their_own(client, cast, world):
    # Alice sent the failed and the deferred emails and holds Aoife's appointment.
    body = page(client, cast.alice)
    assert email_rows(body) == {str(world.failed.id), str(world.deferred.id)}
    assert appointment_clients(body) == ["Aoife O’Brien"]
    assert 'id="practitioner"' not in body
    # Nina sent the stuck email and holds the appointment whose reminder was reported as spam.
    body = page(client, world.nina)
    assert email_rows(body) == {str(world.stuck.id), str(world.spam.id)}
    assert appointment_clients(body) == ["Łukasz Żółć"]


def test_a_practitioner_cannot_widen_their_view_by_asking_for_someone_else(client, cast, world):
    body = page(client, cast.alice, practitioner=world.nina.pk)
    assert email_rows(body) == {str(world.failed.id), str(world.deferred.id)}


def test_an_admin_filters_by_practitioner(client, cast, world):
    body = page(client, cast.alice_admin, practitioner=world.nina.pk)
    assert email_rows(body) == {str(world.stuck.id), str(world.spam.id)}
    assert appointment_clients(body) == ["Łukasz Żółć"]
    assert f'<option value="{world.nina.pk}" selected>' in body


@pytest.mark.parametrize(
    ("problem", "expected"),
    [("failed", "failed"), ("spam_report", "spam"), ("stuck", "stuck"), ("deferred", "deferred")],
)
def test_an_admin_filters_by_kind(client, cast, world, problem, expected):
    body = page(client, cast.alice_admin, problem=problem)
    assert email_rows(body) == {str(getattr(world, expected).id)}
    assert 'id="attention-appointments"' not in body


def test_the_no_reminder_filter_lists_only_appointments(client, cast, world):
    body = page(client, cast.alice_admin, problem="no_reminder")
    assert email_rows(body) == set()
    assert sorted(appointment_clients(body)) == sorted(["Aoife O’Brien", "Łukasz Żółć"])


def test_charlie_sees_nothing_of_alices_clinic(client, cast, world):
    body = page(client, cast.charlie)
    assert email_rows(body) == {str(world.dana_failed.id)}
    assert appointment_clients(body) == ["Dana Dunn"]
    for name in ("Aoife O’Brien", "Łukasz Żółć", "أويفه أوبراين", "Bob Brown", "alice@"):
        assert name not in body
    # Asking for Alice's practitioner changes nothing: she is not Charlie's colleague.
    assert email_rows(page(client, cast.charlie, practitioner=cast.alice.pk)) == {
        str(world.dana_failed.id)
    }
    # And Alice's clinic sees nothing of Charlie's, not even its suppression of Bob's address.
    body = page(client, cast.alice_admin)
    assert "Dana" not in body and "Bob Brown" not in appointment_clients(body)


def test_another_clinics_suppression_on_the_shared_stream_is_not_explained(client, cast, world):
    """Suppressed on the platform's stream by Charlie's emails: Alice's clinic cannot mail Bob
    either, and is told only that, never why."""
    with scopes_disabled():
        _suppress(cast.charlie_clinic, cast.bob.email, stream="mailgun")
    body = page(client, cast.alice_admin)
    assert "Bob Brown" in appointment_clients(body)
    assert "Hard bounce" not in body and "550" not in body


def test_support_and_strangers_are_kept_out(client, cast, world):
    assert client.get(URL).status_code == 302
    client.force_login(cast.support)
    assert client.get(URL).status_code == 403


def test_the_nav_links_to_the_page_once(client, cast, world):
    body = page(client, cast.alice)
    assert body.count(f'href="{URL}"') == 1
    bell = client.get("/notifications/bell/").content.decode()
    assert f'href="{URL}"' not in bell and 'id="bell"' in bell


def _more_rows(cast, world, count: int) -> None:
    with scopes_disabled():
        for n in range(count):
            person = ClientFactory(clinic=cast.alice_clinic, email=f"more{n}@example.test")
            OutboundEmailFactory(client=person, status="failed", sent_by=world.nina)
            person.appointment_comms = False
            person.save()
            AppointmentFactory(
                client=person,
                practitioner=world.nina,
                start=timezone.now() + timedelta(days=3),
            )


def test_the_number_of_queries_does_not_grow_with_the_rows(client, cast, world):
    client.force_login(cast.alice_admin)
    client.get(URL)
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    _more_rows(cast, world, 20)
    with CaptureQueriesContext(connection) as many:
        body = client.get(URL).content.decode()
    assert len(email_rows(body)) == 24
    assert len(many) == len(few)
    assert len(many) <= 12


def test_the_next_page_keeps_the_filters(client, cast, world):
    """Page 2 of the failed emails of one practitioner is still that practitioner's failed
    emails: the pages' links carry every filter, not only a search term."""
    with scopes_disabled():
        OutboundEmailFactory.create_batch(
            26, client=world.aoife, status="failed", sent_by=cast.alice, reason="550 no such user"
        )
    body = page(client, cast.alice_admin, problem="failed", practitioner=cast.alice.pk)
    next_link = re.search(r'<a href="\?([^"]*)">Next</a>', body)
    assert next_link is not None
    assert next_link.group(1) == f"problem=failed&amp;practitioner={cast.alice.pk}&amp;page=2"
