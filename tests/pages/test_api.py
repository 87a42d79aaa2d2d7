import pytest
from django_scopes import scopes_disabled
from knox.models import AuthToken
from rest_framework.test import APIClient

from messaging.models import OutboundEmail
from suppression.models import SuppressionReason
from suppression.services import suppression_record
from tests.tracking.helpers import emails_aged, post_fixture, tracked_email


@pytest.fixture
def api(cast):
    client = APIClient()
    _, token = AuthToken.objects.create(user=cast.alice)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_clients_shape_and_search(api, cast):
    suppression_record(
        address="bob@example.test",
        stream="mailgun",
        clinic=cast.alice_clinic,
        reason=SuppressionReason.HARD_BOUNCE,
    )
    body = api.get("/api/clients", {"q": "bob"}).json()
    assert body == {
        "clients": [
            {
                "id": cast.bob.pk,
                "name": "Bob Brown",
                "email": "bob@example.test",
                "appointment_comms": True,
                "suppressed": True,
            }
        ]
    }
    assert api.get("/api/clients", {"q": "dana"}).json() == {"clients": []}


def test_emails_shape_newest_first_with_events(api, cast, client, settings):
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "MAILGUN_WEBHOOK_SIGNING_KEY": "key-fixture-mailgun-signing",
    }
    email = tracked_email(cast.alice_clinic, cast.bob, esp="mailgun", sent_by=cast.alice)
    post_fixture(client, "mailgun", "failed_permanent_bounce")
    [item] = api.get(f"/api/clients/{cast.bob.pk}/emails").json()["emails"]
    assert set(item) == {
        "id",
        "kind",
        "to",
        "subject",
        "status",
        "status_label",
        "reason",
        "engagement_tracked",
        "engagement_note",
        "esp_message_id",
        "created_at",
        "replaces",
        "resent_as",
        "events",
    }
    assert item["id"] == str(email.id)
    assert (item["status"], item["status_label"]) == ("failed", "Failed")
    assert "5.1.1" in item["reason"]
    [event] = item["events"]
    assert event["type"] == "bounced"
    assert "5.1.1" in event["detail"]


def test_post_is_accepted_with_202(
    api, cast, esp_simulator, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            f"/api/clients/{cast.bob.pk}/emails",
            {"kind": "direct_message", "subject": "Hi", "body": "See you"},
            format="json",
        )
    assert response.status_code == 202
    assert response.json()["status"] == "sending"
    assert response.json()["to"] == "bob@example.test"
    [sent] = esp_simulator.messages(recipient="bob@example.test")
    assert sent["user_variables"]["email_id"] == response.json()["id"]


def test_post_to_a_suppressed_address_is_409_with_the_reason(
    api, cast, esp_simulator, eager_celery, django_capture_on_commit_callbacks
):
    post = {"kind": "direct_message", "subject": "Hi", "body": "x"}
    # The control: before the suppression the same post reaches the ESP, so one after it would
    # be seen.
    with django_capture_on_commit_callbacks(execute=True) as queued:
        assert api.post(f"/api/clients/{cast.bob.pk}/emails", post, format="json").status_code == (
            202
        )
    assert len(queued) == 1
    assert len(esp_simulator.messages(recipient="bob@example.test")) == 1

    suppression_record(
        address="bob@example.test",
        stream="mailgun",
        clinic=cast.alice_clinic,
        reason=SuppressionReason.HARD_BOUNCE,
        diagnostic="550 5.1.1 no such user",
    )
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = api.post(f"/api/clients/{cast.bob.pk}/emails", post, format="json")
    assert response.status_code == 409
    assert response.json()["error"] == "suppressed"
    assert "550 5.1.1 no such user" in response.json()["reason"]
    assert queued == []
    assert len(esp_simulator.messages(recipient="bob@example.test")) == 1


@pytest.mark.parametrize(
    "payload",
    [
        {"kind": "invoice", "subject": "Hi", "body": "x"},
        {"kind": "direct_message", "body": "x"},
        {"kind": "direct_message", "subject": "", "body": "x"},
        {},
    ],
)
def test_bad_input_is_400_with_field_errors(api, cast, payload):
    response = api.post(f"/api/clients/{cast.bob.pk}/emails", payload, format="json")
    assert response.status_code == 400
    assert set(response.json()) <= {"kind", "subject", "body"}
    with scopes_disabled():
        assert not OutboundEmail.objects.exists()


def test_another_clinics_client_is_404(api, cast):
    assert api.get(f"/api/clients/{cast.dana.pk}/emails").status_code == 404
    response = api.post(
        f"/api/clients/{cast.dana.pk}/emails",
        {"kind": "direct_message", "subject": "Hi", "body": "x"},
        format="json",
    )
    assert response.status_code == 404
    assert "Dana" not in str(api.get("/api/clients").json())


def test_no_or_a_wrong_token_is_401(cast):
    anonymous = APIClient()
    assert anonymous.get("/api/clients").status_code == 401
    anonymous.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert anonymous.get("/api/clients").status_code == 401


def test_support_without_a_clinic_is_403(cast):
    client = APIClient()
    client.force_authenticate(cast.support)
    assert client.get("/api/clients").status_code == 403


def test_the_session_works_and_needs_csrf(cast):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(cast.alice)
    assert client.get("/api/clients").status_code == 200
    response = client.post(
        f"/api/clients/{cast.bob.pk}/emails",
        {"kind": "direct_message", "subject": "Hi", "body": "x"},
        format="json",
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_the_log_comes_in_pages_newest_first(api, cast):
    from datetime import timedelta

    emails_aged(cast.alice_clinic, cast.bob, [timedelta(hours=n) for n in range(7)])
    first = api.get(f"/api/clients/{cast.bob.pk}/emails", {"limit": 3}).json()
    assert [e["subject"] for e in first["emails"]] == ["Email 0", "Email 1", "Email 2"]
    second = api.get(first["next"]).json()
    assert [e["subject"] for e in second["emails"]] == ["Email 3", "Email 4", "Email 5"]
    last = api.get(second["next"]).json()
    assert [e["subject"] for e in last["emails"]] == ["Email 6"]
    assert last["next"] is None


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 500},
        {"before": "nope"},
        {"before": "00000000-0000-4000-8000-000000000099"},
    ],
)
def test_a_bad_page_is_400(api, cast, params):
    response = api.get(f"/api/clients/{cast.bob.pk}/emails", params)
    assert response.status_code == 400
    assert set(response.json()) <= {"limit", "before"}
