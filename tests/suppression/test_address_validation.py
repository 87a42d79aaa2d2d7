import pytest
from django.core.exceptions import ValidationError

from clinic.addresses import suggest_address, validate_email_syntax
from clinic.forms import ClientForm
from tests.otp import support_login


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("bob@gmial.com", "bob@gmail.com"),
        ("ann@hotmial.co.uk", "ann@hotmail.co.uk"),
        ("x@yaho.co.uk", "x@yahoo.co.uk"),
        ("x@outlok.com", "x@outlook.com"),
    ],
)
def test_it_suggests_the_common_domain_meant(typed, meant):
    assert suggest_address(typed) == meant


@pytest.mark.parametrize("address", ["bob@gmail.com", "a@example.test", "b@clinic.co.uk"])
def test_it_suggests_nothing_for_good_or_unknown_domains(address):
    assert suggest_address(address) is None


@pytest.mark.parametrize("address", ["ivo@nowhere.invalid", "click.alex@example.test"])
def test_the_reserved_domains_of_demo_and_tests_are_accepted(address):
    assert validate_email_syntax(address) == address


@pytest.mark.parametrize("address", ["bob..x@example.test", "no-at-sign", "a@", "a b@c.test"])
def test_bad_syntax_is_refused_in_words(address):
    with pytest.raises(ValidationError, match="not a valid email address"):
        validate_email_syntax(address)


def test_the_client_form_asks_about_a_typo_then_accepts_it_confirmed(cast):
    form = ClientForm({"name": "Bob", "email": "bob@gmial.com"}, instance=cast.bob)
    assert not form.is_valid()
    assert "Did you mean bob@gmail.com?" in form.errors["email"][0]
    confirmed = ClientForm(
        {"name": "Bob", "email": "bob@gmial.com", "address_confirmed": "1"}, instance=cast.bob
    )
    assert confirmed.is_valid(), confirmed.errors


def test_the_edit_page_shows_the_suggestion(client, cast):
    client.force_login(cast.alice)
    page = client.post(
        f"/clients/{cast.bob.pk}/edit/", {"name": "Bob Brown", "email": "Bob@Hotmial.co.uk"}
    )
    assert page.status_code == 200
    assert "Did you mean bob@hotmail.co.uk?" in page.content.decode()


def test_the_admin_refuses_bad_syntax(client, cast):
    support_login(client, cast.support)
    page = client.post(
        f"/admin/clinic/client/{cast.bob.pk}/change/",
        {
            "clinic": cast.alice_clinic.pk,
            "name": "Bob",
            "email": "bob..x@example.test",
            "appointment_comms": "on",
        },
    )
    assert page.status_code == 200
    assert "valid email address" in page.content.decode()
