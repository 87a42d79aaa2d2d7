from django_scopes import scope, scopes_disabled

from clinic.models import Client
from suppression.models import SuppressionReason
from suppression.services import client_opt_out, suppression_reactivate, suppression_record


def suppress_bob(cast):
    suppression = suppression_record(
        address="bob@example.test",
        stream="mailgun",
        clinic=cast.alice_clinic,
        reason=SuppressionReason.HARD_BOUNCE,
        diagnostic="550 5.1.1 mailbox does not exist",
    )
    with scope(clinic=cast.alice_clinic):
        client_opt_out(client=cast.bob, reason="bob@example.test was suppressed")
    return suppression


def bob(cast) -> Client:
    with scopes_disabled():
        return Client.objects.get(pk=cast.bob.pk)


def test_the_summary_shows_the_suppression_and_the_opt_out(client, cast):
    suppress_bob(cast)
    client.force_login(cast.alice)
    body = client.get(f"/clients/{cast.bob.pk}/").content.decode()
    assert "Address suppressed" in body
    assert "550 5.1.1 mailbox does not exist" in body
    assert "Opted out" in body
    # Why and what to do are said once, in the banner: the opt-out's reason (the suppression)
    # and an opt-in that cannot happen yet are not repeated under it.
    assert "bob@example.test was suppressed" not in body
    assert "Opt back in to appointment emails" not in body


def test_re_opt_in_is_refused_while_the_address_is_suppressed(client, cast):
    suppress_bob(cast)
    client.force_login(cast.alice)
    page = client.post(f"/clients/{cast.bob.pk}/opt-in/", follow=True)
    assert "cannot be opted back in yet" in page.content.decode()
    assert not bob(cast).appointment_comms


def test_re_opt_in_works_once_support_reactivated_the_address(client, cast, eager_celery):
    suppression = suppress_bob(cast)
    suppression_reactivate(suppression=suppression, actor=cast.support, reason="Typo fixed")
    assert not bob(cast).appointment_comms  # reactivation alone does not opt back in
    client.force_login(cast.alice)
    offer = client.get(f"/clients/{cast.bob.pk}/").content.decode()
    assert "Address reactivated" in offer
    assert "bob@example.test was suppressed" not in offer  # the old reason, now out of date
    page = client.post(f"/clients/{cast.bob.pk}/opt-in/", follow=True)
    assert "will receive appointment emails again" in page.content.decode()
    assert bob(cast).appointment_comms


def test_a_new_address_clears_nothing_but_offers_the_re_opt_in(client, cast):
    suppress_bob(cast)
    client.force_login(cast.alice)
    page = client.post(
        f"/clients/{cast.bob.pk}/edit/",
        {"name": "Bob Brown", "email": "bob.brown@example.test"},
        follow=True,
    )
    body = page.content.decode()
    assert "The address changed" in body
    assert not bob(cast).appointment_comms
    page = client.post(f"/clients/{cast.bob.pk}/opt-in/", follow=True)
    assert bob(cast).appointment_comms


def test_another_clinic_cannot_opt_in_alices_client(client, cast):
    client.force_login(cast.charlie)
    assert client.post(f"/clients/{cast.bob.pk}/opt-in/").status_code == 404
