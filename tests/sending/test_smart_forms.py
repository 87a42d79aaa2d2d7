import re

import pytest
from django_scopes import scope, scopes_disabled

from clinic.models import SmartFormRequest
from messaging.sending.triggers import smart_form_send
from tests.factories import SmartFormFactory

pytestmark = pytest.mark.usefixtures("eager_celery")


@pytest.fixture
def sent_form(cast):
    with scope(clinic=cast.alice_clinic):
        form = SmartFormFactory(clinic=cast.alice_clinic, title="Intake")
        email = smart_form_send(form=form, client=cast.bob, sent_by=cast.alice)
    return email


def link_in(email) -> str:
    return re.search(r"http://\S+/forms/(\S+)/", email.body_text).group(0)


def test_the_email_carries_a_personal_link(sent_form):
    with scopes_disabled():
        token = SmartFormRequest.objects.get().token
    assert link_in(sent_form).endswith(f"/forms/{token}/")
    assert len(token) >= 40
    assert 'href="http://127.0.0.1:8000/forms/' in sent_form.body_html


def test_the_client_fills_in_the_form_once(client, sent_form):
    path = link_in(sent_form).split("8000", 1)[1]
    page = client.get(path)
    assert page.status_code == 200
    assert "Reason for visit" in page.content.decode()

    invalid = client.post(path, {"reason": ""})
    assert "This field is required." in invalid.content.decode()

    done = client.post(path, {"reason": "Sore knee", "consent": "on"})
    assert "Thank you" in done.content.decode()
    with scopes_disabled():
        form_request = SmartFormRequest.objects.get()
    assert form_request.state == "completed"
    assert form_request.responses == {"reason": "Sore knee", "consent": "True"}

    again = client.post(path, {"reason": "Changed my mind", "consent": "on"})
    assert "can't be used again" in again.content.decode()
    with scopes_disabled():
        assert SmartFormRequest.objects.get().responses["reason"] == "Sore knee"


def test_the_practitioner_sees_it_completed(client, cast, sent_form):
    path = link_in(sent_form).split("8000", 1)[1]
    client.post(path, {"reason": "Sore knee", "consent": "on"})
    client.force_login(cast.alice)
    body = client.get(f"/clients/{cast.bob.pk}/").content.decode()
    assert "Intake" in body
    assert "Completed" in body


def test_a_made_up_token_is_404(client, db):
    assert client.get("/forms/not-a-real-token/").status_code == 404
