"""Consent and security pages in Chromium, as each role reads them: a neighbour clinic sees only
that an address cannot be emailed (desktop and a 390 px phone); a clinic on its own SMTP server is
still stopped by its own client's spam complaint, and its settings page says so; support reads why
a forged removal request cannot be approved; a clinic admin issues an API token, shown once."""

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from messaging.tracking.consequences import email_suppress_consequences
from suppression.models import SuppressionReason
from suppression.removal_requests import removal_request_receive
from suppression.sender_auth import EspVerdicts
from tests.browser.conftest import log_in, screenshot, support_log_in
from tests.factories import PASSWORD, ClientFactory, OutboundEmailFactory, SmartFormFactory

pytestmark = [pytest.mark.browser]

DIAGNOSTIC = "550 5.7.1 abuse report from mx.example.test"


@pytest.fixture
def complaint(cast):
    """Aoife O’Brien reported one of Alice's clinic's emails as spam; Charlie's clinic has a
    client at the same address."""
    with scopes_disabled():
        aoife = ClientFactory(
            clinic=cast.alice_clinic, name="Aoife O’Brien", email="aoife@example.test"
        )
        neighbour = ClientFactory(
            clinic=cast.charlie_clinic, name="أويفه أوبراين", email="aoife@example.test"
        )
        email = OutboundEmailFactory(client=aoife)
        email_suppress_consequences(
            email_id=email.id, reason=SuppressionReason.SPAM_COMPLAINT, diagnostic=DIAGNOSTIC
        )
    return aoife, neighbour


def no_sideways_scroll(page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the page is {scroll} px wide at {width} px"


@pytest.mark.parametrize("width", [1280, 390])
def test_a_neighbour_clinic_reads_only_that_the_address_cannot_be_emailed(
    cast, complaint, new_page, width
):
    _, neighbour = complaint
    page = new_page(width=width)
    log_in(page, "charlie@charlie.test", PASSWORD)
    page.goto(f"/clients/{neighbour.pk}/")
    panel = page.locator("#communication")
    expect(panel).to_contain_text("Address suppressed")
    expect(panel).to_contain_text("Cannot be emailed")
    body = page.locator("body")
    expect(body).not_to_contain_text("Spam complaint")
    expect(body).not_to_contain_text(DIAGNOSTIC)
    screenshot(page, f"consent-neighbour-{width}")
    no_sideways_scroll(page, width)


def test_a_clinic_on_its_own_server_is_still_stopped_by_its_clients_complaint(
    cast, complaint, new_page, settings
):
    aoife, _ = complaint
    settings.SMTP_PRIVATE_HOSTS_ALLOWED = []
    clinic = cast.alice_clinic
    clinic.sending_connection = "own_smtp"
    clinic.smtp_host, clinic.smtp_from_email = "smtp.alice-physio.test", "desk@alice.test"
    clinic.save()

    page = new_page()
    log_in(page, "boss@alice.test", PASSWORD)
    page.goto("/settings/")
    expect(page.locator("main")).to_contain_text(
        "Consent stays with the client whatever server you use"
    )
    screenshot(page, "consent-own-smtp-settings")

    page.goto(f"/clients/{aoife.pk}/")
    panel = page.locator("#communication")
    expect(panel).to_contain_text("Spam complaint since")
    expect(panel).to_contain_text(DIAGNOSTIC)
    # Not possible while suppressed: the banner says what the client must do, once.
    expect(panel).to_contain_text("What the client must do")
    expect(page.get_by_role("button", name="Opt back in to appointment emails")).to_have_count(0)
    screenshot(page, "consent-own-smtp-client")


def test_support_reads_why_a_forged_removal_request_cannot_be_approved(cast, complaint, new_page):
    with scopes_disabled():
        [request] = removal_request_receive(
            from_address="aoife@example.test",
            subject="Please email me again",
            text="It was a mistake.",
            message_id="<forged@attacker.example>",
            esp="sendgrid",
            verdicts=EspVerdicts(
                esp="sendgrid",
                spf="fail",
                envelope_sender="bounce@attacker.example",
                dkim="pass",
                dkim_domains=(("attacker.example", "pass"),),
            ),
        )
    assert not request.verified
    page = new_page()
    support_log_in(page, cast.support, PASSWORD)
    page.goto(f"/admin/suppression/removalrequest/{request.pk}/change/")
    expect(page.locator("body")).to_contain_text("This request cannot be approved.")
    expect(page.get_by_role("button", name="Approve: reactivate the address")).to_have_count(0)
    screenshot(page, "consent-forged-removal-request")


def test_a_clinic_admin_issues_an_api_token_shown_once(cast, new_page):
    page = new_page()
    log_in(page, "boss@alice.test", PASSWORD)
    page.goto("/settings/api-tokens/")
    page.get_by_role("button", name="Issue").first.click()
    expect(page.locator("body")).to_contain_text("will not be shown again")
    screenshot(page, "api-token-issued")
    token = page.get_by_role("textbox", name="Token").input_value()
    page.goto("/settings/api-tokens/")
    expect(page.locator("body")).not_to_contain_text("will not be shown again")
    assert token not in page.content()
    expect(page.locator("table")).to_contain_text(token[:8])


def test_a_client_fills_a_smart_form_on_a_phone_and_the_link_is_then_spent(cast, new_page):
    """The form page keeps its link from other sites, and its POST still carries the page's own
    origin, which CSRF protection needs (`Referrer-Policy: no-referrer` would send `null`)."""
    with scopes_disabled():
        form = SmartFormFactory(clinic=cast.alice_clinic, title="New client intake")
        token = form.requests.create(clinic=cast.alice_clinic, client=cast.bob).token
    page = new_page(width=390, height=844)
    page.goto(f"/forms/{token}/")
    page.get_by_label("Reason for visit").fill("Knee pain after running — “sharp”, 3/10")
    page.get_by_label("I consent").check()
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("h1")).to_have_text("Thank you")
    screenshot(page, "smart-form-sent-390")
    no_sideways_scroll(page, 390)
    with scopes_disabled():
        answered = form.requests.get()
    assert answered.state == "completed"
    assert answered.responses["reason"] == "Knee pain after running — “sharp”, 3/10"
