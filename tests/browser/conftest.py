import os
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.processes import start_worker, worker_env  # noqa: F401  (fixtures)

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
# Screenshots go to a scratch folder, so a test run leaves the working tree as it was;
# `make screenshots` points SCREENSHOTS at docs/screenshots to refresh the README's.
SCREENSHOTS = ROOT / os.environ["SCREENSHOTS"] if os.environ.get("SCREENSHOTS") else None


@pytest.fixture(autouse=True)
def sync_orm_beside_playwright(monkeypatch):
    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are
    # ordinary synchronous code all the same.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, live_server):
    contexts = []

    def open_page(width: int = 1280, height: int = 900):
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": width, "height": height}
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        return page

    yield open_page
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> Path:
    folder = SCREENSHOTS or Path(tempfile.gettempdir()) / "clinicmail-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def authenticator_code(user) -> str:
    """The code the support person's authenticator app shows now (a confirmed TOTP device is
    created for them if they have none), computed from the device's key as the app does."""
    from django_otp.oath import TOTP

    from tests.otp import support_device

    device = support_device(user)
    token = TOTP(device.bin_key, step=device.step, digits=device.digits).token()
    return f"{token:0{device.digits}d}"


def log_in(page, email: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/clients/")


def support_log_in(page, user, password: str) -> None:
    """Support logs into admin through its form: address, password and the code their
    authenticator app shows now."""
    page.goto("/admin/login/")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Authenticator code").fill(authenticator_code(user))
    page.get_by_role("button", name="Log in").click()


__all__ = ["authenticator_code", "log_in", "screenshot", "support_log_in"]
