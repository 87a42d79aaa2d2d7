from datetime import UTC, datetime, timedelta

from messaging.sending.rendering import render_email
from tests.factories import AppointmentFactory


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
    assert rendered.subject == ("Your appointment at Alice Physio on Wednesday 1 July at 10:00")
    assert "10:00 (Europe/London)" in rendered.text
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
