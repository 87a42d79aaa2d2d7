"""Support unticking a client's appointment emails in admin is an opt-out like any other: the
client's practitioners with upcoming appointments and the clinic's admins are told that no
reminder will go out; nobody at another clinic is."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from clinic.models import Appointment, Client
from notifications.models import Notification
from tests.factories import AppointmentFactory, MembershipFactory
from tests.otp import support_login


@pytest.fixture
def support(client, cast):
    support_login(client, cast.support)
    return client


def untick(support, client: Client, reason: str = ""):
    """The client's admin page saved with appointment emails unticked, all else as it was."""
    return support.post(
        f"/admin/clinic/client/{client.pk}/change/",
        {
            "name": client.name,
            "email": client.email,
            "appointment_comms_reason": reason,
        },
    )


def notifications() -> list[tuple[str, str]]:
    with scopes_disabled():
        return sorted(
            (n.recipient.email, n.text) for n in Notification.objects.select_related("recipient")
        )


def test_unticking_tells_the_practitioner_and_the_clinic_admins(support, cast):
    soon = timezone.now() + timedelta(days=2)
    with scopes_disabled():
        nina = MembershipFactory(clinic=cast.alice_clinic, user__email="nina@alice.test").user
        AppointmentFactory(client=cast.bob, practitioner=nina, start=soon)
        # Past and cancelled appointments will not be reminded anyway: nobody is told of them.
        AppointmentFactory(client=cast.bob, practitioner=cast.alice, start=soon - timedelta(days=9))
        AppointmentFactory(
            client=cast.bob,
            practitioner=cast.alice,
            start=soon,
            status=Appointment.Status.CANCELLED,
        )
        AppointmentFactory(client=cast.dana, practitioner=cast.charlie, start=soon)

    page = untick(support, cast.bob, reason="Asked by phone")

    assert page.status_code == 302
    told = notifications()
    assert [who for who, _ in told] == ["boss@alice.test", "nina@alice.test"]
    for _, text in told:
        assert text.startswith("No reminder will go out to Bob Brown for the appointment at")
        assert "support opted them out of appointment emails (Asked by phone)." in text
    with scopes_disabled():
        bob = Client.objects.get(pk=cast.bob.pk)
    assert not bob.appointment_comms
    assert bob.appointment_comms_reason == "Asked by phone"
    assert bob.appointment_comms_changed_at is not None
    messages = support.get(page["Location"]).content.decode()
    assert "Bob Brown is opted out of appointment emails. 2 notification(s)" in messages


def test_an_admin_who_is_the_practitioner_is_told_once(support, cast):
    with scopes_disabled():
        AppointmentFactory(
            client=cast.bob,
            practitioner=cast.alice_admin,
            start=timezone.now() + timedelta(days=2),
        )

    untick(support, cast.bob)

    told = notifications()
    assert [who for who, _ in told] == ["boss@alice.test"]
    assert "support opted them out of appointment emails." in told[0][1]
    with scopes_disabled():
        assert Client.objects.get(pk=cast.bob.pk).appointment_comms_reason == (
            "Opted out of appointment emails by support."
        )


def test_saving_an_opted_out_client_again_tells_nobody_again(support, cast):
    with scopes_disabled():
        AppointmentFactory(
            client=cast.bob, practitioner=cast.alice, start=timezone.now() + timedelta(days=2)
        )
    untick(support, cast.bob)
    with scopes_disabled():
        bob = Client.objects.get(pk=cast.bob.pk)
    untick(support, bob, reason=bob.appointment_comms_reason)
    assert len(notifications()) == 2  # alice and the clinic admin, once


def test_other_changes_tell_nobody(support, cast):
    with scopes_disabled():
        AppointmentFactory(
            client=cast.bob, practitioner=cast.alice, start=timezone.now() + timedelta(days=2)
        )
    support.post(
        f"/admin/clinic/client/{cast.bob.pk}/change/",
        {"name": "Bob Brown-Smith", "email": cast.bob.email, "appointment_comms": "on"},
    )
    assert notifications() == []
    with scopes_disabled():
        assert Client.objects.get(pk=cast.bob.pk).name == "Bob Brown-Smith"
