"""A practitioner opens the email as sent from the log in Chromium, at desktop width and on a 390 px
phone: the headers, the text, the HTML in its sandboxed frame with the form's link masked, the
invoice's PDF downloaded byte for byte; then the legend of the statuses, and a completed smart
form's answers. No serious accessibility violation, and no page scrolls sideways."""

import pytest
from django_scopes import scope, scopes_disabled
from playwright.sync_api import expect

from clinic.services import smart_form_submit
from messaging.log.as_sent import FORM_LINK_MASKED
from messaging.models import OutboundEmail
from messaging.sending.delivery import email_deliver
from messaging.sending.triggers import invoice_send, smart_form_send
from tests.browser.conftest import log_in, screenshot
from tests.browser.test_accessibility import assert_readable
from tests.factories import PASSWORD, ClientFactory, InvoiceFactory, SmartFormFactory

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def delivered(clinic, send) -> OutboundEmail:
    with scope(clinic=clinic):
        email = send()
        assert email_deliver(email_id=email.id).outcome == "sent"
        return OutboundEmail.objects.get(pk=email.pk)


@pytest.fixture
def aoife_mailed(cast, esp_simulator):
    """Aoife got an invoice and a smart form, which she completed."""
    with scopes_disabled():
        aoife = ClientFactory(
            clinic=cast.alice_clinic, name="Aoife O’Brien", email="aoife@example.test"
        )
        invoice = InvoiceFactory(client=aoife, number="INV-0042")
        form = SmartFormFactory(clinic=cast.alice_clinic, title="Pelvic health questionnaire")
    invoice_email = delivered(
        cast.alice_clinic, lambda: invoice_send(invoice=invoice, sent_by=cast.alice)
    )
    form_email = delivered(
        cast.alice_clinic, lambda: smart_form_send(form=form, client=aoife, sent_by=cast.alice)
    )
    with scope(clinic=cast.alice_clinic):
        form_request = form_email.form_request
        smart_form_submit(
            form_request=form_request, responses={"reason": "Łukasz said to ask", "consent": "True"}
        )
        pdf = bytes(invoice_email.attachments.get().content)
    return aoife, invoice_email, form_email, form_request, pdf


@pytest.mark.parametrize("width", [1280, 390])
def test_a_practitioner_reads_the_email_as_sent_from_the_log(cast, new_page, aoife_mailed, width):
    aoife, invoice_email, form_email, form_request, pdf = aoife_mailed
    page = new_page(width=width)
    log_in(page, "alice@alice.test", PASSWORD)
    page.goto(f"/clients/{aoife.pk}/")

    page.locator(f"#email-{form_email.id} summary").click()
    page.locator(f"#email-{form_email.id}").get_by_role("link", name="The email as sent").click()
    page.wait_for_url(f"**/emails/{form_email.id}/")
    expect(page.get_by_role("heading", name="The email as sent")).to_be_visible()
    expect(page.locator(".as-sent-headers")).to_contain_text(form_email.from_header)
    expect(page.locator(".as-sent-text")).to_contain_text(FORM_LINK_MASKED)
    frame = page.frame_locator("iframe.as-sent-html")
    expect(frame.locator("body")).to_contain_text("Pelvic health questionnaire")
    assert form_request.token not in page.content()
    assert form_request.token not in page.frames[1].content()
    assert FORM_LINK_MASKED in page.frames[1].content()
    # The frame runs nothing: its document has no script and the sandbox allows none.
    assert page.frames[1].evaluate("() => document.scripts.length") == 0
    assert_readable(page)
    # Chromium leaves a sandboxed frame (its own process) blank in a full-page capture taller
    # than the window: the window is made as tall as the page first.
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": width, "height": height})
    expect(frame.locator("body")).to_contain_text("Pelvic health questionnaire")
    page.wait_for_timeout(300)
    screenshot(page, f"email-as-sent-{width}")

    page.goto(f"/clients/{aoife.pk}/emails/{invoice_email.id}/")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="invoice-INV-0042.pdf").click()
    download = download_info.value
    assert download.suggested_filename == "invoice-INV-0042.pdf"
    with open(download.path(), "rb") as downloaded:
        assert downloaded.read() == pdf


@pytest.mark.parametrize("width", [1280, 390])
def test_the_legend_and_a_forms_answers_are_one_click_away(cast, new_page, aoife_mailed, width):
    aoife, _, _, form_request, _ = aoife_mailed
    page = new_page(width=width)
    log_in(page, "alice@alice.test", PASSWORD)
    page.goto(f"/clients/{aoife.pk}/")

    page.get_by_role("link", name="What the statuses mean").click()
    page.wait_for_url("**/emails/statuses/")
    legend = page.locator(".status-legend")
    for label in ("Sending", "Delivered", "Open", "Clicked", "Failed", "Spam report"):
        expect(legend).to_contain_text(label)
    expect(page.locator(".caveat")).to_contain_text("opens and clicks are a strong sign")
    assert_readable(page)
    screenshot(page, f"status-legend-{width}")

    page.goto(f"/clients/{aoife.pk}/")
    page.locator("#smart-forms").get_by_role("link", name="Read the answers").click()
    page.wait_for_url(f"**/forms/{form_request.pk}/")
    expect(page.locator(".form-answers")).to_contain_text("Reason for visit")
    expect(page.locator(".form-answers")).to_contain_text("Łukasz said to ask")
    assert_readable(page)
    screenshot(page, f"form-answers-{width}")
