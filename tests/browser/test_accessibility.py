"""Every page, checked by axe-core in Chromium as a person with assistive technology meets it: no
serious or critical violation (missing names, contrast, broken ARIA references, landmarks), and
no page wider than a 390 px phone. Clinic staff's pages, the client's smart form and its link
pages, the login pages and the support admin."""

import re
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from clinic.models import SmartFormRequest
from messaging.models import OutboundEmail
from suppression.models import Suppression
from suppression.removal_requests import removal_request_receive
from suppression.sender_auth import EspVerdicts
from tests.browser.conftest import authenticator_code, log_in, screenshot
from tests.factories import PASSWORD, InvoiceFactory, SmartFormFactory
from tests.tracking.helpers import post_fixture, tracked_email

pytestmark = [pytest.mark.browser]

SERIOUS = ("serious", "critical")
PHONE = 390


def serious_violations(page) -> list[dict]:
    results = Axe().run(page)
    return [v for v in results.response["violations"] if v["impact"] in SERIOUS]


# axe reports an aria-describedby naming a missing id only as "needs review"; this is a fault.
BROKEN_REFERENCES = """() => {
  const broken = [];
  for (const attr of ["aria-describedby", "aria-labelledby", "aria-controls", "for"]) {
    for (const element of document.querySelectorAll("[" + attr + "]")) {
      for (const id of element.getAttribute(attr).split(/\\s+/).filter(Boolean)) {
        if (!document.getElementById(id)) { broken.push(attr + "=" + id); }
      }
    }
  }
  return broken;
}"""


def described(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        lines.extend(f"    {node['target']}: {node['html'][:160]}" for node in violation["nodes"])
    return "\n".join(lines)


def assert_readable(page, where: str = "") -> None:
    """No serious axe-core violation, no reference to a missing id, no sideways scrolling at the
    page's own width."""
    label = f"{where or page.url}: "
    violations = serious_violations(page)
    assert not violations, label + described(violations)
    assert page.evaluate(BROKEN_REFERENCES) == [], label
    width = page.viewport_size["width"]
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{label}{scroll} px wide at {width} px"


class AccessibilityWalk:
    """Checks each page it is shown and remembers what failed, so one run lists every page's
    problems at once rather than stopping at the first."""

    def __init__(self, page, width: int):
        self.page, self.width = page, width
        self.problems: list[str] = []

    def visit(self, path: str, *, status: int = 200) -> None:
        response = self.page.goto(path)
        assert response.status == status, (path, response.status)
        self.check(path)

    def check(self, where: str) -> None:
        self.page.wait_for_load_state("load")
        violations = serious_violations(self.page)
        if violations:
            self.problems.append(f"{where} at {self.width} px:\n{described(violations)}")
        broken = self.page.evaluate(BROKEN_REFERENCES)
        if broken:
            self.problems.append(f"{where} names ids that do not exist: {broken}")
        wide = self.page.evaluate("document.documentElement.scrollWidth")
        if wide > self.width:
            self.problems.append(f"{where} is {wide} px wide at {self.width} px")

    def assert_clean(self) -> None:
        assert not self.problems, "\n\n".join(self.problems)


@pytest.fixture
def failed_email(cast, client):
    """A direct message to Łukasz Żółć that bounced: the real webhook post, so the address is
    suppressed, the client opted out and the sender notified."""
    bob = cast.bob
    with scopes_disabled():
        bob.name = "Łukasz Żółć"
        bob.save(update_fields=["name"])
        InvoiceFactory(client=bob, number="AP-0042")
        SmartFormFactory(clinic=cast.alice_clinic, title="New client intake")
    email = tracked_email(cast.alice_clinic, bob, esp="mailgun", sent_by=cast.alice_admin)
    with scopes_disabled():
        OutboundEmail.objects.filter(pk=email.pk).update(subject="Your exercise plan")
    assert post_fixture(client, "mailgun", "failed_permanent_bounce").status_code == 200
    return email


@pytest.fixture
def form_links(cast):
    """A fresh smart-form link for Aoife O’Brien's intake form, and one sent long ago."""
    with scopes_disabled():
        form = SmartFormFactory(clinic=cast.alice_clinic, title="New client intake")
        fresh = form.requests.create(clinic=cast.alice_clinic, client=cast.bob)
        old = form.requests.create(clinic=cast.alice_clinic, client=cast.bob)
        SmartFormRequest.objects.filter(pk=old.pk).update(
            created_at=timezone.now() - timedelta(days=365)
        )
    return fresh.token, old.token


@pytest.mark.parametrize("width", [1280, PHONE])
def test_every_clinic_page_passes_axe(cast, failed_email, new_page, width):
    walk = AccessibilityWalk(new_page(width=width, height=900), width)
    walk.visit("/accounts/login/")
    log_in(walk.page, "boss@alice.test", PASSWORD)
    bob = cast.bob
    for path in (
        "/clients/",
        f"/clients/{bob.pk}/edit/",
        "/settings/",
        "/settings/api-tokens/",
        "/notifications/",
        "/overview/",
        "/overview/emails/?reason=hard_bounce",
    ):
        walk.visit(path)

    walk.visit(f"/clients/{bob.pk}/")
    walk.page.locator("#email-log summary").first.click()
    expect(walk.page.locator("#email-log .reason").first).to_contain_text("5.1.1")
    walk.check("the client summary with the failed email opened")
    if width == PHONE:
        screenshot(walk.page, "failed-email-390")
    else:
        screenshot(walk.page, "failed-email")

    walk.page.get_by_role("textbox", name="Subject").fill("Your appointment notes")
    walk.page.get_by_role("textbox", name="Message").fill("Hi Łukasz, see you on Friday.")
    walk.page.get_by_role("button", name="Send message").click()
    expect(walk.page.locator("main")).to_contain_text(re.compile("not sent", re.IGNORECASE))
    walk.check("the send form, refused")
    walk.assert_clean()


def test_the_clients_form_pages_pass_axe_on_a_phone(cast, form_links, new_page):
    fresh, old = form_links
    walk = AccessibilityWalk(new_page(width=PHONE, height=844), PHONE)
    walk.visit(f"/forms/{fresh}/")
    walk.page.get_by_role("button", name="Submit").click()  # nothing filled in: errors shown
    walk.check("the smart form with its errors")
    walk.visit(f"/forms/{old}/", status=410)
    walk.visit("/forms/not-a-real-token/", status=404)
    walk.assert_clean()


@pytest.mark.parametrize("width", [1280, PHONE])
def test_every_support_page_passes_axe(cast, failed_email, new_page, width):
    with scopes_disabled():
        suppression = Suppression.objects.get(address="bob@example.test")
        [request] = removal_request_receive(
            from_address="bob@example.test",
            subject="Please email me again",
            text="I changed my mailbox; it works now.",
            message_id="<removal@example.test>",
            esp="sendgrid",
            verdicts=EspVerdicts(
                esp="sendgrid",
                spf="pass",
                envelope_sender="bob@example.test",
                dkim="pass",
                dkim_domains=(("example.test", "pass"),),
            ),
        )
    walk = AccessibilityWalk(new_page(width=width), width)
    walk.visit("/admin/login/")
    walk.page.get_by_label("Email address").fill(cast.support.email)
    walk.page.get_by_label("Password").fill(PASSWORD)
    walk.page.get_by_label("Authenticator code").fill(authenticator_code(cast.support))
    walk.page.get_by_role("button", name="Log in").click()
    expect(walk.page.get_by_role("button", name="Log out")).to_be_visible()
    for path in (
        "/admin/",
        "/admin/overview/",
        "/admin/suppression/suppression/",
        f"/admin/suppression/suppression/{suppression.pk}/change/",
        f"/admin/suppression/removalrequest/{request.pk}/change/",
        f"/admin/suppression/suppression/{suppression.pk}/reactivate/",
    ):
        walk.visit(path)
        if path == f"/admin/suppression/suppression/{suppression.pk}/change/":
            screenshot(walk.page, f"support-suppression-{width}")
    form = walk.page
    form.get_by_label("Reason").fill("Łukasz Żółć wrote that his mailbox works again")
    form.get_by_label("Client's request: date").fill(
        (timezone.localdate() + timedelta(days=5)).isoformat()
    )  # a date in the future: refused, with the form's errors shown
    form.get_by_role("button", name="Reactivate").click()
    expect(form.locator(".errorlist").first).to_be_visible()
    walk.check("the reactivation form, refused")
    walk.assert_clean()


# For each visible checkbox and radio button: how far its label's words start from its right
# edge, and whether both sit on one line.
CHOICES_AND_LABELS = """() => Array.from(
  document.querySelectorAll('input[type="checkbox"], input[type="radio"]')
).filter((input) => input.offsetParent !== null).map((input) => {
  const label = input.labels[0];
  const box = input.getBoundingClientRect();
  const words = Array.from(label.childNodes).filter(
    (node) => node.nodeType === Node.TEXT_NODE && node.textContent.trim()
  ).map((node) => {
    const range = document.createRange();
    range.selectNodeContents(node);
    return range.getClientRects()[0];  // the label's first line
  })[0];
  return {
    label: label.textContent.trim(),
    gap: Math.round(words.left - box.right),
    sameLine: Math.abs((words.top + words.bottom) / 2 - (box.top + box.bottom) / 2) < 12,
  };
})"""


def assert_choices_beside_labels(page, where: str) -> None:
    choices = page.evaluate(CHOICES_AND_LABELS)
    assert choices, where
    apart = [c for c in choices if not (0 <= c["gap"] <= 16 and c["sameLine"])]
    assert apart == [], (where, apart)


@pytest.mark.parametrize("width", [1280, PHONE])
def test_checkboxes_and_radio_buttons_sit_beside_their_labels(cast, form_links, new_page, width):
    page = new_page(width=width, height=900)
    log_in(page, "boss@alice.test", PASSWORD)
    page.goto("/settings/")
    assert_choices_beside_labels(page, "settings")
    screenshot(page, f"settings-{width}")

    page.goto(f"/clients/{cast.bob.pk}/edit/")
    page.get_by_label("Email address").fill("bob@gmial.com")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_label("The address is right as typed")).to_be_visible()
    assert_choices_beside_labels(page, "edit client, suggestion shown")
    screenshot(page, f"edit-client-suggestion-{width}")

    fresh, _ = form_links
    client_page = new_page(width=width, height=900)
    client_page.goto(f"/forms/{fresh}/")
    assert_choices_beside_labels(client_page, "the client's smart form")


def test_the_clients_form_marks_what_must_be_answered(cast, form_links, new_page):
    fresh, _ = form_links
    page = new_page(width=PHONE, height=844)
    page.goto(f"/forms/{fresh}/")
    expect(page.locator("header")).to_have_text("Alice Physio")
    expect(page.get_by_text("Questions marked (required) must be answered.")).to_be_visible()
    for label in ("Reason for visit", "I consent"):
        field = page.get_by_label(label)
        expect(field).to_have_attribute("required", "")
        expect(field).to_have_accessible_name(f"{label} (required)")
    page.get_by_role("button", name="Submit").click()
    reason = page.get_by_label("Reason for visit")
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(reason).to_have_accessible_description("This field is required.")
    screenshot(page, "smart-form-required-390")
