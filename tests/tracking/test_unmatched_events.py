"""An event may arrive before its email can be found: it is kept, matched again, never dropped."""

from datetime import timedelta

from django.utils import timezone
from django_scopes import scopes_disabled

from messaging.models import EmailEvent, OutboundEmail
from messaging.tracking.tasks import events_rematch_task
from tests.otp import support_login
from tests.tracking.helpers import MESSAGE_IDS, load, post_json, tracked_email


def delivered_without_metadata() -> list:
    body = load("sendgrid", "delivered")
    for event in body:
        event.pop("email_id")
        event.pop("clinic_id")
    return body


def test_an_event_before_its_email_is_kept_and_matched_later(client, cast):
    email = tracked_email(cast.alice_clinic, cast.bob, esp="sendgrid")
    with scopes_disabled():
        OutboundEmail.objects.filter(pk=email.pk).update(esp_message_id="")
    response = post_json(client, "/anymail/sendgrid/tracking/", delivered_without_metadata())
    assert response.content == b"OK (1 received)"
    with scopes_disabled():
        event = EmailEvent.objects.get()
        assert event.email_id is None

        OutboundEmail.objects.filter(pk=email.pk).update(esp_message_id=MESSAGE_IDS["sendgrid"])
        assert events_rematch_task() == 1
        event.refresh_from_db()
        email.refresh_from_db()
    assert event.email_id == email.id
    assert event.clinic_id == cast.alice_clinic.id
    assert email.status == "delivered"


def test_after_the_window_it_is_left_for_support_not_dropped(client, cast):
    post_json(client, "/anymail/sendgrid/tracking/", delivered_without_metadata())
    with scopes_disabled():
        EmailEvent.objects.update(received_at=timezone.now() - timedelta(hours=1))
    tracked_email(cast.alice_clinic, cast.bob, esp="sendgrid")
    assert events_rematch_task() == 0
    with scopes_disabled():
        assert EmailEvent.objects.filter(email__isnull=True).count() == 1
    support_login(client, cast.support)
    page = client.get("/admin/messaging/emailevent/?matched=no")
    assert page.status_code == 200
    assert "sendgrid" in page.content.decode()
