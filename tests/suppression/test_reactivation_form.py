"""Support's reactivation form in admin: a button on the suppression's own page, one heading, a
date the browser's date field shows, what was entered kept through a refusal, no request dated in
the future, and a spam complaint lifted on a request taken by phone, in person or by letter."""

from datetime import timedelta

import pytest
from django.utils import timezone

from suppression.models import Suppression, SuppressionHistory, SuppressionReason
from suppression.services import suppression_record
from tests.otp import support_login

ADDRESS = "complaint.cam@example.test"


@pytest.fixture
def complaint(cast, client):
    support_login(client, cast.support)
    return suppression_record(
        address=ADDRESS, stream="mailgun", reason=SuppressionReason.SPAM_COMPLAINT
    )


def own_page(suppression) -> str:
    return f"/admin/suppression/suppression/{suppression.pk}/reactivate/"


def test_the_suppressions_page_has_a_reactivate_button(client, complaint):
    body = client.get(f"/admin/suppression/suppression/{complaint.pk}/change/").content.decode()
    assert f'href="{own_page(complaint)}"' in body
    assert "Reactivate this address</a>" in body


def test_a_lifted_suppression_has_no_button(client, cast, complaint):
    Suppression.objects.filter(pk=complaint.pk).update(active=False)
    body = client.get(f"/admin/suppression/suppression/{complaint.pk}/change/").content.decode()
    assert "Reactivate this address" not in body


def test_the_form_has_one_heading_and_an_iso_date(client, complaint):
    body = client.get(own_page(complaint)).content.decode()
    assert body.count("<h1") == 1
    assert body.count("Reactivate address</h1>") == 1
    today = timezone.localdate().isoformat()
    assert f'type="date" name="request_received_on" value="{today}"' in body


def test_the_form_names_where_the_client_writes_and_offers_no_typed_in_email(
    client, complaint, settings
):
    settings.SUPPORT_EMAIL = "removals@clinicmail.test"
    body = client.get(own_page(complaint)).content.decode()
    assert "emailed to removals@clinicmail.test" in body
    assert 'value="email"' not in body  # an emailed request goes through its removal request
    assert 'name="request_from_address"' not in body


def test_a_refusal_keeps_what_was_entered_and_does_not_capitalise_the_address(client, complaint):
    page = client.post(
        own_page(complaint),
        {"reason": "Cam rang to ask for the clinic's emails again", "request_received_on": ""},
    )
    body = page.content.decode()
    assert page.status_code == 200
    assert f"Not reactivated: {ADDRESS}. A spam complaint is lifted only" in body
    assert "Complaint.cam" not in body
    assert "Cam rang to ask for the clinic&#x27;s emails again</textarea>" in body
    assert Suppression.objects.get().active


def test_a_request_dated_in_the_future_is_refused(client, complaint):
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    page = client.post(
        own_page(complaint),
        {
            "reason": "Client asked",
            "request_received_on": future,
            "request_channel": "phone",
            "request_reference": "call 0161 496 0000",
        },
    )
    body = page.content.decode()
    assert "That date is in the future" in body
    assert f'value="{future}"' in body
    assert 'value="call 0161 496 0000"' in body
    assert Suppression.objects.get().active


@pytest.mark.parametrize("channel", ["phone", "in_person", "letter"])
def test_a_request_taken_by_phone_in_person_or_by_letter_lifts_it_without_a_from_address(
    client,
    cast,
    complaint,
    channel,
    eager_celery,
    esp_simulator,
    django_capture_on_commit_callbacks,
):
    today = timezone.localdate().isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(
            own_page(complaint),
            {
                "reason": "Aoife O’Brien asked for the clinic's emails again",
                "request_received_on": today,
                "request_channel": channel,
                "request_reference": "ticket 4711",
            },
            follow=True,
        )
    assert page.redirect_chain[-1][0] == f"/admin/suppression/suppression/{complaint.pk}/change/"
    assert f"Reactivated {ADDRESS}" in page.content.decode()
    assert not Suppression.objects.get().active
    history = SuppressionHistory.objects.get(action="reactivated")
    assert history.actor == cast.support
    assert history.evidence["client_request"] == {
        "received_on": today,
        "channel": channel,
        "reference": "ticket 4711",
        "from_address": "",
    }


def test_a_channel_without_a_date_asks_for_the_date(client, complaint):
    body = client.post(
        own_page(complaint),
        {"reason": "Asked", "request_channel": "letter", "request_reference": "letter 12"},
    ).content.decode()
    assert "Give the day the client made the request." in body
    assert Suppression.objects.get().active


def test_the_list_action_keeps_what_was_entered_through_a_refusal(client, complaint):
    page = client.post(
        "/admin/suppression/suppression/",
        {
            "action": "reactivate",
            "_selected_action": [complaint.pk],
            "apply": "1",
            "reason": "Client wrote in",
            "request_received_on": timezone.localdate().isoformat(),
            "request_channel": "letter",
        },
    )
    body = page.content.decode()
    assert f"Not reactivated: {ADDRESS}." in body
    assert "Client wrote in</textarea>" in body
    assert '<option value="letter" selected>' in body
    assert body.count("<h1") == 1
    assert Suppression.objects.get().active


def test_a_bounce_is_reactivated_with_a_reason_alone(
    client, cast, eager_celery, esp_simulator, django_capture_on_commit_callbacks
):
    support_login(client, cast.support)
    bounce = suppression_record(
        address="aoife@example.test", stream="mailgun", reason=SuppressionReason.HARD_BOUNCE
    )
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(own_page(bounce), {"reason": "Typo fixed"}, follow=True)
    assert "Reactivated aoife@example.test" in page.content.decode()
    assert not Suppression.objects.get().active
