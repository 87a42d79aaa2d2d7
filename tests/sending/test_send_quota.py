"""A clinic's staff and API start at most DAILY_SEND_QUOTA emails in any 24 hours; appointment
emails count towards it but are never refused."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from knox.models import AuthToken
from rest_framework.test import APIClient

from clinic.models import SmartFormRequest
from messaging.models import EmailKind, OutboundEmail
from messaging.sending.triggers import appointment_book, daily_quota_reached, reminders_send
from tests.factories import (
    AppointmentFactory,
    InvoiceFactory,
    OutboundEmailFactory,
    SmartFormFactory,
)

pytestmark = pytest.mark.usefixtures("eager_celery")

QUOTA_WORDS = "has started 3 emails in the last 24 hours, its daily limit"


@pytest.fixture
def quota_of_three(cast, settings):
    settings.DAILY_SEND_QUOTA = 3


def emails_started(clinic, count: int, *, hours_ago: float = 0) -> None:
    with scopes_disabled():
        for _ in range(count):
            email = OutboundEmailFactory(client__clinic=clinic, sent_by=None)
            OutboundEmail.objects.filter(pk=email.pk).update(
                created_at=timezone.now() - timedelta(hours=hours_ago)
            )


def emails_of(clinic) -> int:
    with scopes_disabled():
        return OutboundEmail.objects.filter(clinic=clinic).count()


@pytest.fixture
def api(cast):
    _, token = AuthToken.objects.create(user=cast.alice)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def post_message(api, cast):
    return api.post(
        f"/api/clients/{cast.bob.pk}/emails",
        {"kind": "direct_message", "subject": "Hi", "body": "x"},
        format="json",
    )


def test_the_api_answers_429_with_the_code_and_creates_nothing(
    api, cast, quota_of_three, django_capture_on_commit_callbacks
):
    emails_started(cast.alice_clinic, 2)
    # The control: one below the quota, the same post is accepted and queued.
    with django_capture_on_commit_callbacks() as queued:
        assert post_message(api, cast).status_code == 202
    assert len(queued) == 1
    with django_capture_on_commit_callbacks() as queued:
        refused = post_message(api, cast)
    assert refused.status_code == 429
    body = refused.json()
    assert body["error"] == "quota"
    assert QUOTA_WORDS in body["reason"]
    assert "Alice Physio" in body["reason"]
    assert queued == []
    assert emails_of(cast.alice_clinic) == 3


def test_emails_older_than_24_hours_and_other_clinics_do_not_count(
    api, cast, quota_of_three, django_capture_on_commit_callbacks
):
    emails_started(cast.alice_clinic, 5, hours_ago=24.1)
    emails_started(cast.alice_clinic, 2, hours_ago=23.9)
    emails_started(cast.charlie_clinic, 5)
    assert post_message(api, cast).status_code == 202
    assert post_message(api, cast).status_code == 429


def test_the_pages_show_the_words_at_once_and_send_nothing(
    client, cast, quota_of_three, django_capture_on_commit_callbacks
):
    emails_started(cast.alice_clinic, 3)
    with scopes_disabled():
        invoice = InvoiceFactory(client=cast.bob)
        form = SmartFormFactory(clinic=cast.alice_clinic)
    client.force_login(cast.alice)
    url = f"/clients/{cast.bob.pk}/emails/send/"
    sends = [
        {"kind": "direct_message", "direct_message-subject": "Hi", "direct_message-body": "x"},
        {"kind": "invoice", "invoice-invoice": invoice.pk},
        {"kind": "smart_form", "smart_form-form": form.pk},
    ]
    for data in sends:
        with django_capture_on_commit_callbacks() as queued:
            page = client.post(url, data, follow=True)
        assert QUOTA_WORDS in page.content.decode(), data["kind"]
        assert queued == []
    assert emails_of(cast.alice_clinic) == 3
    with scopes_disabled():
        assert not SmartFormRequest.objects.exists()


def test_appointment_emails_are_counted_and_still_sent_past_the_quota(
    cast, quota_of_three, django_capture_on_commit_callbacks
):
    emails_started(cast.alice_clinic, 3)
    start = timezone.now() + timedelta(hours=3)
    with scopes_disabled():
        due = AppointmentFactory(client=cast.bob, practitioner=cast.alice, start=start)
    with django_capture_on_commit_callbacks() as queued:
        with scope(clinic=cast.alice_clinic):
            booked = appointment_book(
                client=cast.bob,
                practitioner=cast.alice,
                start=start + timedelta(days=3),
                end=start + timedelta(days=3, hours=1),
            )
        assert reminders_send(now=timezone.now()) == 1
    assert len(queued) == 2
    with scopes_disabled():
        sent = OutboundEmail.objects.filter(appointment__in=[due, booked])
        assert sorted((e.kind, e.status, e.refusal) for e in sent) == [
            (EmailKind.APPOINTMENT_CONFIRMATION, "sending", ""),
            (EmailKind.APPOINTMENT_REMINDER, "sending", ""),
        ]
    with scope(clinic=cast.alice_clinic):
        assert daily_quota_reached(cast.alice_clinic)


def test_the_quota_is_one_query(cast, quota_of_three, django_assert_num_queries):
    emails_started(cast.alice_clinic, 2)
    with scope(clinic=cast.alice_clinic), django_assert_num_queries(1):
        assert not daily_quota_reached(cast.alice_clinic)


@pytest.mark.django_db(transaction=True)
def test_sends_at_the_same_moment_cannot_all_take_the_last_place(cast, settings):
    """Six staff send at once with one place left: the count and the insert are one step per
    clinic, so exactly one is sent and five are told the quota is reached."""
    import threading

    from django.db import connection

    from messaging.sending.triggers import direct_message_send

    settings.DAILY_SEND_QUOTA = 3
    emails_started(cast.alice_clinic, 2)
    start = threading.Barrier(6)
    outcomes = []

    def send():
        try:
            start.wait()
            with scope(clinic=cast.alice_clinic):
                email = direct_message_send(
                    client=cast.bob, subject="Hi", body="x", sent_by=cast.alice
                )
            outcomes.append(email.refusal)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["", "quota", "quota", "quota", "quota", "quota"]
    assert emails_of(cast.alice_clinic) == 3
