"""The client summary's refresh: one response carries the email log, the communication
preferences and the smart forms' states, so a bounce changes all three without a reload; each
live thing carries the sentence a screen reader is told when it changes; the opt-back-in button
is disabled, with its reason, when opting back in is not possible."""

import uuid
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from clinic.models import AuditEntry, Client, SmartFormRequest
from messaging.models import EmailKind, OutboundEmail
from tests.factories import ClientFactory, SmartFormFactory
from tests.tracking.helpers import mailgun_hard_bounce, tracked_email


class Elements(HTMLParser):
    """Every element of a page with an id, as {id: (attributes, text inside it)}."""

    def __init__(self, html: str):
        super().__init__()
        self.found: dict[str, tuple[dict, list[str]]] = {}
        self.open: list[list[str]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            text: list[str] = []
            self.found[attributes["id"]] = (attributes, text)
            self.open.append(text)
        elif tag not in {"input", "br", "meta", "link", "img"}:
            self.open.append(None)

    def handle_endtag(self, tag):
        if self.open:
            self.open.pop()

    def handle_data(self, data):
        for text in self.open:
            if text is not None:
                text.append(data)

    def attributes(self, element_id: str) -> dict:
        return self.found[element_id][0]

    def text(self, element_id: str) -> str:
        return " ".join("".join(self.found[element_id][1]).split())


@pytest.fixture
def aoife(cast):
    """Aoife O’Brien, sent a smart form whose email the ESP has accepted."""
    with scopes_disabled():
        aoife = ClientFactory(
            clinic=cast.alice_clinic, name="Aoife O’Brien", email="aoife@example.test"
        )
        form_request = SmartFormRequest.objects.create(
            clinic=cast.alice_clinic,
            client=aoife,
            form=SmartFormFactory(clinic=cast.alice_clinic, title="New client intake"),
        )
        email = tracked_email(cast.alice_clinic, aoife, esp="mailgun", email_id=uuid.uuid4())
        OutboundEmail.objects.filter(pk=email.pk).update(
            kind=EmailKind.SMART_FORM, subject="Your intake form", form_request=form_request
        )
    return aoife, email, form_request


def refresh(http, client) -> Elements:
    response = http.get(f"/clients/{client.pk}/emails/log/")
    assert response.status_code == 200
    return Elements(response.content.decode())


def test_a_bounce_reaches_the_log_the_preferences_and_the_smart_form_in_one_refresh(
    client, cast, aoife
):
    person, email, form_request = aoife
    client.force_login(cast.alice)
    before = refresh(client, person)
    assert before.attributes(f"email-{email.pk}")["data-live"] == (
        "Email “Your intake form” to Aoife O’Brien: Processed"
    )
    assert "Receives appointment confirmations" in before.text("communication")
    assert "Waiting for the client" in before.text(f"form-request-{form_request.pk}")

    mailgun_hard_bounce(client, email)
    after = refresh(client, person)

    assert after.attributes(f"email-{email.pk}")["data-live"] == (
        "Email “Your intake form” to Aoife O’Brien: Failed"
    )
    assert after.attributes("email-log")["hx-swap"] == "morph"
    for panel in ("communication", "smart-forms"):
        assert after.attributes(panel)["hx-swap-oob"] == "morph"
    preferences = after.text("communication")
    assert "Address suppressed" in preferences and "Opted out" in preferences
    assert "Receives appointment confirmations" not in preferences
    assert after.attributes("communication")["data-live"] == (
        "Communication preferences: address suppressed (Hard bounce); "
        "opted out of appointment emails"
    )
    form_state = after.text(f"form-request-{form_request.pk}")
    assert "Email not delivered" in form_state and "Waiting for the client" not in form_state
    assert after.attributes(f"form-request-{form_request.pk}")["data-live"] == (
        "Smart form “New client intake”: Email not delivered"
    )


def test_the_page_itself_swaps_nothing_out_of_band_and_names_a_live_region(client, cast, aoife):
    person, _, _ = aoife
    client.force_login(cast.alice)
    html = client.get(f"/clients/{person.pk}/").content.decode()
    page = Elements(html)
    assert "hx-swap-oob" not in html
    assert page.attributes("live-news")["aria-live"] == "polite"
    assert html.count('aria-live="polite"') == 1
    assert "idiomorph-ext-0.8.0.min.js" in html
    for panel in ("email-log", "communication", "smart-forms"):
        assert page.attributes(panel)["hx-ext"] == "morph"


def test_the_refresh_is_not_another_view_of_the_log(client, cast, aoife):
    person, _, _ = aoife
    client.force_login(cast.alice)
    client.get(f"/clients/{person.pk}/")
    for _ in range(3):
        refresh(client, person)
    with scopes_disabled():
        viewed = AuditEntry.objects.filter(action=AuditEntry.Action.VIEWED_EMAIL_LOG)
        assert viewed.count() == 1


def test_while_the_address_is_suppressed_the_banner_says_so_once_with_the_way_out(
    client, cast, aoife
):
    person, email, _ = aoife
    client.force_login(cast.alice)
    mailgun_hard_bounce(client, email)
    html = client.get(f"/clients/{person.pk}/").content.decode()
    panel = Elements(html).text("communication")
    assert panel.count("suppressed") == 1, panel  # the banner's badge, and no echo below
    assert "Opted out of appointment emails" in " ".join(panel.split())
    assert "Reason:" not in panel and "Not possible while" not in panel
    assert 'id="opt-in"' not in html  # opting back in waits for the address
    assert 'id="ask-reactivation-link"' in html  # the way out, in the banner


def test_opting_back_in_is_offered_when_it_is_possible(client, cast):
    with scopes_disabled():
        Client.objects.filter(pk=cast.bob.pk).update(
            appointment_comms=False, appointment_comms_reason="Asked by phone"
        )
    client.force_login(cast.alice)
    html = client.get(f"/clients/{cast.bob.pk}/").content.decode()
    button = Elements(html).attributes("opt-in")
    assert "disabled" not in button and "aria-describedby" not in button
    assert 'id="opt-in-refusal"' not in html


def test_a_client_without_an_address_cannot_be_opted_back_in(client, cast):
    with scopes_disabled():
        Client.objects.filter(pk=cast.bob.pk).update(email="", appointment_comms=False)
    client.force_login(cast.alice)
    page = Elements(client.get(f"/clients/{cast.bob.pk}/").content.decode())
    assert "no email address on file" in page.text("opt-in-refusal")


def test_the_refreshs_queries_do_not_grow_with_smart_forms(client, cast, aoife):
    person, _, _ = aoife
    client.force_login(cast.alice)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            refresh(client, person)
        return len(captured)

    few = queries()
    with scopes_disabled():
        form = SmartFormFactory(clinic=cast.alice_clinic, title="Follow-up")
        for _ in range(5):
            form_request = SmartFormRequest.objects.create(
                clinic=cast.alice_clinic, client=person, form=form
            )
            email = tracked_email(cast.alice_clinic, person, esp="mailgun", email_id=uuid.uuid4())
            OutboundEmail.objects.filter(pk=email.pk).update(form_request=form_request)
    assert queries() == few
