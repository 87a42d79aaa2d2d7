"""In the support admin, the emails clinics sent and the ESP's events are history: support reads
them and cannot edit or delete them. A clinic's invoice, appointment or smart-form request names
only that clinic's own client, form and practitioner, whoever creates it."""

from decimal import Decimal

import pytest
from django_scopes import scopes_disabled

from clinic.models import Appointment, Client, Invoice, SmartFormRequest
from messaging.models import EmailEvent, OutboundEmail
from tests.factories import EmailEventFactory, SmartFormFactory
from tests.otp import support_login

LINE_ITEMS = '[{"description": "Assessment", "quantity": 1, "unit_price": "60.00"}]'


@pytest.fixture
def event(cast):
    with scopes_disabled():
        return EmailEventFactory(email__client=cast.bob)


@pytest.fixture
def support(client, cast):
    support_login(client, cast.support)
    return client


def test_support_cannot_delete_an_email_or_its_events(support, event):
    email = event.email
    for path in (
        f"/admin/messaging/outboundemail/{email.pk}/delete/",
        f"/admin/messaging/emailevent/{event.pk}/delete/",
    ):
        assert support.get(path).status_code == 403, path
        assert support.post(path, {"post": "yes"}).status_code == 403, path
    for path in ("/admin/messaging/outboundemail/", "/admin/messaging/emailevent/"):
        page = support.post(path, {"action": "delete_selected", "_selected_action": [email.pk]})
        assert b"delete_selected" not in support.get(path).content, path
        assert page.status_code in (200, 302)
    with scopes_disabled():
        assert OutboundEmail.objects.filter(pk=email.pk).exists()
        assert EmailEvent.objects.filter(pk=event.pk).exists()


def test_support_reads_an_email_but_cannot_change_it(support, event):
    page = support.get(f"/admin/messaging/outboundemail/{event.email.pk}/change/")
    body = page.content.decode()
    assert page.status_code == 200
    assert 'name="_save"' not in body
    assert event.email.to_email in body


def test_deleting_a_client_with_emails_is_refused(support, cast, event):
    """Deleting the client would take its emails with it: the history is kept."""
    page = support.post(f"/admin/clinic/client/{cast.bob.pk}/delete/", {"post": "yes"})
    assert page.status_code == 403 or b"would require deleting" in page.content
    with scopes_disabled():
        assert OutboundEmail.objects.filter(pk=event.email.pk).exists()


def test_an_invoice_for_another_clinics_client_is_refused(support, cast):
    page = support.post(
        "/admin/clinic/invoice/add/",
        {
            "clinic": cast.alice_clinic.pk,
            "client": cast.dana.pk,  # Charlie's clinic's client
            "number": "INV-9001",
            "issue_date": "2026-11-30",
            "line_items": LINE_ITEMS,
            "total": "60.00",
            "currency": "GBP",
        },
    )
    assert page.status_code == 200
    assert "This belongs to Charlie Osteo, not to Alice Physio." in page.content.decode()
    with scopes_disabled():
        assert not Invoice.objects.exists()


def test_an_invoice_for_the_clinics_own_client_is_created(support, cast):
    page = support.post(
        "/admin/clinic/invoice/add/",
        {
            "clinic": cast.alice_clinic.pk,
            "client": cast.bob.pk,
            "number": "INV-9002",
            "issue_date": "2026-11-30",
            "line_items": LINE_ITEMS,
            "total": "60.00",
            "currency": "GBP",
        },
    )
    assert page.status_code == 302
    with scopes_disabled():
        assert Invoice.objects.get().total == Decimal("60.00")


def test_an_appointment_with_another_clinics_client_or_practitioner_is_refused(support, cast):
    page = support.post(
        "/admin/clinic/appointment/add/",
        {
            "clinic": cast.alice_clinic.pk,
            "client": cast.dana.pk,
            "practitioner": cast.charlie.pk,
            "start_0": "2026-12-04",
            "start_1": "10:00",
            "end_0": "2026-12-04",
            "end_1": "10:45",
            "status": "booked",
        },
    )
    body = page.content.decode()
    assert "This belongs to Charlie Osteo, not to Alice Physio." in body
    assert "This person is not on the staff of Alice Physio." in body
    with scopes_disabled():
        assert not Appointment.objects.exists()


def test_a_smart_form_request_with_another_clinics_form_is_refused(support, cast):
    with scopes_disabled():
        charlies_form = SmartFormFactory(clinic=cast.charlie_clinic)
    page = support.post(
        "/admin/clinic/smartformrequest/add/",
        {"clinic": cast.alice_clinic.pk, "client": cast.bob.pk, "form": charlies_form.pk},
    )
    assert page.status_code == 200
    assert "This belongs to Charlie Osteo, not to Alice Physio." in page.content.decode()
    with scopes_disabled():
        assert not SmartFormRequest.objects.exists()


def test_a_client_cannot_be_moved_to_another_clinic(support, cast):
    page = support.get(f"/admin/clinic/client/{cast.bob.pk}/change/")
    assert 'name="clinic"' not in page.content.decode()
    support.post(
        f"/admin/clinic/client/{cast.bob.pk}/change/",
        {"name": "Bob Brown", "email": "bob@example.test", "clinic": cast.charlie_clinic.pk},
    )
    with scopes_disabled():
        assert Client.objects.get(pk=cast.bob.pk).clinic == cast.alice_clinic
