"""A receptionist in Chromium reads that an invoice to Aoife O’Brien bounced, corrects her address
and resends the invoice in one step: the log shows the failed email and its resend linked both
ways, and the resend on its way to the corrected address with the same invoice PDF; at desktop
width and on a 390 px phone, with no serious axe-core violation."""

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from clinic.models import Membership
from messaging.models import EmailKind, OutboundEmail
from messaging.status import EmailStatus
from suppression.models import SuppressionReason
from suppression.services import suppression_record
from tests.browser.conftest import log_in, screenshot
from tests.browser.test_accessibility import assert_readable
from tests.factories import (
    PASSWORD,
    ClientFactory,
    InvoiceFactory,
    MembershipFactory,
    OutboundEmailFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.usefixtures("eager_celery")]

RECEPTIONIST = "niamh.walsh@alice.test"
WRONG, RIGHT = "aoife.obrien@exmaple.ie", "aoife.obrien@example.ie"
SUBJECT = "Your invoice AP-0042 from Alice Physio"


@pytest.fixture
def bounced_invoice(cast):
    """An invoice to Aoife O’Brien that hard-bounced: failed, the address suppressed."""
    with scopes_disabled():
        MembershipFactory(
            clinic=cast.alice_clinic,
            role=Membership.Role.RECEPTIONIST,
            user__email=RECEPTIONIST,
            user__first_name="Niamh",
            user__last_name="Walsh",
        )
        aoife = ClientFactory(clinic=cast.alice_clinic, name="Aoife O’Brien", email=WRONG)
        invoice = InvoiceFactory(client=aoife, number="AP-0042")
        email = OutboundEmailFactory(
            client=aoife,
            kind=EmailKind.INVOICE,
            invoice=invoice,
            subject=SUBJECT,
            body_text="Dear Aoife,\n\nYour invoice AP-0042 is attached.\n",
            sent_by=cast.alice,
            status=EmailStatus.FAILED,
            reason="The receiving server said: 550 5.1.1 no such domain exmaple.ie.",
        )
    suppression_record(
        address=WRONG,
        stream="mailgun",
        clinic=cast.alice_clinic,
        reason=SuppressionReason.HARD_BOUNCE,
        diagnostic="550 5.1.1 no such domain exmaple.ie",
        source_email_id=email.pk,
    )
    return email


@pytest.mark.parametrize("width", [1280, 390])
def test_a_receptionist_corrects_the_address_and_resends_a_bounced_invoice(
    cast, bounced_invoice, esp_simulator, new_page, width
):
    aoife = bounced_invoice.client
    page = new_page(width=width)
    log_in(page, RECEPTIONIST, PASSWORD)
    page.goto(f"/clients/{aoife.pk}/")

    failed = page.locator(f"#email-{bounced_invoice.pk}")
    failed.locator("summary").click()
    expect(failed).to_contain_text("550 5.1.1 no such domain")
    failed.get_by_role("link", name="Correct the address and resend").click()

    expect(page.get_by_role("heading", name="Correct the address and resend")).to_be_visible()
    expect(page.get_by_text(SUBJECT)).to_be_visible()
    address = page.get_by_role("textbox", name="Aoife O’Brien’s email address")
    expect(address).to_have_value(WRONG)
    address.fill(RIGHT)
    screenshot(page, f"resend-{width}")
    assert_readable(page)
    page.get_by_role("button", name="Save the address and resend").click()

    expect(page.get_by_role("status")).to_contain_text(f"Invoice resent to {RIGHT}.")
    with scopes_disabled():
        resent = OutboundEmail.objects.get(replaces=bounced_invoice)
    assert (resent.to_email, resent.invoice_id) == (RIGHT, bounced_invoice.invoice_id)
    [sent] = esp_simulator.messages(email_id=str(resent.pk))
    assert [a["filename"] for a in sent["attachments"]] == ["invoice-AP-0042.pdf"]

    new = page.locator(f"#email-{resent.pk}")
    if not new.locator("details").evaluate("d => d.open"):
        new.locator("summary").click()
    expect(new).to_contain_text(f"To {RIGHT}")
    new.get_by_role("link", name="the email that failed").click()
    old = page.locator(f"#email-{bounced_invoice.pk}")
    if not old.locator("details").evaluate("d => d.open"):
        old.locator("summary").click()
    expect(old).to_contain_text("Resent as the email of")
    expect(old.get_by_role("link", name="Correct the address and resend")).to_have_count(0)
    old.get_by_role("link", name="the email of").click()
    expect(page).to_have_url(f"/clients/{aoife.pk}/?email={resent.pk}#email-{resent.pk}")
    for email in (resent, bounced_invoice):  # both open, linked to each other, for the picture
        details = page.locator(f"#email-{email.pk} details")
        if not details.evaluate("d => d.open"):
            details.locator("summary").click()
    expect(page.locator(f"#email-{bounced_invoice.pk}")).to_contain_text("Resent as")
    screenshot(page, f"resend-linked-{width}")
    assert_readable(page)


def test_a_corrected_address_that_is_suppressed_too_is_refused_in_words(
    cast, bounced_invoice, esp_simulator, new_page
):
    suppression_record(
        address=RIGHT,
        stream="mailgun",
        clinic=cast.alice_clinic,
        reason=SuppressionReason.HARD_BOUNCE,
        diagnostic="550 5.1.1 mailbox unavailable",
    )
    page = new_page(width=390)
    log_in(page, RECEPTIONIST, PASSWORD)
    page.goto(f"/clients/{bounced_invoice.client_id}/emails/{bounced_invoice.pk}/resend/")
    page.get_by_role("textbox", name="Aoife O’Brien’s email address").fill(RIGHT)
    page.get_by_role("button", name="Save the address and resend").click()

    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text("Invoice not resent. Emails to this address bounce")
    expect(refusal).to_contain_text(f"Nothing was changed: the client's address is still {WRONG}.")
    expect(page.get_by_role("textbox", name="Aoife O’Brien’s email address")).to_have_value(RIGHT)
    screenshot(page, "resend-refused-390")
    assert_readable(page)
    assert esp_simulator.messages() == []
