"""The resend page and API: staff correct a client's address and resend a failed email in one
step; the log links the two emails; another clinic's email is not found."""

import html
import re

import pytest
from django_scopes import scopes_disabled
from knox.models import AuthToken
from rest_framework.test import APIClient

from clinic.models import Client
from messaging.models import EmailKind, OutboundEmail
from messaging.status import EmailStatus
from suppression.models import SuppressionReason
from suppression.services import suppression_record
from tests.factories import (
    AppointmentFactory,
    ClientFactory,
    DeliveredAddressFactory,
    InvoiceFactory,
    MailHoldFactory,
    OutboundEmailFactory,
)

pytestmark = pytest.mark.usefixtures("eager_celery")

WRONG, RIGHT = "aoife.obrien@exmaple.test", "aoife.obrien@example.test"


@pytest.fixture
def aoife(cast):
    with scopes_disabled():
        return ClientFactory(clinic=cast.alice_clinic, name="Aoife O’Brien", email=WRONG)


@pytest.fixture
def bounced_invoice(cast, aoife):
    with scopes_disabled():
        invoice = InvoiceFactory(client=aoife, number="INV-0042")
        return OutboundEmailFactory(
            client=aoife,
            kind=EmailKind.INVOICE,
            invoice=invoice,
            subject="Your invoice INV-0042 from Alice Physio",
            status=EmailStatus.FAILED,
            reason="The receiving server said the mailbox does not exist.",
        )


@pytest.fixture
def api(cast):
    _, token = AuthToken.objects.create(user=cast.alice)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def resend_url(email) -> str:
    return f"/clients/{email.client_id}/emails/{email.pk}/resend/"


def api_url(email) -> str:
    return f"/api/clients/{email.client_id}/emails/{email.pk}/resend"


def text_of(page) -> str:
    return " ".join(html.unescape(re.sub("<[^>]+>", " ", page.content.decode())).split())


def address_of(client) -> str:
    with scopes_disabled():
        return Client.objects.get(pk=client.pk).email


def resends_of(email) -> list[OutboundEmail]:
    with scopes_disabled():
        return list(OutboundEmail.objects.filter(replaces=email))


def suppress(address: str, clinic) -> None:
    suppression_record(
        address=address,
        stream="mailgun",
        clinic=clinic,
        reason=SuppressionReason.HARD_BOUNCE,
        diagnostic="550 5.1.1 mailbox does not exist",
    )


def test_the_log_offers_a_resend_of_a_failed_email_only(client, cast, aoife, bounced_invoice):
    with scopes_disabled():
        delivered = OutboundEmailFactory(client=aoife, status=EmailStatus.DELIVERED)
    client.force_login(cast.alice)

    page = client.get(f"/clients/{aoife.pk}/").content.decode()

    assert resend_url(bounced_invoice) in page
    assert resend_url(delivered) not in page


def test_correcting_the_address_resends_and_the_log_links_both(
    client, cast, aoife, bounced_invoice, django_capture_on_commit_callbacks
):
    client.force_login(cast.alice)
    form = client.get(resend_url(bounced_invoice))
    assert form.status_code == 200
    assert f'value="{WRONG}"' in form.content.decode()
    assert "Your invoice INV-0042 from Alice Physio" in text_of(form)

    with django_capture_on_commit_callbacks() as queued:
        done = client.post(resend_url(bounced_invoice), {"email": RIGHT})

    [resent] = resends_of(bounced_invoice)
    assert done.status_code == 302
    assert done["Location"] == f"/clients/{aoife.pk}/?email={resent.pk}#email-{resent.pk}"
    assert len(queued) == 1
    assert (resent.to_email, resent.invoice_id, address_of(aoife)) == (
        RIGHT,
        bounced_invoice.invoice_id,
        RIGHT,
    )
    log = client.get(done["Location"])
    words = text_of(log)
    assert "Invoice resent to aoife.obrien@example.test." in words
    body = log.content.decode()
    assert f'?email={resent.pk}#email-{resent.pk}">the email of' in body
    assert f'Resends <a href="/clients/{aoife.pk}/?email={bounced_invoice.pk}' in body
    assert resend_url(bounced_invoice) not in body  # resent: not offered twice


def test_a_resent_reminder_keeps_its_appointment_in_the_log_and_in_needs_attention(
    client, cast, aoife, django_capture_on_commit_callbacks
):
    with scopes_disabled():
        visit = AppointmentFactory(client=aoife, practitioner=cast.alice)
        failed = OutboundEmailFactory(
            client=aoife,
            kind=EmailKind.APPOINTMENT_REMINDER,
            appointment=visit,
            appointment_start=visit.start,
            status=EmailStatus.FAILED,
        )
    client.force_login(cast.alice_admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(resend_url(failed), {"email": RIGHT})
    [resent] = resends_of(failed)
    assert resent.appointment_id == visit.pk

    log = client.get(f"/clients/{aoife.pk}/").content.decode()
    assert f'Resends <a href="/clients/{aoife.pk}/?email={failed.pk}' in log
    with scopes_disabled():
        OutboundEmail.objects.filter(pk=resent.pk).update(status=EmailStatus.FAILED)
    # Failed again: it is the appointment's practitioner's to see, though an admin resent it.
    mine = client.get("/attention/", {"practitioner": cast.alice.pk}).content.decode()
    assert f"?email={resent.pk}#email-{resent.pk}" in mine


@pytest.mark.parametrize("cause", ["temporary", "sender"])
def test_a_failure_not_caused_by_the_address_is_sent_again_as_it_was(
    client, cast, aoife, cause, django_capture_on_commit_callbacks
):
    with scopes_disabled():
        failed = OutboundEmailFactory(
            client=aoife,
            status=EmailStatus.FAILED,
            failure_cause=cause,
            reason="The provider stopped trying.",
        )
    client.force_login(cast.alice)
    log = text_of(client.get(f"/clients/{aoife.pk}/"))
    assert "Send again : Your exercises" in log
    assert "Correct the address and resend" not in log

    page = text_of(client.get(resend_url(failed)))
    assert f"the same email goes again to {WRONG}" in page
    assert "correct it below" not in page
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(resend_url(failed))
    [resent] = resends_of(failed)
    assert done.status_code == 302
    assert (resent.to_email, address_of(aoife)) == (WRONG, WRONG)


def test_a_bounce_still_offers_to_correct_the_address(client, cast, aoife, bounced_invoice):
    client.force_login(cast.alice)
    log = text_of(client.get(f"/clients/{aoife.pk}/"))
    assert "Correct the address and resend : Your invoice INV-0042" in log
    assert "Send again" not in log


def test_a_likely_typo_is_asked_about_and_nothing_is_sent(client, cast, aoife, bounced_invoice):
    client.force_login(cast.alice)

    page = client.post(resend_url(bounced_invoice), {"email": "aoife.obrien@gmial.com"})

    assert page.status_code == 400
    assert "Did you mean aoife.obrien@gmail.com?" in text_of(page)
    assert resends_of(bounced_invoice) == [] and address_of(aoife) == WRONG
    confirmed = client.post(
        resend_url(bounced_invoice),
        {"email": "aoife.obrien@gmial.com", "address_confirmed": "1"},
    )
    assert confirmed.status_code == 302
    assert address_of(aoife) == "aoife.obrien@gmial.com"


def test_a_suppressed_corrected_address_is_refused_in_words(client, cast, aoife, bounced_invoice):
    suppress(RIGHT, cast.alice_clinic)
    client.force_login(cast.alice)

    page = client.post(resend_url(bounced_invoice), {"email": RIGHT})

    assert page.status_code == 200
    words = text_of(page)
    assert "Invoice not resent. Emails to this address bounce" in words
    assert "550 5.1.1 mailbox does not exist" in words
    assert f"Nothing was changed: the client's address is still {WRONG}." in words
    assert f'value="{RIGHT}"' in page.content.decode()  # kept as typed
    assert resends_of(bounced_invoice) == [] and address_of(aoife) == WRONG


def test_a_refused_send_offers_to_correct_the_address_and_resend(client, cast, aoife):
    suppress(WRONG, cast.alice_clinic)
    client.force_login(cast.alice)

    page = client.post(
        f"/clients/{aoife.pk}/emails/send/",
        {"kind": "direct_message", "direct_message-subject": "Hi", "direct_message-body": "x"},
    )

    with scopes_disabled():
        [refused] = OutboundEmail.objects.filter(client=aoife)
    assert refused.refusal == "suppressed"
    assert f'href="{resend_url(refused)}"' in page.content.decode()
    done = client.post(resend_url(refused), {"email": RIGHT})
    assert done.status_code == 302
    [resent] = resends_of(refused)
    assert (resent.subject, resent.body_text, resent.status) == ("Hi", refused.body_text, "sending")


def test_another_clinics_email_is_not_found(client, cast, bounced_invoice):
    client.force_login(cast.charlie)
    assert client.get(resend_url(bounced_invoice)).status_code == 404
    assert client.post(resend_url(bounced_invoice), {"email": RIGHT}).status_code == 404
    with scopes_disabled():
        dana_email = OutboundEmailFactory(client=cast.dana, status=EmailStatus.FAILED)
    client.force_login(cast.alice)  # nor through one's own client's address
    mixed = f"/clients/{bounced_invoice.client_id}/emails/{dana_email.pk}/resend/"
    assert client.post(mixed, {"email": RIGHT}).status_code == 404
    assert resends_of(bounced_invoice) == [] and resends_of(dana_email) == []


def test_the_api_resends_to_the_corrected_address(
    api, aoife, bounced_invoice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        answer = api.post(api_url(bounced_invoice), {"email": RIGHT}, format="json")

    assert answer.status_code == 202
    body = answer.json()
    [resent] = resends_of(bounced_invoice)
    assert body["id"] == str(resent.pk)
    assert (body["replaces"], body["to"], body["kind"]) == (
        str(bounced_invoice.pk),
        RIGHT,
        "invoice",
    )
    assert body["subject"] == "Your invoice INV-0042 from Alice Physio"
    assert len(queued) == 1 and address_of(aoife) == RIGHT
    log = api.get(f"/api/clients/{aoife.pk}/emails").json()["emails"]
    linked = {item["id"]: (item["replaces"], item["resent_as"]) for item in log}
    assert linked == {
        str(resent.pk): (str(bounced_invoice.pk), []),
        str(bounced_invoice.pk): (None, [str(resent.pk)]),
    }


def test_the_api_resends_to_the_same_address_without_one(api, aoife, bounced_invoice):
    answer = api.post(api_url(bounced_invoice), {}, format="json")
    assert answer.status_code == 202
    assert answer.json()["to"] == WRONG


def test_the_api_refuses_a_suppressed_corrected_address_with_409(api, cast, aoife, bounced_invoice):
    suppress(RIGHT, cast.alice_clinic)
    answer = api.post(api_url(bounced_invoice), {"email": RIGHT}, format="json")
    assert answer.status_code == 409
    assert answer.json()["error"] == "suppressed"
    assert answer.json()["reason"].startswith("Not sent. Emails to this address bounce")
    assert resends_of(bounced_invoice) == [] and address_of(aoife) == WRONG


def test_the_api_answers_429_over_the_daily_quota(api, settings, aoife, bounced_invoice):
    settings.DAILY_SEND_QUOTA = 1
    answer = api.post(api_url(bounced_invoice), {"email": RIGHT}, format="json")
    assert answer.status_code == 429
    assert answer.json()["error"] == "quota"
    assert address_of(aoife) == WRONG


def test_the_api_answers_400_for_an_email_that_did_not_fail(api, aoife):
    with scopes_disabled():
        delivered = OutboundEmailFactory(client=aoife, status=EmailStatus.DELIVERED)
    answer = api.post(api_url(delivered), {"email": RIGHT}, format="json")
    assert answer.status_code == 400
    assert answer.json()["error"] == "not_resendable"
    assert resends_of(delivered) == [] and address_of(aoife) == WRONG


def test_the_api_answers_400_for_an_address_that_is_not_one(api, aoife, bounced_invoice):
    answer = api.post(api_url(bounced_invoice), {"email": "aoife at example"}, format="json")
    assert answer.status_code == 400
    assert "email" in answer.json()
    assert resends_of(bounced_invoice) == []


def test_the_api_answers_404_for_another_clinics_email(cast, bounced_invoice):
    _, token = AuthToken.objects.create(user=cast.charlie)
    charlie = APIClient()
    charlie.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    answer = charlie.post(api_url(bounced_invoice), {"email": RIGHT}, format="json")
    assert answer.status_code == 404
    assert resends_of(bounced_invoice) == [] and address_of(bounced_invoice.client) == WRONG


def test_a_resend_during_a_hold_is_held_and_the_page_says_so(
    client, cast, aoife, bounced_invoice, django_capture_on_commit_callbacks
):
    """An address the clinic never reached, while its mail to new addresses is held: the resend
    is saved held, not queued, and the page says held, not resent."""
    with scopes_disabled():
        MailHoldFactory(clinic=cast.alice_clinic)
    client.force_login(cast.alice)
    with django_capture_on_commit_callbacks() as queued:
        done = client.post(resend_url(bounced_invoice), {"email": RIGHT}, follow=True)
    [resent] = resends_of(bounced_invoice)
    assert (resent.status, resent.to_email) == (EmailStatus.HELD, RIGHT)
    assert resent.reason.startswith("Too many of this clinic's recent emails")
    assert queued == []
    words = text_of(done)
    assert "Invoice to aoife.obrien@example.test was held, not sent yet." in words
    assert "within 3 days of its writing" in words
    assert "resent to" not in words


def test_the_api_says_a_resend_during_a_hold_was_held(api, cast, aoife, bounced_invoice):
    with scopes_disabled():
        MailHoldFactory(clinic=cast.alice_clinic)
    answer = api.post(api_url(bounced_invoice), {"email": RIGHT}, format="json")
    assert answer.status_code == 202
    body = answer.json()
    assert (body["status"], body["to"]) == ("held", RIGHT)
    assert body["reason"].startswith("Too many of this clinic's recent emails")
    [resent] = resends_of(bounced_invoice)
    assert resent.status == EmailStatus.HELD


def test_a_resend_to_an_address_reached_before_goes_out_during_a_hold(
    api, cast, aoife, bounced_invoice
):
    """Only addresses never reached are held: a known one is resent at once."""
    with scopes_disabled():
        MailHoldFactory(clinic=cast.alice_clinic)
        DeliveredAddressFactory(clinic=cast.alice_clinic, address=RIGHT)
    answer = api.post(api_url(bounced_invoice), {"email": RIGHT}, format="json")
    assert answer.status_code == 202
    assert answer.json()["status"] != "held"
