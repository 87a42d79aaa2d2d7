"""A smart-form link is the client's key to their form: the staff timeline says the client
clicked it, never what it is."""

from django.conf import settings
from django_scopes import scopes_disabled

from messaging.models import EmailKind
from tests.factories import EmailEventFactory, OutboundEmailFactory, SmartFormFactory


def test_a_clicked_form_link_is_named_without_its_token(client, cast):
    with scopes_disabled():
        form = SmartFormFactory(clinic=cast.alice_clinic, title="New client intake")
        token = form.requests.create(clinic=cast.alice_clinic, client=cast.bob).token
        email = OutboundEmailFactory(client=cast.bob, kind=EmailKind.SMART_FORM, status="clicked")
        link = f"{settings.SITE_URL}/forms/{token}/"
        EmailEventFactory(email=email, event_type="clicked", status="clicked", click_url=link)
        other = OutboundEmailFactory(client=cast.bob, status="clicked")
        EmailEventFactory(
            email=other,
            event_type="clicked",
            status="clicked",
            click_url="https://physio.example.test/exercises",
        )
    client.force_login(cast.alice)
    for path in (f"/clients/{cast.bob.pk}/", f"/clients/{cast.bob.pk}/emails/log/"):
        body = client.get(path).content.decode()
        assert "(link: the client&#x27;s smart-form link)" in body, path
        assert token not in body, path
        assert "(link: https://physio.example.test/exercises)" in body, path
