"""A smart form's link works for SMART_FORM_LINK_DAYS; then it shows nothing of the client. No
form page is ever cached, and none shows the answers back."""

from datetime import timedelta

import pytest
from django_scopes import scopes_disabled

from clinic.models import SmartFormRequest
from tests.factories import SmartFormFactory


@pytest.fixture
def form_link(cast, clock, settings):
    settings.SMART_FORM_LINK_DAYS = 30
    with scopes_disabled():
        form_request = SmartFormFactory(
            clinic=cast.alice_clinic, title="Pelvic health questionnaire"
        ).requests.create(clinic=cast.alice_clinic, client=cast.bob)
    return f"/forms/{form_request.token}/"


def assert_private(response) -> None:
    assert "no-store" in response["Cache-Control"]
    assert "max-age=0" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "same-origin"


def test_a_fresh_link_shows_the_form(client, form_link, clock):
    clock.move_by(timedelta(days=29, hours=23))
    page = client.get(form_link)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Pelvic health questionnaire" in body
    assert "Bob Brown" in body
    assert "Reason for visit" in body
    assert_private(page)


def test_an_expired_link_is_410_and_names_only_the_clinic(client, form_link, clock):
    clock.move_by(timedelta(days=30))
    page = client.get(form_link)
    assert page.status_code == 410
    body = page.content.decode()
    assert "This form link has expired; ask the clinic to send it again" in body
    assert "Alice Physio" in body
    for private in ("Bob Brown", "Pelvic health questionnaire", "Reason for visit"):
        assert private not in body
    assert_private(page)


def test_an_expired_link_takes_no_answers(client, form_link, clock):
    clock.move_by(timedelta(days=730))
    answered = client.post(form_link, {"reason": "Sore knee", "consent": "on"})
    assert answered.status_code == 410
    with scopes_disabled():
        form_request = SmartFormRequest.objects.get()
    assert form_request.state == SmartFormRequest.State.PENDING
    assert form_request.responses == {}


def test_the_link_lasts_as_long_as_the_setting_says(client, form_link, clock, settings):
    clock.move_by(timedelta(days=8))
    assert client.get(form_link).status_code == 200
    settings.SMART_FORM_LINK_DAYS = 7
    assert client.get(form_link).status_code == 410


def test_a_completed_form_shows_no_answers_and_is_not_cached(client, form_link):
    done = client.post(form_link, {"reason": "Sore knee after running", "consent": "on"})
    assert done.status_code == 200
    assert_private(done)
    again = client.get(form_link)
    assert again.status_code == 200
    body = again.content.decode()
    assert "can't be used again" in body
    assert "Alice Physio" in body
    for private in ("Sore knee after running", "Bob Brown", "Pelvic health questionnaire"):
        assert private not in body
    assert_private(again)


def test_an_unknown_link_is_404_and_not_cached(client, db):
    page = client.get("/forms/not-a-real-token/")
    assert page.status_code == 404
    assert "This form link is not valid" in page.content.decode()
    assert_private(page)
