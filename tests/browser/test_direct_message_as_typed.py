"""A practitioner in Chromium reads that a direct message goes exactly as typed, types "Hi Nina,"
and the email the worker sends starts with it once: no greeting nobody typed."""

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from messaging.models import OutboundEmail
from tests.browser.conftest import log_in, screenshot
from tests.factories import PASSWORD, ClientFactory

pytestmark = [pytest.mark.browser, pytest.mark.integration]

MESSAGE = "Hi Nina,\n\nYour appointment moved to Friday – see you then.\n\nAlice"


def test_a_direct_message_arrives_as_typed(cast, esp_simulator, start_worker, new_page):
    with scopes_disabled():
        nina = ClientFactory(clinic=cast.alice_clinic, name="Nina Novak", email="nina@example.test")
    start_worker()
    page = new_page(width=390, height=844)
    log_in(page, "alice@alice.test", PASSWORD)
    page.goto(f"/clients/{nina.pk}/")
    expect(page.locator("body")).to_contain_text("Sent exactly as you type it: no greeting")
    page.get_by_role("textbox", name="Subject").fill("Friday")
    page.get_by_role("textbox", name="Message").fill(MESSAGE)
    page.get_by_role("button", name="Send message").click()
    expect(page.locator("body")).to_contain_text("is on its way")
    screenshot(page, "direct-message-sent-390")

    with scopes_disabled():
        email = OutboundEmail.objects.get(client=nina)
    expect(page.locator(f"#email-{email.pk}")).to_be_visible()
    assert email.body_text.startswith(MESSAGE)
    assert email.body_text.count("Hi Nina,") == 1
    assert "Hello" not in email.body_text
    # The worker sent it to the ESP, as it was stored.
    for _ in range(100):
        if esp_simulator.messages(email_id=str(email.pk)):
            break
        page.wait_for_timeout(100)
    [sent] = esp_simulator.messages(email_id=str(email.pk))
    assert sent["subject"] == "Friday" and sent["has_text"]
