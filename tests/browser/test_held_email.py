"""Held emails in Chromium: a practitioner opens a client's page and reads that an email was held,
not sent, and why (at desktop width and on a 390 px phone); support releases the clinic's hold
in admin, giving the reason the release page asks for."""

import re

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from messaging.models import MailHold, OutboundEmail
from messaging.reputation.guard import held_reason
from messaging.status import EmailStatus
from tests.browser.conftest import authenticator_code, log_in, screenshot, support_log_in
from tests.browser.test_accessibility import assert_readable
from tests.factories import PASSWORD, ClientFactory, MailHoldFactory, OutboundEmailFactory

pytestmark = [pytest.mark.browser]


@pytest.fixture
def held(cast):
    with scopes_disabled():
        hold = MailHoldFactory(clinic=cast.alice_clinic)
        nora = ClientFactory(clinic=cast.alice_clinic, name="Nora Quinn", email="nora@example.test")
        email = OutboundEmailFactory(
            client=nora,
            sent_by=cast.alice,
            subject="Your exercise plan",
            status=EmailStatus.HELD,
            reason=held_reason(),
        )
    return hold, email


@pytest.mark.parametrize("width", [1280, 390])
def test_a_practitioner_reads_why_an_email_was_held(cast, held, new_page, width):
    _, email = held
    page = new_page(width=width)
    log_in(page, "alice@alice.test", PASSWORD)
    page.goto(f"/clients/{email.client_id}/")
    row = page.locator(f"#email-{email.pk}")
    expect(row.locator(".badge")).to_have_text("Held")
    row.locator("summary").click()
    expect(row.locator(".reason")).to_be_visible()
    expect(row.locator(".reason")).to_contain_text("Too many of this clinic's recent emails")
    expect(row.locator(".status-help")).to_contain_text(
        "It goes out by itself if support lifts the pause within 3 days of its writing"
    )
    screenshot(page, f"held-email-{width}")
    assert_readable(page, f"held email at {width}")


def test_support_releases_a_hold_with_a_reason(cast, held, new_page):
    hold, email = held
    authenticator_code(cast.support)  # enrols the support person's app
    page = new_page()
    support_log_in(page, cast.support, PASSWORD)
    page.wait_for_url(re.compile(r"/admin/$"))
    page.goto("/admin/messaging/mailhold/")
    page.get_by_role("link", name="Release…").click()
    expect(page.locator("#release-effect")).to_contain_text("sends 1 held email now")
    reason = page.get_by_label("Why release it")
    expect(reason).to_have_attribute("required", "")
    page.get_by_role("button", name="Release the hold").click()  # the browser asks for it
    expect(page).to_have_url(re.compile(r"/release/$"))
    with scopes_disabled():
        assert MailHold.objects.get(pk=hold.pk).released_at is None
    reason.fill("The clinic removed the old list it imported.")
    screenshot(page, "admin-release-hold-1280")
    assert_readable(page, "release page")
    page.get_by_role("button", name="Release the hold").click()
    page.wait_for_url(re.compile(r"/admin/messaging/mailhold/$"))
    expect(page.locator(".messagelist")).to_contain_text("Released the hold on Alice Physio")
    with scopes_disabled():
        assert MailHold.objects.get(pk=hold.pk).released_at is not None
        assert OutboundEmail.objects.get(pk=email.pk).status != EmailStatus.HELD
