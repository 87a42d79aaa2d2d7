"""The loop closes, in Chromium: Aoife O’Brien's address bounced and she has an appointment with
Alice next week. Alice is told no reminder will go out, asks support from Aoife's page to
reactivate the address, with a note; support finds the ask in admin and reactivates the address
through its reactivation form; Alice is told, and Aoife's page, refreshing itself, offers to opt
her back in. At 1280 and 390 px, with no serious accessibility faults on the clinic's pages."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from messaging.tracking.consequences import email_suppress_consequences
from suppression.models import ReactivationAsk, SuppressionReason
from tests.browser.conftest import log_in, screenshot, support_log_in
from tests.browser.test_accessibility import assert_readable
from tests.factories import PASSWORD, AppointmentFactory, ClientFactory, OutboundEmailFactory

pytestmark = [pytest.mark.browser]

AOIFE = "Aoife O’Brien"
ADDRESS = "aoife.obrien@example.test"
NOTE = "Aoife confirmed the address by phone today; her mailbox was full and is cleared."


@pytest.fixture
def bounced_aoife(cast):
    with scopes_disabled():
        # Named, so that the pictures read as a clinic's day rather than a factory's.
        for user, first, last in (
            (cast.alice, "Alice", "Moreau"),
            (cast.alice_admin, "Sam", "Reid"),
        ):
            user.first_name, user.last_name = first, last
            user.save(update_fields=["first_name", "last_name"])
        aoife = ClientFactory(clinic=cast.alice_clinic, name=AOIFE, email=ADDRESS)
        AppointmentFactory(
            client=aoife,
            practitioner=cast.alice,
            start=timezone.now() + timedelta(days=6),
        )
        email = OutboundEmailFactory(client=aoife, sent_by=cast.alice, status="processed")
        email_suppress_consequences(
            email_id=email.id,
            reason=SuppressionReason.HARD_BOUNCE,
            diagnostic="552 5.2.2 mailbox full",
        )
    return aoife


@pytest.mark.parametrize("width", [1280, 390])
def test_a_practitioner_asks_support_reactivates_and_she_opts_the_client_back_in(
    cast, bounced_aoife, new_page, eager_celery, esp_simulator, width
):
    alice = new_page(width=width)
    log_in(alice, cast.alice.email, PASSWORD)

    # Told that the reminder will not go out.
    alice.goto("/notifications/")
    expect(alice.locator("main")).to_contain_text(f"No reminder will go out to {AOIFE}")

    alice.goto(f"/clients/{bounced_aoife.pk}/")
    prefs = alice.locator("#communication")
    expect(prefs).to_contain_text("Address suppressed")
    assert_readable(alice, "client page, suppressed")
    screenshot(alice, f"reactivation-loop-1-suppressed-{width}")
    prefs.get_by_role("link", name="Ask support to reactivate this address").click()

    expect(alice.locator("h1")).to_contain_text("Ask support to reactivate")
    alice.get_by_label("Note to support").fill(NOTE)
    assert_readable(alice, "ask page")
    screenshot(alice, f"reactivation-ask-{width}")  # the README's picture of asking support
    alice.get_by_role("button", name="Ask support").click()
    expect(alice.locator("#reactivation-asked")).to_contain_text("Waiting for support")
    screenshot(alice, f"reactivation-loop-3-asked-{width}")

    support = new_page(width=width)
    support_log_in(support, cast.support, PASSWORD)
    support.goto("/admin/suppression/reactivationask/?state__exact=open")
    row = support.locator("#result_list tbody tr").filter(has_text=ADDRESS)
    expect(row).to_contain_text("Waiting for support")
    row.locator("a").first.click()
    expect(support.locator("#content-main")).to_contain_text(NOTE)
    expect(support.locator("#id_answer")).to_be_visible()
    wide = support.evaluate("document.documentElement.scrollWidth")
    assert wide <= width, f"support's ask page is {wide} px wide at {width} px"
    screenshot(support, f"reactivation-loop-4-support-ask-{width}")
    support.locator("#reactivate-from-ask").click()
    support.get_by_label("Reason").fill("Client confirmed the address; mailbox cleared.")
    support.get_by_role("button", name="Reactivate").click()
    expect(support.locator(".messagelist")).to_contain_text(f"Reactivated {ADDRESS}")
    screenshot(support, f"reactivation-loop-5-support-reactivated-{width}")
    with scopes_disabled():
        assert ReactivationAsk.objects.get().state == "reactivated"

    # Alice's page refreshes itself (every 2 s) into the offer to opt Aoife back in.
    opt_in = alice.get_by_role(
        "button", name="The address was reactivated: opt back in to appointment emails"
    )
    expect(opt_in).to_be_visible(timeout=15_000)
    expect(prefs).not_to_contain_text("Address suppressed")
    assert_readable(alice, "client page, reactivated")
    screenshot(alice, f"reactivation-loop-6-reactivated-{width}")

    alice.goto("/notifications/")
    expect(alice.locator("main")).to_contain_text(
        f"Support reactivated {ADDRESS}, as you asked for {AOIFE}"
    )
    alice.goto(f"/clients/{bounced_aoife.pk}/")
    expect(opt_in).to_be_visible()
    screenshot(alice, f"reactivated-notice-{width}")  # the README's picture of the loop closed
    opt_in.click()
    expect(alice.locator("main")).to_contain_text(f"{AOIFE} will receive appointment emails again")
    expect(prefs).to_contain_text("Receives appointment confirmations and reminders")
    screenshot(alice, f"reactivation-loop-7-opted-in-{width}")
