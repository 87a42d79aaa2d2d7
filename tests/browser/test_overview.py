"""The delivery overview in Chromium: a clinic admin reads 30 days of the clinic's mail (chart,
legend, table, rates, a standing hold, the reasons) at 1280 and 390 px and follows the commonest
reason to its emails and one of them to its client's log; support opens the platform overview
from the admin's index. No serious axe-core violation, no sideways scrolling."""

import random
from collections import defaultdict
from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from clinic.models import Clinic
from messaging.models import OutboundEmail
from tests.browser.conftest import log_in, screenshot, support_log_in
from tests.browser.test_accessibility import assert_readable
from tests.factories import (
    PASSWORD,
    ClientFactory,
    ClinicFactory,
    MailHoldFactory,
    OutboundEmailFactory,
)

pytestmark = [pytest.mark.browser]

# (status, failure cause, refusal, handed over): weights of a clinic whose old address list
# bounces.
STATES = [
    (("delivered", "", "", True), 60),
    (("opened", "", "", True), 25),
    (("processed", "", "", True), 3),
    (("deferred", "", "", True), 2),
    (("failed", "", "", True), 9),
    (("failed", "temporary", "", True), 2),
    (("failed", "sender", "", True), 1),
    (("failed", "", "opted_out", False), 2),
    (("failed", "", "suppressed", False), 2),
    (("spam_report", "", "", True), 1),
]
# A clinic whose addresses are right: almost everything delivered.
HEALTHY = [
    (("delivered", "", "", True), 70),
    (("opened", "", "", True), 28),
    (("failed", "", "", True), 1),
    (("failed", "temporary", "", True), 1),
]


def fill(clinic, *, emails: int, seed: int, days: int = 30, weighted=STATES) -> None:
    """`emails` emails of the clinic spread over the last `days` days (fewer at weekends), in
    the states above, set by a few updates so the day counts follow by trigger."""
    rng = random.Random(seed)
    now = timezone.now()
    with scopes_disabled():
        clients = ClientFactory.create_batch(12, clinic=clinic)
        made = [
            OutboundEmailFactory(client=clients[n % len(clients)], subject=f"Your plan {n}")
            for n in range(emails)
        ]
        groups = defaultdict(list)
        states, weights = zip(*weighted, strict=True)
        for email in made:
            day = rng.randrange(days)
            while (now - timedelta(days=day)).weekday() >= 5 and rng.random() < 0.7:
                day = rng.randrange(days)
            state = rng.choices(states, weights)[0]
            hour = rng.randrange(1, 9)
            groups[(day, hour, state)].append(email.pk)
        for (day, hour, (status, cause, refusal, handed_over)), ids in groups.items():
            OutboundEmail.objects.filter(pk__in=ids).update(
                created_at=now - timedelta(days=day, hours=hour),
                status=status,
                failure_cause=cause,
                refusal=refusal,
                esp_message_id="m" if handed_over else "",
            )


@pytest.fixture
def busy_clinic(cast, settings):
    settings.GUARD_MIN_SENDS = 100
    with scopes_disabled():
        Clinic.objects.filter(pk=cast.alice_clinic.pk).update(time_zone="America/New_York")
        fill(cast.alice_clinic, emails=900, seed=7)
        MailHoldFactory(
            clinic=cast.alice_clinic,
            why="Hard bounces reached 9.4% of 212 emails in the last 7 days (hold at 8%).",
        )
    return cast


def test_a_clinic_admin_reads_the_overview_and_follows_a_reason(busy_clinic, new_page):
    cast = busy_clinic
    page = new_page(width=1280)
    log_in(page, cast.alice_admin.email, PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Delivery overview"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delivery overview")
    expect(page.get_by_role("img", name="Emails per day over the last 30 days")).to_be_visible()
    expect(page.get_by_role("heading", name="Mail to new addresses is on hold")).to_be_visible()
    expect(page.locator(".overview-legend li")).to_have_count(7)
    reasons = page.locator(".overview-reasons .attention-row")
    expect(reasons.first).to_have_attribute("data-reason", "hard_bounce")
    screenshot(page, "overview-1280")
    assert_readable(page)
    page.get_by_text("The figures as a table").click()
    expect(page.locator(".overview-table tbody tr")).to_have_count(30)
    assert_readable(page, "overview with its table open")

    shown = reasons.first.get_by_role("link").inner_text()  # "Hard bounce: 81 emails"
    reasons.first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hard bounce")
    count = shown.split(": ")[1].split()[0]
    expect(page.get_by_role("heading", level=2)).to_contain_text(f"({count})")
    expect(page.locator(".attention-row")).to_have_count(min(25, int(count)))
    screenshot(page, "overview-emails-1280")
    assert_readable(page)
    first = page.locator(".attention-row").first
    email_id = first.get_attribute("data-email")
    first.get_by_role("link").click()
    expect(page.locator(f"#email-{email_id} details")).to_have_attribute("open", "")


def test_the_overview_fits_a_phone(busy_clinic, new_page):
    page = new_page(width=390, height=844)
    log_in(page, busy_clinic.alice_admin.email, PASSWORD)
    page.goto("/overview/")
    page.get_by_text("The figures as a table").click()
    screenshot(page, "overview-390")
    assert_readable(page)


def test_support_opens_the_platform_overview(busy_clinic, new_page):
    cast = busy_clinic
    with scopes_disabled():
        fill(cast.charlie_clinic, emails=300, seed=11, weighted=HEALTHY)
        for seed in range(3):
            fill(ClinicFactory(), emails=120, seed=seed, weighted=HEALTHY)
        ClinicFactory(name="Quiet Valley Physio", sending_connection=Clinic.Connection.OWN_SMTP)
    page = new_page(width=1280)
    support_log_in(page, cast.support, PASSWORD)
    page.get_by_role("link", name="Platform overview").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Platform overview")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(6)
    expect(rows.first.locator("th")).to_have_text("Alice Physio")
    expect(rows.first).to_contain_text("On hold")
    expect(rows.last).to_contain_text("Not enough evidence")
    screenshot(page, "platform-overview-1280")
    assert_readable(page)

    # On a phone (the same session: an authenticator code is good for one login).
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.get_by_role("region", name="Clinics by risk")).to_be_visible()
    assert_readable(page)
