import pytest
from django_scopes import scopes_disabled

from clinic.models import SmartFormRequest
from messaging.models import OutboundEmail
from suppression.models import SuppressionReason
from suppression.services import suppression_record
from tests.factories import InvoiceFactory, SmartFormFactory

pytestmark = pytest.mark.usefixtures("eager_celery")


def send(client, cast, **data):
    client.force_login(cast.alice)
    return client.post(f"/clients/{cast.bob.pk}/emails/send/", data, follow=True)


def test_a_direct_message_is_sent_from_the_summary(
    client, cast, esp_simulator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        page = send(
            client,
            cast,
            kind="direct_message",
            **{"direct_message-subject": "Exercises", "direct_message-body": "Daily."},
        )
    assert "Direct message to bob@example.test is on its way." in page.content.decode()
    assert len(esp_simulator.messages(recipient="bob@example.test")) == 1


def test_an_invoice_and_a_smart_form_are_sent_from_the_summary(
    client, cast, esp_simulator, django_capture_on_commit_callbacks
):
    with scopes_disabled():
        invoice = InvoiceFactory(client=cast.bob, number="AP-9")
        form = SmartFormFactory(clinic=cast.alice_clinic, title="Intake")
    client.force_login(cast.alice)
    body = client.get(f"/clients/{cast.bob.pk}/").content.decode()
    assert "AP-9" in body and "Intake" in body
    with django_capture_on_commit_callbacks(execute=True):
        send(client, cast, kind="invoice", **{"invoice-invoice": invoice.pk})
        send(client, cast, kind="smart_form", **{"smart_form-form": form.pk})
    with scopes_disabled():
        kinds = sorted(OutboundEmail.objects.values_list("kind", flat=True))
    assert kinds == ["invoice", "smart_form"]
    sent = esp_simulator.messages(recipient="bob@example.test")
    assert sorted(message["tags"][0] for message in sent) == ["invoice", "smart_form"]
    [with_pdf] = [message for message in sent if message["attachments"]]
    assert with_pdf["attachments"][0]["filename"] == "invoice-AP-9.pdf"


def test_a_suppressed_address_is_refused_on_screen_and_nothing_is_queued(
    client, cast, esp_simulator, django_capture_on_commit_callbacks
):
    with scopes_disabled():
        form = SmartFormFactory(clinic=cast.alice_clinic)
    # The control: the same send to the same address, before it is suppressed, reaches the ESP
    # through the same commit callbacks, so a send after it would be seen too.
    with django_capture_on_commit_callbacks(execute=True) as queued:
        send(client, cast, kind="smart_form", **{"smart_form-form": form.pk})
    assert len(queued) == 1
    assert len(esp_simulator.messages(recipient="bob@example.test")) == 1

    suppression_record(
        address="bob@example.test",
        stream="mailgun",
        clinic=cast.alice_clinic,
        reason=SuppressionReason.HARD_BOUNCE,
        diagnostic="550 5.1.1 no such user",
    )
    with scopes_disabled():
        SmartFormRequest.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True) as queued:
        page = send(
            client,
            cast,
            kind="direct_message",
            **{"direct_message-subject": "Hi", "direct_message-body": "x"},
        )
        send(client, cast, kind="smart_form", **{"smart_form-form": form.pk})
    body = page.content.decode()
    assert "Direct message not sent.</strong> Emails to this address bounce" in body
    assert "Check the address with the client and correct it." in body
    assert "550 5.1.1 no such user" in body
    assert queued == []
    assert len(esp_simulator.messages(recipient="bob@example.test")) == 1
    with scopes_disabled():
        assert not SmartFormRequest.objects.exists()
        assert set(OutboundEmail.objects.values_list("status", flat=True)) == {
            "processed",
            "failed",
        }


def test_a_wrong_form_field_is_shown_and_sends_nothing(client, cast, esp_simulator):
    client.force_login(cast.alice)
    page = client.post(
        f"/clients/{cast.bob.pk}/emails/send/",
        {"kind": "direct_message", "direct_message-subject": ""},
    )
    assert page.status_code == 400
    assert "This field is required." in page.content.decode()
    with scopes_disabled():
        assert not OutboundEmail.objects.exists()


def test_someone_elses_invoice_cannot_be_chosen(client, cast, esp_simulator):
    with scopes_disabled():
        other = InvoiceFactory(client=cast.dana)
    client.force_login(cast.alice)
    page = client.post(
        f"/clients/{cast.bob.pk}/emails/send/", {"kind": "invoice", "invoice-invoice": other.pk}
    )
    assert page.status_code == 400
