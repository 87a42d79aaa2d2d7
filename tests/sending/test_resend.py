"""Fix the address and resend: a failed email goes again, as it was, to the corrected address, in
one step; a resend that may not happen changes nothing and says why."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from clinic.models import Client, SmartFormRequest
from messaging.models import EmailKind, OutboundEmail
from messaging.sending.resend import NotResendable, email_resend
from messaging.sending.triggers import direct_message_send, invoice_send, smart_form_send
from messaging.status import EmailStatus
from suppression.models import SuppressionReason
from suppression.services import client_opt_out, suppression_record
from tests.factories import (
    AppointmentFactory,
    ClientFactory,
    InvoiceFactory,
    OutboundEmailFactory,
    SmartFormFactory,
)

pytestmark = pytest.mark.usefixtures("eager_celery")

WRONG, RIGHT = "aoife.obrien@exmaple.test", "aoife.obrien@example.test"


@pytest.fixture
def aoife(cast):
    with scopes_disabled():
        return ClientFactory(clinic=cast.alice_clinic, name="Aoife O’Brien", email=WRONG)


def bounce(email: OutboundEmail) -> OutboundEmail:
    """The ESP's hard bounce, as the drain leaves it: failed, with the provider's words."""
    with scopes_disabled():
        OutboundEmail.objects.filter(pk=email.pk).update(
            status=EmailStatus.FAILED, reason="550 5.1.1 no such domain"
        )
        return OutboundEmail.objects.get(pk=email.pk)


def suppress(address: str, clinic) -> None:
    suppression_record(
        address=address,
        stream="mailgun",
        clinic=clinic,
        reason=SuppressionReason.HARD_BOUNCE,
        diagnostic="550 5.1.1 mailbox does not exist",
    )


def resend(cast, email, address=RIGHT):
    with scope(clinic=cast.alice_clinic):
        return email_resend(email=email, address=address, sent_by=cast.alice)


def rows_of(client) -> list[OutboundEmail]:
    with scopes_disabled():
        return list(OutboundEmail.objects.filter(client=client).order_by("created_at"))


def address_of(client) -> str:
    with scopes_disabled():
        return Client.objects.get(pk=client.pk).email


def test_a_bounced_invoice_goes_again_with_the_same_pdf_to_the_corrected_address(
    cast, aoife, esp_simulator, django_capture_on_commit_callbacks
):
    with scopes_disabled():
        invoice = InvoiceFactory(client=aoife, number="INV-0042")
    with scope(clinic=cast.alice_clinic), django_capture_on_commit_callbacks(execute=True):
        sent_first = invoice_send(invoice=invoice, sent_by=cast.alice)
    failed = bounce(sent_first)
    [first] = esp_simulator.messages(recipient=WRONG)

    with django_capture_on_commit_callbacks(execute=True):
        outcome = resend(cast, failed)

    resent = outcome.email
    assert not outcome.refused
    assert (resent.replaces_id, resent.kind, resent.invoice_id) == (
        failed.pk,
        "invoice",
        invoice.pk,
    )
    assert (resent.to_email, address_of(aoife)) == (RIGHT, RIGHT)
    assert (resent.subject, resent.body_text) == (failed.subject, failed.body_text)
    [sent] = esp_simulator.messages(email_id=str(resent.pk))
    assert sent["recipient"] == RIGHT
    assert sent["subject"] == first["subject"]
    assert [a["filename"] for a in sent["attachments"]] == ["invoice-INV-0042.pdf"]
    assert sent["attachments"][0]["size"] == first["attachments"][0]["size"]
    with scopes_disabled():
        assert list(OutboundEmail.objects.get(pk=failed.pk).resends.all()) == [resent]


def test_a_direct_message_goes_again_word_for_word(
    cast, esp_simulator, django_capture_on_commit_callbacks
):
    with scopes_disabled():
        lukasz = ClientFactory(clinic=cast.alice_clinic, name="Łukasz Żółć", email="lz@exmaple.pl")
    body = "Dzień dobry Łukasz,\n\nproszę o ćwiczenia: “trzy serie”.\n\nأويفه"  # noqa: RUF001
    with scope(clinic=cast.alice_clinic), django_capture_on_commit_callbacks(execute=True):
        sent_first = direct_message_send(
            client=lukasz, subject="Ćwiczenia", body=body, sent_by=cast.alice
        )
    failed = bounce(sent_first)
    with django_capture_on_commit_callbacks(execute=True):
        resent = resend(cast, failed, address="lukasz@example.pl").email

    assert (resent.subject, resent.body_text, resent.body_html) == (
        failed.subject,
        failed.body_text,
        failed.body_html,
    )
    assert "proszę o ćwiczenia" in resent.body_text
    [sent] = esp_simulator.messages(email_id=str(resent.pk))
    assert sent["recipient"] == "lukasz@example.pl"


def test_a_smart_form_goes_again_with_the_same_link_while_it_works(
    cast, aoife, esp_simulator, django_capture_on_commit_callbacks
):
    with scopes_disabled():
        form = SmartFormFactory(clinic=cast.alice_clinic)
    with scope(clinic=cast.alice_clinic), django_capture_on_commit_callbacks(execute=True):
        sent_first = smart_form_send(form=form, client=aoife, sent_by=cast.alice)
    failed = bounce(sent_first)
    with django_capture_on_commit_callbacks(execute=True):
        resent = resend(cast, failed).email

    assert resent.form_request_id == failed.form_request_id
    with scopes_disabled():
        token = SmartFormRequest.objects.get(pk=failed.form_request_id).token
        assert SmartFormRequest.objects.filter(client=aoife).count() == 1
    assert token in resent.body_text
    assert resent.replaces_id == failed.pk


def test_a_smart_form_whose_link_expired_goes_with_a_new_link(
    cast, aoife, settings, esp_simulator, django_capture_on_commit_callbacks
):
    with scopes_disabled():
        form = SmartFormFactory(clinic=cast.alice_clinic)
    with scope(clinic=cast.alice_clinic), django_capture_on_commit_callbacks(execute=True):
        sent_first = smart_form_send(form=form, client=aoife, sent_by=cast.alice)
    failed = bounce(sent_first)
    with scopes_disabled():
        SmartFormRequest.objects.filter(pk=failed.form_request_id).update(
            created_at=timezone.now() - timedelta(days=settings.SMART_FORM_LINK_DAYS + 1)
        )
        old_token = SmartFormRequest.objects.get(pk=failed.form_request_id).token
    with django_capture_on_commit_callbacks(execute=True):
        resent = resend(cast, failed).email

    assert resent.form_request_id != failed.form_request_id
    with scopes_disabled():
        new_request = SmartFormRequest.objects.get(pk=resent.form_request_id)
    assert new_request.form_id == form.pk
    assert new_request.token in resent.body_text and old_token not in resent.body_text


def test_a_suppressed_corrected_address_is_refused_and_nothing_changes(
    cast, aoife, esp_simulator, django_capture_on_commit_callbacks
):
    with scopes_disabled():
        failed = OutboundEmailFactory(client=aoife, status=EmailStatus.FAILED)
    suppress(RIGHT, cast.alice_clinic)

    with django_capture_on_commit_callbacks(execute=True) as queued:
        outcome = resend(cast, failed)

    assert outcome.refused
    assert outcome.email.refusal == "suppressed"
    assert outcome.email.reason.startswith("Emails to this address bounce")  # stored bare
    assert "550 5.1.1 mailbox does not exist" in outcome.email.reason
    assert address_of(aoife) == WRONG
    assert [e.pk for e in rows_of(aoife)] == [failed.pk]
    assert queued == [] and esp_simulator.messages() == []


def test_an_opted_out_client_gets_no_resent_reminder(
    cast, aoife, esp_simulator, django_capture_on_commit_callbacks
):
    with scopes_disabled():
        appointment = AppointmentFactory(client=aoife, clinic=cast.alice_clinic)
        failed = OutboundEmailFactory(
            client=aoife,
            kind=EmailKind.APPOINTMENT_REMINDER,
            appointment=appointment,
            status=EmailStatus.FAILED,
        )
    with scope(clinic=cast.alice_clinic):
        client_opt_out(client=aoife, reason="Asked by phone")

    outcome = resend(cast, failed)

    assert outcome.email.refusal == "opted_out"
    assert "Asked by phone" in outcome.email.reason
    assert address_of(aoife) == WRONG
    assert len(rows_of(aoife)) == 1


def test_a_reminder_is_resent_beside_the_appointments_one_reminder(
    cast, aoife, esp_simulator, django_capture_on_commit_callbacks
):
    with scopes_disabled():
        appointment = AppointmentFactory(client=aoife, clinic=cast.alice_clinic)
        failed = OutboundEmailFactory(
            client=aoife,
            kind=EmailKind.APPOINTMENT_REMINDER,
            appointment=appointment,
            appointment_start=appointment.start,
            status=EmailStatus.FAILED,
        )
    with django_capture_on_commit_callbacks(execute=True):
        resent = resend(cast, failed).email

    assert resent.kind == EmailKind.APPOINTMENT_REMINDER
    assert resent.replaces_id == failed.pk
    assert (resent.appointment_id, resent.appointment_start) == (appointment.pk, appointment.start)
    assert len(esp_simulator.messages(email_id=str(resent.pk))) == 1


def test_the_daily_quota_refuses_a_resend_and_keeps_the_address(cast, aoife, settings):
    with scopes_disabled():
        failed = OutboundEmailFactory(client=aoife, status=EmailStatus.FAILED)
    settings.DAILY_SEND_QUOTA = 1

    outcome = resend(cast, failed)

    assert outcome.email.refusal == "quota"
    assert "Alice Physio has started 1 emails in the last 24 hours" in outcome.email.reason
    assert address_of(aoife) == WRONG
    assert len(rows_of(aoife)) == 1
    settings.DAILY_SEND_QUOTA = 2
    assert not resend(cast, failed).refused  # the control: one place free, it goes


@pytest.mark.parametrize("status", ["delivered", "sending", "spam_report", "opened"])
def test_an_email_that_did_not_fail_is_not_resent(cast, aoife, status):
    with scopes_disabled():
        email = OutboundEmailFactory(client=aoife, status=status)
    with pytest.raises(NotResendable, match="did not fail"):
        resend(cast, email)
    assert address_of(aoife) == WRONG


def test_a_failed_email_is_resent_once_while_its_resend_lives(
    cast, aoife, esp_simulator, django_capture_on_commit_callbacks
):
    with scopes_disabled():
        failed = OutboundEmailFactory(client=aoife, status=EmailStatus.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        first = resend(cast, failed).email
    with pytest.raises(NotResendable, match="already resent"):
        resend(cast, failed)
    bounce(first)  # the resend failed too: it may go again
    assert not resend(cast, failed, address="aoife@example.org").refused
