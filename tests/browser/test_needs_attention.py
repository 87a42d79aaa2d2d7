"""The "Needs attention" page in Chromium: a clinic admin reaches it from the nav, narrows it to
one practitioner and one kind, and opens a failed email on its client's page; a practitioner on a
390 px phone sees only their own rows. No serious axe-core violation, no sideways scrolling."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot
from tests.browser.test_accessibility import assert_readable
from tests.factories import PASSWORD
from tests.pages.test_needs_attention import world  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser]


def test_a_clinic_admin_filters_and_opens_a_failed_email(cast, world, new_page):  # noqa: F811
    page = new_page(width=1280)
    log_in(page, cast.alice_admin.email, PASSWORD)
    nav = page.get_by_role("navigation", name="Main")
    expect(page.get_by_role("link", name="Needs attention")).to_have_count(1)  # one entry
    nav.get_by_role("link", name="Needs attention").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Needs attention")
    rows = page.locator(".attention-row")
    expect(rows).to_have_count(6)
    # In the rows: staff's names, made in sequence by the factories, may match in the filter.
    expect(rows.get_by_text("Aoife O’Brien").first).to_be_visible()
    expect(rows.get_by_text("أويفه أوبراين").first).to_be_visible()
    screenshot(page, "needs-attention-1280")
    assert_readable(page)

    page.get_by_label("Practitioner").select_option(label="Nina Nowak")
    page.get_by_role("button", name="Show").click()
    expect(rows).to_have_count(3)  # the stuck email, the spam report, Łukasz's appointment
    page.get_by_label("Kind").select_option(label="Reported as spam")
    page.get_by_role("button", name="Show").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Reported as spam")

    page.get_by_label("Practitioner").select_option(label="Everyone")
    page.get_by_label("Kind").select_option(label="Failed")
    page.get_by_role("button", name="Show").click()
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link").click()
    email = page.locator(f"#email-{world.failed.id}")
    expect(email.locator("details")).to_have_attribute("open", "")
    expect(email).to_contain_text("Your exercises")


def test_a_practitioner_on_a_phone_sees_only_their_own(cast, world, new_page):  # noqa: F811
    page = new_page(width=390, height=844)
    log_in(page, cast.alice.email, PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Needs attention").click()
    rows = page.locator(".attention-row")
    expect(rows).to_have_count(3)  # her failed email and deferred invoice, Aoife's appointment
    expect(page.get_by_label("Practitioner")).to_have_count(0)
    # Clients' names, in the rows' <bdi>: staff's factory-made names may be the same words.
    expect(rows.locator("bdi", has_text="Łukasz Żółć")).to_have_count(0)
    expect(rows.locator("bdi", has_text="Aoife O’Brien")).not_to_have_count(0)
    screenshot(page, "needs-attention-390")
    assert_readable(page)
