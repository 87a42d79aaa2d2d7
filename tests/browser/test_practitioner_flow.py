"""A practitioner in headless Chromium: live statuses, failure, bell, opt-out, refusal, tenancy."""

import re

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot, support_log_in
from tests.factories import PASSWORD, ClientFactory, InvoiceFactory, SmartFormFactory

pytestmark = [pytest.mark.browser, pytest.mark.integration]


@pytest.fixture
def clients(cast):
    with scopes_disabled():
        carla = ClientFactory(
            clinic=cast.alice_clinic, name="Carla Click", email="click.carla@example.test"
        )
        ben = ClientFactory(
            clinic=cast.alice_clinic, name="Ben Bounce", email="bounce.ben@example.test"
        )
        InvoiceFactory(client=carla, number="AP-0042")
        SmartFormFactory(clinic=cast.alice_clinic, title="New client intake")
    return carla, ben


def send_direct_message(page, subject: str) -> None:
    page.get_by_role("textbox", name="Subject").fill(subject)
    page.get_by_role("textbox", name="Message").fill("Three sets of ten, twice a day.")
    page.get_by_role("button", name="Send message").click()


def test_a_practitioners_day(cast, clients, esp_simulator, start_worker, new_page, client):
    carla, ben = clients
    start_worker()
    page = new_page()
    log_in(page, "alice@alice.test", PASSWORD)

    page.goto(f"/clients/{carla.pk}/")
    send_direct_message(page, "Your exercise plan")
    expect(page.get_by_role("status")).to_contain_text("is on its way")
    badge = page.locator("#email-log .badge").first
    expect(badge).to_have_text("Clicked", timeout=45_000)  # no reload: the log refreshes itself
    page.locator("#email-log summary").first.click()
    expect(page.locator("#email-log")).to_contain_text("A very good sign it was seen")
    screenshot(page, "client-summary")

    page.goto(f"/clients/{ben.pk}/")
    send_direct_message(page, "Your appointment notes")
    expect(page.locator("#email-log .badge").first).to_have_text("Failed", timeout=45_000)
    page.locator("#email-log summary").first.click()
    expect(page.locator("#email-log .reason").first).to_contain_text("5.1.1")

    page.reload()
    expect(page.locator("#bell .count")).to_have_text(re.compile(r"[1-9]"))
    expect(page.locator("#communication")).to_contain_text("Opted out")
    expect(page.locator("#communication")).to_contain_text("Address suppressed")

    send_direct_message(page, "Trying again")
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text("Direct message not sent. Emails to this address bounce")
    expect(page.get_by_role("textbox", name="Subject")).to_have_value("Trying again")

    page.get_by_role("link", name=re.compile("Notifications")).click()
    expect(page.locator(".notification").first).to_contain_text("will not be emailed again")
    screenshot(page, "notifications")

    other = new_page()
    log_in(other, "charlie@charlie.test", PASSWORD)
    response = other.goto(f"/clients/{ben.pk}/")
    assert response.status == 404

    support = new_page()
    support_log_in(support, cast.support, PASSWORD)
    expect(support.get_by_role("button", name="Log out")).to_be_visible()
    support.goto("/admin/suppression/suppression/")
    expect(support.locator("#result_list")).to_contain_text("bounce.ben@example.test")
    support.get_by_role("link", name="bounce.ben@example.test").click()
    expect(support.locator("body")).to_contain_text("Ben Bounce")
    screenshot(support, "admin-suppression")


def test_the_summary_reads_on_a_tablet(cast, clients, new_page):
    carla, _ = clients
    page = new_page(width=800, height=1100)
    log_in(page, "alice@alice.test", PASSWORD)
    page.goto(f"/clients/{carla.pk}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 800
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to content")
