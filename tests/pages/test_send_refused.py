"""A refused send keeps what was typed: after a refusal (an address that bounced, no address on
file, the clinic's daily quota) the send form is shown again with the subject and message as
typed, or the invoice or smart form chosen, and the refusal in words, in the same response."""

import html
import re

import pytest
from django_scopes import scopes_disabled
from pytest_django.asserts import assertInHTML, assertTemplateUsed

from clinic.models import SmartFormRequest
from messaging.models import OutboundEmail
from suppression.models import SuppressionReason
from suppression.services import suppression_record
from tests.factories import ClientFactory, InvoiceFactory, OutboundEmailFactory, SmartFormFactory

pytestmark = pytest.mark.usefixtures("eager_celery")

SUBJECT = "Your exercises – week 2"
BODY = "Hi Aoife,\n\nTwice a day, ten of each: “slow and steady”.\n\nOrla"


@pytest.fixture
def aoife(cast):
    with scopes_disabled():
        return ClientFactory(
            clinic=cast.alice_clinic, name="Aoife O’Brien", email="aoife.obrien@example.test"
        )


def bounced(client, clinic) -> None:
    suppression_record(
        address=client.email,
        stream="mailgun",
        clinic=clinic,
        reason=SuppressionReason.HARD_BOUNCE,
        diagnostic="550 5.1.1 <aoife.obrien@example.test>: no such user",
    )


def send(http, client, **data):
    return http.post(f"/clients/{client.pk}/emails/send/", data)


def direct_message(http, client):
    fields = {"direct_message-subject": SUBJECT, "direct_message-body": BODY}
    return send(http, client, kind="direct_message", **fields)


def assert_kept_as_typed(page) -> None:
    """The direct message form comes back bound to what was typed, and shows it."""
    form = page.context["forms"]["direct_message"]
    assert form.is_bound
    assert (form["subject"].value(), form["body"].value()) == (SUBJECT, BODY)
    body = page.content.decode()
    assert f'value="{html.escape(SUBJECT)}"' in body
    assert html.escape(BODY) in body


def refusal_shown(page) -> str:
    """The words of the refusal block, one space between words."""
    body = page.content.decode()
    start = body.index('id="send-refused"')
    block = body[body.index(">", start) + 1 : body.index("</div>", start)]
    return " ".join(html.unescape(re.sub("<[^>]+>", "", block)).split())


def test_a_message_to_a_bounced_address_is_refused_and_kept_as_typed(client, cast, aoife):
    bounced(aoife, cast.alice_clinic)
    client.force_login(cast.alice)

    page = direct_message(client, aoife)

    assert page.status_code == 200
    assertTemplateUsed(page, "messaging/send_page.html")
    assert_kept_as_typed(page)
    words = refusal_shown(page)
    assert words.startswith("Direct message not sent. Emails to this address bounce")
    assert "550 5.1.1" in words
    assert "What you entered is still below, as you left it." in words
    assertInHTML(
        '<div class="notice notice-bad" role="alert" id="send-refused">'
        f"<p><strong>Direct message not sent.</strong> {html.escape(page.context['refusal'])}</p>"
        "<p>What you entered is still below, as you left it.</p></div>",
        page.content.decode(),
    )
    with scopes_disabled():
        [refused] = OutboundEmail.objects.filter(client=aoife)
    assert (refused.status, refused.refusal, refused.subject) == ("failed", "suppressed", SUBJECT)


def test_the_log_says_not_sent_once_for_a_refusal_stored_bare_or_as_before(client, cast, aoife):
    bounced(aoife, cast.alice_clinic)
    client.force_login(cast.alice)
    direct_message(client, aoife)
    with scopes_disabled():
        [refused] = OutboundEmail.objects.filter(client=aoife)
        # Saved before the words were stored bare: its "Not sent." is not said twice.
        OutboundEmailFactory(
            client=aoife,
            status="failed",
            refusal="no_address",
            reason="Not sent. This client has no email address on file.",
        )
    assert refused.reason.startswith("Emails to this address bounce")  # stored bare
    log = " ".join(
        html.unescape(
            re.sub("<[^>]+>", " ", client.get(f"/clients/{aoife.pk}/").content.decode())
        ).split()
    )
    assert "Reason: Not sent. Emails to this address bounce" in log
    assert "Reason: Not sent. This client has no email address on file." in log
    assert "Not sent. Not sent." not in log


def test_a_message_to_a_client_with_no_address_is_refused_and_kept(client, cast, aoife):
    with scopes_disabled():
        aoife.email = ""
        aoife.save()
    client.force_login(cast.alice)

    page = direct_message(client, aoife)

    assert_kept_as_typed(page)
    assert "This client has no email address on file." in refusal_shown(page)


def test_a_message_over_the_daily_quota_is_refused_and_kept(client, cast, aoife, settings):
    settings.DAILY_SEND_QUOTA = 1
    with scopes_disabled():
        OutboundEmailFactory(client=aoife)  # the clinic's one email of the day
    client.force_login(cast.alice)

    page = direct_message(client, aoife)

    assert_kept_as_typed(page)
    assert "Alice Physio has started 1 emails in the last 24 hours" in refusal_shown(page)
    with scopes_disabled():
        assert OutboundEmail.objects.filter(client=aoife).count() == 1  # nothing more saved


def test_an_invoice_and_a_smart_form_stay_chosen_after_a_refusal(client, cast, aoife):
    with scopes_disabled():
        InvoiceFactory(client=aoife, number="AP-1")
        chosen_invoice = InvoiceFactory(client=aoife, number="AP-2")
        SmartFormFactory(clinic=cast.alice_clinic, title="Intake")
        chosen_form = SmartFormFactory(clinic=cast.alice_clinic, title="Consent – sports")
    bounced(aoife, cast.alice_clinic)
    client.force_login(cast.alice)

    page = send(client, aoife, kind="invoice", **{"invoice-invoice": chosen_invoice.pk})
    assert refusal_shown(page).startswith("Invoice not sent.")
    assert page.context["forms"]["invoice"]["invoice"].value() == str(chosen_invoice.pk)
    assertInHTML(
        f'<option value="{chosen_invoice.pk}" selected>AP-2, {chosen_invoice.issue_date:%d %b %Y},'
        f" {chosen_invoice.currency} {chosen_invoice.total}</option>",
        page.content.decode(),
    )

    page = send(client, aoife, kind="smart_form", **{"smart_form-form": chosen_form.pk})
    assert refusal_shown(page).startswith("Smart form not sent.")
    assertInHTML(
        f'<option value="{chosen_form.pk}" selected>Consent – sports</option>',
        page.content.decode(),
    )
    with scopes_disabled():
        assert not SmartFormRequest.objects.exists()


def test_a_send_that_goes_ahead_still_returns_to_the_client_page(client, cast, aoife):
    """The control: only a refusal stays on the form."""
    client.force_login(cast.alice)
    page = direct_message(client, aoife)
    assert page.status_code == 302
    assert page.url == f"/clients/{aoife.pk}/"
