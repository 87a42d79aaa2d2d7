"""Support's own screens in Chromium: a login at the normal login page lands in the support
admin at its authenticator step; the reactivation form opens from the suppression's own page,
shows today's date in the browser's date field, refuses a request dated in the future keeping
what was typed, and lifts a spam complaint on a request taken by phone. A practitioner's
notification of that complaint opens the email it names and is read once opened."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from messaging.tracking.consequences import email_suppress_consequences
from notifications.models import Notification
from suppression.models import Suppression, SuppressionReason
from tests.browser.conftest import authenticator_code, screenshot
from tests.factories import PASSWORD, ClientFactory, OutboundEmailFactory

pytestmark = [pytest.mark.browser]

SUPPORT_ADDRESS = "removals@clinicmail.test"


@pytest.fixture
def complaint(cast, settings):
    """Aoife O’Brien, a client of Alice's clinic, marked a delivered message as spam."""
    settings.SUPPORT_EMAIL = SUPPORT_ADDRESS
    with scopes_disabled():
        aoife = ClientFactory(
            clinic=cast.alice_clinic, name="Aoife O’Brien", email="complaint.aoife@example.test"
        )
        email = OutboundEmailFactory(
            client=aoife, sent_by=cast.alice, status="delivered", subject="Your exercises"
        )
        email_suppress_consequences(
            email_id=email.id,
            reason=SuppressionReason.SPAM_COMPLAINT,
            diagnostic="abuse report from mx.example.test",
        )
    return aoife, email


def support_logs_in_at_the_normal_login_page(page, cast) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill("support@platform.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/admin/login/"))


def test_support_lands_in_admin_and_reactivates_from_the_suppressions_page(
    cast, complaint, new_page, eager_celery, esp_simulator
):
    authenticator = authenticator_code(cast.support)  # enrols the support person's app
    page = new_page()
    support_logs_in_at_the_normal_login_page(page, cast)
    expect(page.locator("body")).not_to_contain_text("This page is for clinic staff")
    expect(page.locator("#content-main")).to_contain_text(
        "The support admin also needs the 6-digit code from your authenticator app"
    )
    screenshot(page, "support-landing-authenticator-step")
    page.get_by_label("Email address").fill("support@platform.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Authenticator code").fill(authenticator)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/admin/$"))

    suppression = Suppression.objects.get(address="complaint.aoife@example.test")
    page.goto(f"/admin/suppression/suppression/{suppression.pk}/change/")
    page.get_by_role("link", name="Reactivate this address").click()
    expect(page.locator("h1")).to_have_count(1)
    expect(page.locator("h1")).to_have_text("Reactivate address")
    date_field = page.get_by_label("Client's request: date")
    expect(date_field).to_have_value(timezone.localdate().isoformat())
    expect(page.locator("#content-main")).to_contain_text(f"emailed to {SUPPORT_ADDRESS}")
    screenshot(page, "support-reactivation-form")

    future = (timezone.localdate() + timedelta(days=5)).isoformat()
    page.get_by_label("Reason").fill("Aoife O’Brien rang to ask for the clinic's emails again")
    date_field.fill(future)
    page.get_by_label("Client's request: how it was made").select_option("phone")
    page.get_by_label("Client's request: reference").fill("call log 2026-11-30 #4711")
    page.get_by_role("button", name="Reactivate").click()

    expect(page.locator(".errorlist")).to_have_text(
        "That date is in the future: give the day the client made the request."
    )
    expect(page.get_by_label("Reason")).to_have_value(
        "Aoife O’Brien rang to ask for the clinic's emails again"
    )
    expect(date_field).to_have_value(future)
    expect(page.get_by_label("Client's request: how it was made")).to_have_value("phone")
    expect(page.get_by_label("Client's request: reference")).to_have_value(
        "call log 2026-11-30 #4711"
    )
    assert Suppression.objects.get(pk=suppression.pk).active
    screenshot(page, "support-reactivation-refused-future-date")

    date_field.fill(timezone.localdate().isoformat())
    page.get_by_role("button", name="Reactivate").click()
    page.wait_for_url(re.compile(rf"/admin/suppression/suppression/{suppression.pk}/change/$"))
    expect(page.locator(".messagelist")).to_contain_text("Reactivated complaint.aoife@example.test")
    assert not Suppression.objects.get(pk=suppression.pk).active
    expect(page.get_by_role("link", name="Reactivate this address")).to_have_count(0)
    screenshot(page, "support-reactivated")


@pytest.mark.parametrize("width", [1280, 390])
def test_a_spam_complaint_notification_opens_its_email(cast, complaint, new_page, width):
    aoife, email = complaint
    page = new_page(width=width)
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill("alice@alice.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/clients/")

    page.goto("/notifications/")
    note = page.locator("li.notification").first
    expect(note).to_contain_text(
        "Direct message to Aoife O’Brien was delivered, and then marked as spam"
    )
    expect(note).to_contain_text(SUPPORT_ADDRESS)
    expect(note).not_to_contain_text("failed")
    screenshot(page, f"notification-spam-complaint-{width}")
    note.get_by_role("button", name="Open Aoife O’Brien: the email").click()

    page.wait_for_url(re.compile(rf"/clients/{aoife.pk}/\?email={email.id}#email-{email.id}$"))
    details = page.locator(f'details[data-email="{email.id}"]')
    expect(details).to_have_attribute("open", "")
    expect(details.locator("summary")).to_be_focused()
    page.wait_for_timeout(2500)  # the log refreshes every 2 s: the email stays open and focused
    expect(details).to_have_attribute("open", "")
    expect(details.locator("summary")).to_be_focused()
    panel = page.locator("#communication")
    expect(panel).to_contain_text(f"ask them to email {SUPPORT_ADDRESS} from this address")
    expect(panel).not_to_contain_text("ask support to reactivate it")
    with scopes_disabled():
        assert Notification.objects.get(email_id=email.id).read_at is not None
    expect(page.locator("#bell")).not_to_contain_text("1")
    scroll = page.evaluate("document.documentElement.scrollWidth")
    screenshot(page, f"notification-opened-email-{width}")
    assert scroll <= width, f"the page is {scroll} px wide at {width} px"
