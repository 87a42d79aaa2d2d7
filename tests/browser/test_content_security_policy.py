"""Every kind of page works under the production Content-Security-Policy in headless Chromium:
the browser reports no violation (no inline script, inline event handler, inline style or eval)
on clinic pages, the public smart form, the login pages and the support admin."""

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from tests.browser.conftest import authenticator_code, log_in
from tests.factories import PASSWORD, SmartFormFactory
from tests.tracking.helpers import tracked_email

pytestmark = [pytest.mark.browser]

# Recorded from the first script of every document, before any of the page's own.
LISTEN_FOR_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(
    event.violatedDirective + " " + (event.blockedURI || "inline") + " " + event.sourceFile
  );
});
"""


class PolicyWatch:
    """A page that remembers every CSP violation the browser reports, as an event in the page
    and as a console error."""

    def __init__(self, page):
        self.page = page
        self.console_errors: list[str] = []
        self.missing_header: list[str] = []
        page.add_init_script(LISTEN_FOR_VIOLATIONS)
        page.on("console", self._console)

    def _console(self, message) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.console_errors.append(message.text)

    def visit(self, path: str, *, settle_ms: int = 300) -> None:
        response = self.page.goto(path)
        assert response.status == 200, path
        if "content-security-policy" not in response.headers:
            self.missing_header.append(path)
        self.page.wait_for_load_state("load")
        self.page.wait_for_timeout(settle_ms)  # htmx initialises; the log refreshes itself
        self.check(path)

    def check(self, where: str) -> None:
        violations = self.page.evaluate("window.__cspViolations")
        assert violations == [], (where, violations)
        assert self.console_errors == [], (where, self.console_errors)
        assert self.missing_header == [], self.missing_header


@pytest.fixture
def smart_form_token(cast):
    with scopes_disabled():
        form = SmartFormFactory(clinic=cast.alice_clinic, title="New client intake")
        return form.requests.create(clinic=cast.alice_clinic, client=cast.bob).token


def test_clinic_pages_and_the_public_smart_form_keep_the_policy(cast, smart_form_token, new_page):
    tracked_email(cast.alice_clinic, cast.bob, esp="mailgun")  # unsettled: the log refreshes
    watch = PolicyWatch(new_page())
    watch.visit("/accounts/login/")
    log_in(watch.page, "boss@alice.test", PASSWORD)
    watch.check("after logging in")
    for path in (
        "/clients/",
        f"/clients/{cast.bob.pk}/",
        f"/clients/{cast.bob.pk}/edit/",
        "/settings/",
        "/settings/api-tokens/",
        "/notifications/",
    ):
        watch.visit(path)
    refreshes = []
    watch.page.on(
        "request", lambda request: "/emails/log/" in request.url and refreshes.append(request)
    )
    watch.visit(f"/clients/{cast.bob.pk}/", settle_ms=2_500)
    assert refreshes, "the email log refreshes itself (htmx runs under the policy)"
    assert watch.page.evaluate("htmx.config.includeIndicatorStyles") is False
    assert watch.page.evaluate("htmx.config.allowEval") is False

    patient = PolicyWatch(new_page())
    patient.visit(f"/forms/{smart_form_token}/")


def test_the_support_admin_keeps_the_policy(cast, new_page):
    watch = PolicyWatch(new_page())
    watch.visit("/admin/login/")
    watch.page.get_by_label("Email address").fill(cast.support.email)
    watch.page.get_by_label("Password").fill(PASSWORD)
    watch.page.get_by_label("Authenticator code").fill(authenticator_code(cast.support))
    watch.page.get_by_role("button", name="Log in").click()
    expect(watch.page.get_by_role("button", name="Log out")).to_be_visible()
    watch.check("after logging into the admin")
    for path in (
        "/admin/",
        "/admin/clinic/client/",
        f"/admin/clinic/client/{cast.dana.pk}/change/",
        f"/admin/clinic/clinic/{cast.alice_clinic.pk}/change/",
        "/admin/clinic/user/",
        f"/admin/clinic/user/{cast.alice.pk}/change/",
        "/admin/clinic/client/add/",
        "/admin/suppression/suppression/",
    ):
        watch.visit(path)
    watch.page.get_by_role("link", name="Clients").first.click()  # the admin's own script runs
    watch.check("after navigating the admin")


def test_an_inline_style_would_be_caught(db, new_page):
    """The watch itself can fail: a style injected by script is refused and reported."""
    watch = PolicyWatch(new_page())
    watch.visit("/accounts/login/")
    watch.page.evaluate(
        "document.head.appendChild(document.createElement('style')).textContent = 'p{}'"
    )
    watch.page.wait_for_timeout(200)
    violations = watch.page.evaluate("window.__cspViolations")
    assert any(v.startswith("style-src") for v in violations), violations
