"""The pages a client reaches through a smart-form link speak for the clinic that sent it, mark
what must be answered, and name each note by its field; a broken link is a plain page in words,
never Django's technical 404 page, even with DEBUG on."""

import re

import pytest
from django_scopes import scopes_disabled

from tests.factories import SmartFormFactory

TECHNICAL_404 = "Using the URLconf defined in"


@pytest.fixture
def form_link(cast):
    with scopes_disabled():
        form = SmartFormFactory(clinic=cast.alice_clinic, title="Pelvic health questionnaire")
        token = form.requests.create(clinic=cast.alice_clinic, client=cast.bob).token
    return f"/forms/{token}/"


def header(body: str) -> str:
    return re.search(r"<header.*?</header>", body, re.S).group(0)


def test_the_form_is_headed_by_the_clinic_not_the_platform(client, cast, form_link):
    body = client.get(form_link).content.decode()
    assert '<span class="brand">Alice Physio</span>' in header(body)
    assert "Clinic mail" not in body
    assert "<title>Pelvic health questionnaire · Alice Physio</title>" in body


def test_staff_of_another_clinic_logged_in_see_the_sending_clinics_page(client, cast, form_link):
    """The page is the client's: no staff navigation, and not the logged-in user's clinic."""
    client.force_login(cast.charlie)
    body = client.get(form_link).content.decode()
    assert "Alice Physio" in header(body)
    assert "Charlie Osteo" not in body
    assert "Log out" not in body and "/clients/" not in body


def test_a_sent_form_and_an_expired_link_name_the_clinic(client, cast, form_link):
    done = client.post(form_link, {"reason": "Sore knee", "consent": "on"}).content.decode()
    assert '<span class="brand">Alice Physio</span>' in header(done)
    assert "Clinic mail" not in done


def test_required_questions_are_marked_in_words_and_for_assistive_technology(client, form_link):
    body = client.get(form_link).content.decode()
    assert "Questions marked (required) must be answered." in body
    for name, label in (("reason", "Reason for visit"), ("consent", "I consent")):
        assert re.search(
            rf'<label for="id_{name}">{label} <span class="required">\(required\)</span></label>',
            body,
        ), label
        assert re.search(rf'<input [^>]*name="{name}"[^>]*required', body), name


def test_every_note_a_field_points_at_exists(client, form_link):
    """A field names its error note in aria-describedby; the note carries that very id."""
    body = client.post(form_link, {"reason": ""}).content.decode()
    referenced = re.findall(r'aria-describedby="([^"]+)"', body)
    assert "id_reason_error" in " ".join(referenced)
    ids = set(re.findall(r'\bid="([^"]+)"', body))
    missing = [ref for refs in referenced for ref in refs.split() if ref not in ids]
    assert missing == []


@pytest.mark.parametrize(
    "path", ["/forms/", "/forms/not-a-real-token/", "/forms/abc/extra", "/forms/abc/extra/"]
)
def test_a_broken_link_is_a_plain_page_even_with_debug_on(client, db, settings, path):
    settings.DEBUG = True
    page = client.get(path)
    assert page.status_code == 404
    body = page.content.decode()
    assert "This form link is not valid" in body
    assert TECHNICAL_404 not in body
    assert "admin/" not in body and "Clinic mail" not in body
    assert "no-store" in page["Cache-Control"]


def test_a_link_without_its_last_slash_still_reaches_the_form(client, form_link):
    page = client.get(form_link.rstrip("/"), follow=True)
    assert page.status_code == 200
    assert "Pelvic health questionnaire" in page.content.decode()
