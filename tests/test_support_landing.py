"""Where a login at the normal login page lands: support in the support admin, which asks for
their authenticator code before it opens; clinic staff on their clients."""

from tests.factories import PASSWORD
from tests.otp import support_device


def test_support_lands_in_the_admin_at_its_authenticator_step(client, cast):
    support_device(cast.support)
    page = client.post(
        "/accounts/login/",
        {"username": "support@platform.test", "password": PASSWORD},
        follow=True,
    )
    hops = [url for url, _ in page.redirect_chain]
    assert hops[:2] == ["/", "/admin/"]
    body = " ".join(page.content.decode().split())
    assert "This page is for clinic staff" not in body
    assert "The support admin also needs the 6-digit code from your authenticator app" in body
    assert 'name="otp_token"' in body


def test_clinic_staff_land_on_their_clients(client, cast):
    page = client.post(
        "/accounts/login/", {"username": "alice@alice.test", "password": PASSWORD}, follow=True
    )
    assert page.redirect_chain[-1][0] == "/clients/"
    assert page.status_code == 200
    assert "Bob Brown" in page.content.decode()


def test_a_login_for_a_named_page_still_goes_there(client, cast):
    page = client.post(
        "/accounts/login/?next=/notifications/",
        {"username": "alice@alice.test", "password": PASSWORD},
    )
    assert page["Location"] == "/notifications/"
