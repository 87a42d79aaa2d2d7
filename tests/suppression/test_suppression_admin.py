import pytest
from django_scopes import scopes_disabled

from suppression.models import Suppression, SuppressionReason
from suppression.services import suppression_reactivate, suppression_record
from tests.factories import ClientFactory
from tests.otp import support_login
from tests.tracking.helpers import post_fixture, tracked_email


@pytest.fixture
def suppressed_bob(cast):
    with scopes_disabled():
        ClientFactory(clinic=cast.charlie_clinic, name="Bob at Charlie's", email="bob@example.test")
    return suppression_record(
        address="bob@example.test",
        stream="mailgun",
        reason=SuppressionReason.SPAM_COMPLAINT,
        diagnostic="complained",
    )


@pytest.mark.parametrize("term", ["bob@example", "Bob Brown", "Charlie Osteo"])
def test_support_finds_it_by_address_client_or_clinic(client, cast, suppressed_bob, term):
    support_login(client, cast.support)
    body = client.get("/admin/suppression/suppression/", {"q": term}).content.decode()
    assert "bob@example.test" in body


def test_support_filters_by_reason_esp_and_state(client, cast, suppressed_bob):
    support_login(client, cast.support)
    url = "/admin/suppression/suppression/"
    assert "bob@example.test" in client.get(url, {"reason": "spam_complaint"}).content.decode()
    assert "bob@example.test" not in client.get(url, {"reason": "hard_bounce"}).content.decode()
    assert (
        "bob@example.test"
        in client.get(url, {"stream": "mailgun", "active__exact": "1"}).content.decode()
    )


def test_the_detail_shows_every_clinics_clients_events_and_history(client, cast, settings):
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "MAILGUN_WEBHOOK_SIGNING_KEY": "key-fixture-mailgun-signing",
    }
    tracked_email(cast.alice_clinic, cast.bob, esp="mailgun", sent_by=cast.alice)
    post_fixture(client, "mailgun", "failed_permanent_bounce")
    with scopes_disabled():
        ClientFactory(clinic=cast.charlie_clinic, name="Bob at Charlie's", email="bob@example.test")
    suppression = Suppression.objects.get()
    support_login(client, cast.support)
    body = client.get(f"/admin/suppression/suppression/{suppression.pk}/change/").content.decode()
    assert "Bob Brown</a>, Alice Physio" in body
    assert "Bob at Charlie&#x27;s</a>, Charlie Osteo" in body
    assert "5.1.1 The email account that you tried to reach does not exist" in body
    assert "suppressed" in body
    assert 'name="history-0-why"' not in body  # the history inline is read-only


def test_the_reactivate_action_asks_for_a_reason_then_refuses_a_complaint_without_request(
    client, cast, suppressed_bob
):
    support_login(client, cast.support)
    url = "/admin/suppression/suppression/"
    page = client.post(url, {"action": "reactivate", "_selected_action": [suppressed_bob.pk]})
    assert "only on the client's own request" in page.content.decode()
    page = client.post(
        url,
        {
            "action": "reactivate",
            "_selected_action": [suppressed_bob.pk],
            "apply": "1",
            "reason": "They asked",
        },
        follow=True,
    )
    assert "only on the client&#x27;s own request" in page.content.decode()
    assert Suppression.objects.get().active


def reactivate_in_admin(client, suppression, **request) -> str:
    page = client.post(
        "/admin/suppression/suppression/",
        {
            "action": "reactivate",
            "_selected_action": [suppression.pk],
            "apply": "1",
            "reason": "Client asked us",
            "request_received_on": "2026-11-20",
            **request,
        },
        follow=True,
    )
    return page.content.decode()


def test_the_reactivate_action_with_the_clients_request_by_phone(
    client, cast, suppressed_bob, eager_celery, esp_simulator, django_capture_on_commit_callbacks
):
    support_login(client, cast.support)
    with django_capture_on_commit_callbacks(execute=True):
        page = reactivate_in_admin(
            client, suppressed_bob, request_channel="phone", request_reference="call 2026-11-20"
        )
    assert "Reactivated bob@example.test" in page
    suppression = Suppression.objects.get()
    assert not suppression.active
    assert suppression.esp_removal == "done"


def test_an_emailed_request_typed_in_by_hand_does_not_lift_a_spam_complaint(
    client, cast, suppressed_bob
):
    """Anyone can write a From address: an emailed request goes through its removal request,
    whose verification is the email provider's, so the form offers no "Email" to type in."""
    support_login(client, cast.support)
    page = reactivate_in_admin(
        client,
        suppressed_bob,
        request_channel="email",
        request_reference="<abc@example.test>",
        request_from_address="bob@example.test",
    )
    assert "Select a valid choice. email is not one of the available choices." in page
    assert "is approved under Removal requests" in page
    assert Suppression.objects.get().active


def test_a_second_suppression_after_reactivation_warns_that_it_may_recur(client, cast):
    suppression = suppression_record(
        address="bob@example.test", stream="mailgun", reason=SuppressionReason.HARD_BOUNCE
    )
    suppression_reactivate(suppression=suppression, actor=cast.support, reason="Fixed typo")
    suppression_record(
        address="bob@example.test", stream="mailgun", reason=SuppressionReason.HARD_BOUNCE
    )
    support_login(client, cast.support)
    body = client.get(f"/admin/suppression/suppression/{suppression.pk}/change/").content.decode()
    assert "has been suppressed again: the cause may recur" in body


@pytest.mark.parametrize(
    "path",
    [
        "/admin/suppression/suppression/",
        "/admin/suppression/removalrequest/",
        "/admin/messaging/outboundemail/",
        "/admin/messaging/emailevent/",
    ],
)
def test_a_clinic_user_reaches_no_admin_page(client, cast, path):
    client.force_login(cast.alice_admin)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
