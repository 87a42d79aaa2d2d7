"""A receptionist uses the client page by keyboard alone while the email log refreshes itself
(every 2 s while an email is in flight), in Chromium at desktop width and on a 390 px phone. The
ESP's webhook then reports a hard bounce of the smart form's email: without a reload, the email's
status, the communication preferences and the smart form's state change together; the element
the receptionist tabbed to keeps the focus, the email they opened stays open, and a screen reader
is told what changed through the page's one polite live region."""

import uuid

import pytest
from axe_playwright_python.sync_playwright import Axe
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from clinic.models import SmartFormRequest
from messaging.models import EmailKind, OutboundEmail
from tests.browser.conftest import log_in, screenshot
from tests.factories import PASSWORD, ClientFactory, SmartFormFactory
from tests.tracking.helpers import mailgun_hard_bounce, tracked_email

pytestmark = [pytest.mark.browser]


@pytest.fixture
def aoife(cast):
    """Aoife O’Brien at Alice's clinic: an invoice delivered yesterday, and a smart form whose
    email the ESP has accepted and is still delivering (so the log refreshes every 2 s)."""
    with scopes_disabled():
        aoife = ClientFactory(
            clinic=cast.alice_clinic, name="Aoife O’Brien", email="aoife.obrien@example.test"
        )
        invoice = tracked_email(cast.alice_clinic, aoife, esp="mailgun", email_id=uuid.uuid4())
        OutboundEmail.objects.filter(pk=invoice.pk).update(
            kind=EmailKind.INVOICE, subject="Your invoice AP-0042", status="delivered"
        )
        form_request = SmartFormRequest.objects.create(
            clinic=cast.alice_clinic,
            client=aoife,
            form=SmartFormFactory(clinic=cast.alice_clinic, title="New client intake"),
        )
        form_email = tracked_email(
            cast.alice_clinic, aoife, esp="mailgun", email_id=uuid.uuid4(), sent_by=cast.alice
        )
        OutboundEmail.objects.filter(pk=form_email.pk).update(
            kind=EmailKind.SMART_FORM, subject="Your intake form", form_request=form_request
        )
    return aoife, form_email, form_request


def tab_to(page, summary_text: str, *, most: int = 40) -> None:
    """Presses Tab until the focus is on the email summary reading `summary_text`."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate(
            "(text) => document.activeElement.localName === 'summary'"
            " && document.activeElement.textContent.includes(text)",
            summary_text,
        ):
            return
    raise AssertionError(f"Tab never reached the email {summary_text!r}")


def focus_kept(page) -> bool:
    """Whether the element tabbed to is still in the page and still has the focus."""
    return page.evaluate(
        "window.tabbedTo.isConnected && document.activeElement === window.tabbedTo"
    )


def wait_for_refreshes(page, count: int) -> None:
    """Waits until `count` more refreshes of the log have been answered and swapped in."""
    target = page.evaluate("window.settledRefreshes") + count
    page.wait_for_function(
        "(target) => window.settledRefreshes >= target", arg=target, timeout=20_000
    )


COUNT_SETTLED_REFRESHES = """
window.settledRefreshes = 0;
document.addEventListener("htmx:afterSettle", function (event) {
  if (event.target.id === "email-log") { window.settledRefreshes += 1; }
});
"""


@pytest.mark.parametrize("width", [1280, 390])
def test_keyboard_use_while_the_log_refreshes_and_a_bounce_arrives(
    cast, aoife, new_page, client, width
):
    person, form_email, form_request = aoife
    page = new_page(width=width)
    page.add_init_script(COUNT_SETTLED_REFRESHES)
    log_in(page, "alice@alice.test", PASSWORD)
    page.goto(f"/clients/{person.pk}/")
    page.evaluate("window.sameDocument = true")

    tab_to(page, "Your intake form")
    page.keyboard.press("Enter")
    page.evaluate("window.tabbedTo = document.activeElement")
    opened = page.locator(f"#email-{form_email.pk} details")
    expect(opened).to_have_attribute("open", "")

    wait_for_refreshes(page, 2)
    assert focus_kept(page), "a refresh with nothing new moved the focus"
    expect(opened).to_have_attribute("open", "")
    expect(page.locator("#live-news")).to_be_empty()  # nothing changed, nothing said

    mailgun_hard_bounce(client, form_email, "5.1.1 The email account does not exist")

    expect(page.locator(f"#email-{form_email.pk} .badge")).to_have_text("Failed")
    live = page.locator("#live-news")
    expect(live).to_contain_text("Email “Your intake form” to Aoife O’Brien: Failed")
    expect(live).to_contain_text("Smart form “New client intake”: Email not delivered")
    expect(live).to_contain_text("opted out of appointment emails")
    expect(live).not_to_contain_text("Your invoice AP-0042")  # unchanged, so not said again
    assert page.locator("[aria-live]").count() == 1

    preferences = page.locator("#communication")
    expect(preferences).to_contain_text("Address suppressed")
    expect(preferences).to_contain_text("Opted out")
    expect(preferences).not_to_contain_text("Receives appointment confirmations")
    # Said once, in the banner with its way out: no opt-in to refuse below it.
    expect(preferences.get_by_role("link", name="Ask support to reactivate")).to_be_visible()
    expect(page.get_by_role("button", name="Opt back in to appointment emails")).to_have_count(0)

    forms = page.locator(f"#form-request-{form_request.pk}")
    expect(forms).to_contain_text("Email not delivered")
    expect(forms).not_to_contain_text("Waiting for the client")

    assert page.evaluate("window.sameDocument") is True, "the page was reloaded"
    assert focus_kept(page), "the refresh that brought the bounce moved the focus"
    expect(opened).to_have_attribute("open", "")
    expect(opened).to_contain_text("5.1.1 The email account does not exist")

    wait_for_refreshes(page, 1)  # the next refresh (15 s once settled) says nothing new
    assert focus_kept(page)

    page.keyboard.press("Tab")  # keyboard use goes on from where it was
    assert page.evaluate("document.activeElement !== window.tabbedTo")
    assert page.evaluate("window.tabbedTo.compareDocumentPosition(document.activeElement) & 4")

    violations = [
        violation
        for violation in Axe().run(page).response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
    assert violations == [], [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations]
    scroll = page.evaluate("document.documentElement.scrollWidth")
    screenshot(page, f"live-client-page-{width}")
    assert scroll <= width, f"the page is {scroll} px wide at {width} px"
