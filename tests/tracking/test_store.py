"""PostgreSQL stores received batches in one statement that reads their JSON itself: each event
once, matched to its email, and returns exactly the new ones."""

from django.utils import timezone
from django_scopes import scopes_disabled

from messaging.models import EmailEvent
from messaging.tracking.receive import events_receive
from messaging.tracking.rows import EventRow
from messaging.tracking.store import STORED_COLUMNS, events_store
from tests.tracking.helpers import tracked_email


def row(email, key: str, **fields) -> EventRow:
    return EventRow(
        **{
            "esp": "mailgun",
            "event_type": "delivered",
            "status": "delivered",
            "suppress": "",
            "occurred_at": timezone.now(),
            "reject_reason": "",
            "description": "",
            "mta_response": "250 OK",
            "click_url": "",
            "user_agent": "",
            "recipient": email.to_email,
            "message_id": "",
            "email_id_hint": email.id,
            "dedup_key": key,
            "raw": {"id": key},
        }
        | fields
    )


def received(email, keys, **fields) -> int:
    return events_receive(esp="mailgun", rows=[row(email, key, **fields) for key in keys])


def test_each_event_is_stored_once_and_the_new_returned(cast):
    email = tracked_email(cast.alice_clinic, cast.bob, esp="mailgun")
    first_batch = received(email, ["a", "b", "a"])
    second_batch = received(email, ["b", "c"])
    with scopes_disabled():
        first = events_store([first_batch])
        second = events_store([second_batch])
        assert sorted(EmailEvent.objects.values_list("dedup_key", flat=True)) == ["a", "b", "c"]
        stored = EmailEvent.objects.get(dedup_key="c")
    assert stored.raw == {"id": "c"}
    assert (stored.clinic_id, stored.email_id, stored.mta_response) == (
        email.clinic_id,
        email.id,
        "250 OK",
    )
    assert stored.matched_at is not None
    assert len(first) == 2
    assert [event.status for event in second] == ["delivered"]
    assert second[0].email_id == email.id and second[0].id == stored.id
    assert second[0].words == "250 OK"


def test_an_event_is_matched_by_message_id_or_left_unmatched(cast):
    email = tracked_email(cast.alice_clinic, cast.bob, esp="mailgun")
    by_message_id = received(email, ["m"], email_id_hint=None, message_id=email.esp_message_id)
    unknown = received(email, ["u"], email_id_hint=None, message_id="<nobody@example.test>")
    with scopes_disabled():
        events_store([by_message_id, unknown])
        matched = EmailEvent.objects.get(dedup_key="m")
        unmatched = EmailEvent.objects.get(dedup_key="u")
    assert (matched.email_id, matched.clinic_id) == (email.id, email.clinic_id)
    assert (unmatched.email_id, unmatched.clinic_id, unmatched.matched_at) == (None, None, None)
    assert unmatched.received_at is not None  # the rematch window counts from here


def test_of_repeats_in_one_batch_the_first_is_kept(cast):
    email = tracked_email(cast.alice_clinic, cast.bob, esp="mailgun")
    rows = [row(email, "k", mta_response="250 first"), row(email, "k", mta_response="250 again")]
    batch = events_receive(esp="mailgun", rows=rows)
    with scopes_disabled():
        [new] = events_store([batch])
    assert new.mta_response == "250 first"


def test_a_stored_event_fills_every_column_but_its_id():
    columns = {field.attname for field in EmailEvent._meta.concrete_fields}
    assert set(STORED_COLUMNS) == columns - {"id"}
