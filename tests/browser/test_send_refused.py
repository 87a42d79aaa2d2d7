"""A receptionist in Chromium sends a direct message, then an invoice, to Aoife O’Brien, whose
address bounced: each is refused at once, in words, and what was typed or chosen is still in the
form; at desktop width and on a 390 px phone, with no sideways scrolling. And a clinic admin
reads where replies go, is told to set an SMTP server before testing one, and names the address
replies go to."""

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from suppression.models import SuppressionReason
from suppression.services import suppression_record
from tests.browser.conftest import log_in, screenshot
from tests.browser.test_accessibility import assert_readable
from tests.factories import PASSWORD, ClientFactory, InvoiceFactory, MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.integration]

SUBJECT = "Your exercises – week 2"
MESSAGE = "Hi Aoife,\n\nTwice a day, ten of each: “slow and steady”.\n\nNiamh at the front desk"
RECEPTIONIST = "niamh.walsh@alice.test"


@pytest.fixture
def aoife(cast):
    with scopes_disabled():
        MembershipFactory(
            clinic=cast.alice_clinic,
            user__email=RECEPTIONIST,
            user__first_name="Niamh",
            user__last_name="Walsh",
        )
        aoife = ClientFactory(
            clinic=cast.alice_clinic, name="Aoife O’Brien", email="aoife.obrien@example.test"
        )
        InvoiceFactory(client=aoife, number="AP-0041")
        InvoiceFactory(client=aoife, number="AP-0042")
    suppression_record(
        address=aoife.email,
        stream="mailgun",
        clinic=cast.alice_clinic,
        reason=SuppressionReason.HARD_BOUNCE,
        diagnostic="550 5.1.1 <aoife.obrien@example.test>: Recipient address rejected",
    )
    return aoife


@pytest.mark.parametrize("width", [1280, 390])
def test_a_refused_send_keeps_what_was_typed(cast, aoife, esp_simulator, new_page, width):
    page = new_page(width=width)
    log_in(page, RECEPTIONIST, PASSWORD)
    page.goto(f"/clients/{aoife.pk}/")

    page.get_by_role("textbox", name="Subject").fill(SUBJECT)
    page.get_by_role("textbox", name="Message").fill(MESSAGE)
    page.get_by_role("button", name="Send message").click()

    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text("Direct message not sent.")
    expect(refusal).to_contain_text("Emails to this address bounce")
    expect(refusal).to_contain_text("What you entered is still below, as you left it.")
    expect(page.get_by_role("textbox", name="Subject")).to_have_value(SUBJECT)
    expect(page.get_by_role("textbox", name="Message")).to_have_value(MESSAGE)
    screenshot(page, f"send-refused-{width}")
    assert_readable(page)

    invoice = page.get_by_role("combobox", name="Invoice")
    invoice.select_option(label=invoice.locator("option", has_text="AP-0042").inner_text())
    page.get_by_role("button", name="Send invoice").click()

    expect(page.get_by_role("alert")).to_contain_text("Invoice not sent.")
    expect(page.get_by_role("combobox", name="Invoice").locator("option:checked")).to_contain_text(
        "AP-0042"
    )


@pytest.mark.parametrize("width", [1280, 390])
def test_a_clinic_admin_sets_where_replies_go(cast, new_page, width):
    page = new_page(width=width)
    log_in(page, "boss@alice.test", PASSWORD)
    page.goto("/settings/")
    reply_to = page.get_by_role("textbox", name="Replies go to")
    expect(reply_to).to_have_attribute("placeholder", "boss@alice.test")
    expect(page.get_by_text("carries a Reply-To")).to_be_visible()
    page.get_by_role("button", name="Send test email").click()
    expect(page.get_by_role("status")).to_contain_text(
        "The test email was not sent: no SMTP server is set."
    )

    page.get_by_role("textbox", name="Replies go to").fill("reception@alice.test")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_contain_text("Clinic settings saved.")
    expect(page.get_by_role("textbox", name="Replies go to")).to_have_value("reception@alice.test")
    screenshot(page, f"settings-reply-to-{width}")
    assert_readable(page)
