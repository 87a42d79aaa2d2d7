"""A practitioner reads failed emails in Chromium, at desktop width and on a 390 px phone: one the
ESP gave up on after temporary failures, one that failed for a cause of ours; neither blames the
client's address, and the page does not scroll sideways."""

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from messaging.models import OutboundEmail
from tests.browser.conftest import log_in, screenshot
from tests.factories import PASSWORD, ClientFactory
from tests.tracking.helpers import tracked_email

pytestmark = [pytest.mark.browser, pytest.mark.integration]

WORDS = {
    "temporary": ("smtp;452 4.2.2 Mailbox full", "Nothing is wrong with the address"),
    "sender": ("550 5.7.1 Message rejected: sender reputation", "a problem on our side"),
}


@pytest.mark.parametrize("width", [1280, 390])
def test_a_failure_not_of_the_address_is_explained_as_what_it_was(cast, new_page, width):
    with scopes_disabled():
        aoife = ClientFactory(
            clinic=cast.alice_clinic, name="Aoife O’Brien", email="aoife@example.test"
        )
        for n, (cause, (reason, _)) in enumerate(WORDS.items()):
            email = tracked_email(
                cast.alice_clinic,
                aoife,
                esp="mailgun",
                email_id=f"00000000-0000-4000-8000-00000000000{n}",
            )
            OutboundEmail.objects.filter(pk=email.pk).update(
                status="failed", reason=reason, failure_cause=cause
            )
    page = new_page(width=width)
    log_in(page, "alice@alice.test", PASSWORD)
    page.goto(f"/clients/{aoife.pk}/")
    log = page.locator("#email-log")
    for summary in log.locator("summary").all():
        summary.click()
    for reason, help_words in WORDS.values():
        expect(log).to_contain_text(reason)
        expect(log).to_contain_text(help_words)
    expect(log).not_to_contain_text("the address is wrong")
    scroll = page.evaluate("document.documentElement.scrollWidth")
    screenshot(page, f"failure-causes-{width}")
    assert scroll <= width, f"the page is {scroll} px wide at {width} px"
