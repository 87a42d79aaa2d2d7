"""A direct message goes as it was typed: no greeting is put in front of it, so a receptionist's
own "Hi Nina," arrives once, in the text and the HTML the ESP was handed; the send form says so
before anything is sent."""

import html

import pytest
from django_scopes import scopes_disabled

from tests.factories import ClientFactory
from tests.sending.test_what_esps_receive import esp  # noqa: F401

pytestmark = pytest.mark.usefixtures("eager_celery")

BODY = "Hi Nina,\n\nYour appointment moved to Friday – see you then.\n\nOrla"


@pytest.fixture
def nina(cast):
    with scopes_disabled():
        return ClientFactory(clinic=cast.alice_clinic, name="Nina Novak", email="nina@example.test")


def test_the_send_form_says_the_message_goes_as_typed(client, cast, nina):
    client.force_login(cast.alice)
    page = html.unescape(client.get(f"/clients/{nina.pk}/").content.decode())
    assert (
        "Sent exactly as you type it: no greeting is added. The clinic's name, “Alice Physio”, "
        "is added below your message." in page
    )
    assert 'aria-describedby="dm-as-typed"' in page


@pytest.mark.parametrize("esp", ["postmark"], indirect=True)
def test_hi_nina_arrives_once(client, cast, nina, esp, django_capture_on_commit_callbacks):  # noqa: F811
    client.force_login(cast.alice)
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(
            f"/clients/{nina.pk}/emails/send/",
            {
                "kind": "direct_message",
                "direct_message-subject": "Friday",
                "direct_message-body": BODY,
            },
        )
    assert page.status_code == 302

    [sent] = esp.apis.sent
    text, html_body = sent.body["TextBody"], sent.body["HtmlBody"]
    assert text.count("Hi Nina,") == 1 and html_body.count("Hi Nina,") == 1
    assert text.startswith("Hi Nina,\n\nYour appointment moved to Friday – see you then.")
    assert "Hello" not in text and "Hello" not in html_body
    assert "Nina Novak" not in text + html_body  # the name only where the sender typed it
    assert text.rstrip().endswith("Orla\n\nAlice Physio")  # signed with the clinic's name
