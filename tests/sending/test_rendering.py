from datetime import UTC, datetime, timedelta

import pytest
from django_scopes import scopes_disabled

from messaging.sending.rendering import render_email
from tests.factories import AppointmentFactory, ClientFactory, ClinicFactory


def test_it_shows_appointment_times_in_the_clinics_local_time(in_alice_clinic):
    start = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)  # 10:00 in London (BST)
    appointment = AppointmentFactory(
        client=in_alice_clinic.bob, start=start, end=start + timedelta(hours=1)
    )
    rendered = render_email(
        "appointment_confirmation",
        clinic=in_alice_clinic.alice_clinic,
        context={"client": in_alice_clinic.bob, "appointment": appointment},
    )
    assert rendered.subject == (
        "Your appointment at Alice Physio on Wednesday 1 July at 10:00 (London time)"
    )
    assert "10:00 (London time)" in rendered.text
    assert "<strong>Wednesday 1 July 2026 at 10:00</strong>" in rendered.html


def test_every_kind_has_its_three_templates(in_alice_clinic):
    appointment = AppointmentFactory(client=in_alice_clinic.bob)
    for kind in ("appointment_reminder", "appointment_cancellation"):
        rendered = render_email(
            kind,
            clinic=in_alice_clinic.alice_clinic,
            context={"client": in_alice_clinic.bob, "appointment": appointment},
        )
        assert "Alice Physio" in rendered.subject
        assert "Bob Brown" in rendered.text
        assert "<html" in rendered.html


def test_html_is_escaped_but_text_is_not(in_alice_clinic):
    rendered = render_email(
        "direct_message",
        clinic=in_alice_clinic.alice_clinic,
        context={
            "client": in_alice_clinic.bob,
            "subject": "Fees & times",
            "body": "Bring <script>x</script> & your notes",
        },
    )
    assert rendered.subject == "Fees & times"
    assert "Bring <script>x</script> & your notes" in rendered.text
    assert "&lt;script&gt;" in rendered.html
    assert "<script>" not in rendered.html


# Appointments at 10:00 local time on the Sunday a zone's clock changes, as UTC (worked out by
# hand: tests/sending/test_send_policy.py), what each clinic's client reads, and the zone named.
LOCAL_TEN_OCLOCK = [
    ("America/New_York", datetime(2026, 3, 8, 14, tzinfo=UTC), "Sunday 8 March", "New York time"),
    (
        "America/New_York",
        datetime(2026, 11, 1, 15, tzinfo=UTC),
        "Sunday 1 November",
        "New York time",
    ),
    ("Australia/Sydney", datetime(2026, 4, 5, 0, tzinfo=UTC), "Sunday 5 April", "Sydney time"),
    ("Australia/Sydney", datetime(2026, 10, 3, 23, tzinfo=UTC), "Sunday 4 October", "Sydney time"),
    ("Europe/London", datetime(2026, 3, 29, 9, tzinfo=UTC), "Sunday 29 March", "London time"),
    ("Europe/London", datetime(2026, 10, 25, 10, tzinfo=UTC), "Sunday 25 October", "London time"),
]


@pytest.mark.parametrize(
    ("zone", "start", "day", "named"),
    LOCAL_TEN_OCLOCK,
    ids=[f"{zone}-{start:%b}" for zone, start, _, _ in LOCAL_TEN_OCLOCK],
)
def test_each_clinic_shows_times_on_its_own_wall_clock(cast, zone, start, day, named):
    with scopes_disabled():
        clinic = ClinicFactory(name="Zoë’s Sports-Massage – Ångström", time_zone=zone)
        client = ClientFactory(clinic=clinic, name="Дмитрий Иванов")
        appointment = AppointmentFactory(client=client, start=start, end=start + timedelta(hours=1))
    rendered = render_email(
        "appointment_confirmation",
        clinic=clinic,
        context={"client": client, "appointment": appointment},
    )
    assert (
        rendered.subject
        == f"Your appointment at Zoë’s Sports-Massage – Ångström on {day} at 10:00 ({named})"
    )
    assert f"{day} 2026 at 10:00 ({named})" in rendered.text
    assert f"{day} 2026 at 10:00</strong> ({named})" in rendered.html
    assert rendered.text.startswith("Hello Дмитрий Иванов,")
    assert "Zoë’s Sports-Massage – Ångström" in rendered.html
