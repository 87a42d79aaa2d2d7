"""The status legend, in the log's own words; a completed smart form's answers on the client page,
in the form's order, and what staff read once retention has emptied them."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.html import escape
from django_scopes import scope, scopes_disabled

from clinic.models import SmartFormRequest
from clinic.services import smart_form_submit
from messaging.log.presentation import CAUSE_HELP, TRACKING_CAVEAT, status_help
from messaging.log.retention import smart_form_answers_clear
from messaging.status import EmailStatus
from tests.factories import ClientFactory, SmartFormFactory

pytestmark = pytest.mark.django_db


def test_the_legend_shows_every_status_with_the_logs_words(cast, client, settings):
    settings.SUPPORT_EMAIL = "help@platform.test"
    client.force_login(cast.alice)
    page = client.get("/emails/statuses/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "What the statuses mean" in body
    for status in EmailStatus:
        assert f'data-status="{status.value}">{status.label}<' in body, status
        assert escape(status_help(status)) in body, status
    assert "help@platform.test" in body  # the spam report's way out, as the log says it
    for words in CAUSE_HELP.values():
        assert escape(words) in body
    assert escape(TRACKING_CAVEAT) in body
    # The log shows an email's reason under its status; the legend has nothing below.
    assert "is below" not in body and "are below" not in body


def test_the_legend_is_for_staff(cast, client):
    assert client.get("/emails/statuses/").status_code == 302  # to the login page


FIELDS = [
    {"name": "reason", "label": "Reason for visit", "type": "text", "required": True},
    {"name": "name_on_card", "label": "Name on your card", "type": "text", "required": False},
    {"name": "consent", "label": "I consent", "type": "checkbox", "required": True},
]


@pytest.fixture
def answered(cast):
    """A form Łukasz completed, answering in the reverse of the form's order."""
    with scopes_disabled():
        lukasz = ClientFactory(clinic=cast.alice_clinic, name="Łukasz Żółć", email="l@example.test")
        form = SmartFormFactory(clinic=cast.alice_clinic, title="Intake", fields=FIELDS)
        form_request = form.requests.create(clinic=cast.alice_clinic, client=lukasz)
    with scope(clinic=cast.alice_clinic):
        smart_form_submit(
            form_request=form_request,
            responses={
                "consent": "True",
                "name_on_card": "أويفه أوبراين",
                "reason": "Bolące kolano",
            },
        )
    return lukasz, form_request


def answers_url(client_row, form_request) -> str:
    return f"/clients/{client_row.pk}/forms/{form_request.pk}/"


def test_staff_read_the_answers_in_the_forms_order(cast, client, answered):
    lukasz, form_request = answered
    client.force_login(cast.alice)
    body = client.get(answers_url(lukasz, form_request)).content.decode()
    positions = [
        body.index(text)
        for text in (
            "Reason for visit",
            "Bolące kolano",
            "Name on your card",
            "أويفه أوبراين",
            "I consent",
        )
    ]
    assert positions == sorted(positions)
    assert "<dt>I consent</dt><dd>Yes</dd>" in body


def test_the_smart_forms_section_links_to_the_answers(cast, client, answered):
    lukasz, form_request = answered
    with scopes_disabled():
        pending = form_request.form.requests.create(clinic=cast.alice_clinic, client=lukasz)
    client.force_login(cast.alice)
    body = client.get(f"/clients/{lukasz.pk}/").content.decode()
    assert f'href="{answers_url(lukasz, form_request)}"' in body
    assert answers_url(lukasz, pending) not in body  # nothing to read yet


def test_answers_emptied_by_retention_say_so(cast, client, answered, settings):
    lukasz, form_request = answered
    settings.SMART_FORM_ANSWERS_RETENTION_DAYS = 30
    assert smart_form_answers_clear(completed_before=timezone.now() + timedelta(seconds=1)) == 1
    client.force_login(cast.alice)
    body = client.get(answers_url(lukasz, form_request)).content.decode()
    assert "The answers are no longer kept" in body
    assert "30 days after the form is completed" in body
    assert "Bolące kolano" not in body


def test_a_pending_form_has_no_answers_yet(cast, client, answered):
    lukasz, form_request = answered
    with scopes_disabled():
        pending = form_request.form.requests.create(clinic=cast.alice_clinic, client=lukasz)
    assert pending.state == SmartFormRequest.State.PENDING
    client.force_login(cast.alice)
    body = client.get(answers_url(lukasz, pending)).content.decode()
    assert "Not completed yet" in body


def test_another_clinic_cannot_read_the_answers(cast, client, answered):
    lukasz, form_request = answered
    client.force_login(cast.charlie)
    assert client.get(answers_url(lukasz, form_request)).status_code == 404
    assert client.get(answers_url(cast.dana, form_request)).status_code == 404


def test_answers_are_read_under_their_own_client_only(cast, client, answered):
    _, form_request = answered
    client.force_login(cast.alice)
    assert client.get(answers_url(cast.bob, form_request)).status_code == 404
