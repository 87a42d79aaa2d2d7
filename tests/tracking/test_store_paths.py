"""PostgreSQL stores received batches in one statement that reads their JSON itself; other
databases (the demo's SQLite) through the ORM. Both store each event once, matched to its email,
and return exactly the new ones."""

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from messaging.models import EmailEvent
from messaging.tracking import ingest
from messaging.tracking.rows import EventRow
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
    return ingest.events_receive(esp="mailgun", rows=[row(email, key, **fields) for key in keys])


@pytest.mark.parametrize("store", [ingest._store_in_database, ingest._store_by_orm])
def test_each_path_stores_once_and_returns_the_new(cast, store):
    email = tracked_email(cast.alice_clinic, cast.bob, esp="mailgun")
    first_batch = received(email, ["a", "b", "a"])
    second_batch = received(email, ["b", "c"])
    with scopes_disabled():
        first = store([first_batch])
        second = store([second_batch])
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


@pytest.mark.parametrize("store", [ingest._store_in_database, ingest._store_by_orm])
def test_each_path_matches_by_message_id_or_leaves_unmatched(cast, store):
    email = tracked_email(cast.alice_clinic, cast.bob, esp="mailgun")
    by_message_id = received(email, ["m"], email_id_hint=None, message_id=email.esp_message_id)
    unknown = received(email, ["u"], email_id_hint=None, message_id="<nobody@example.test>")
    with scopes_disabled():
        store([by_message_id, unknown])
        matched = EmailEvent.objects.get(dedup_key="m")
        unmatched = EmailEvent.objects.get(dedup_key="u")
    assert (matched.email_id, matched.clinic_id) == (email.id, email.clinic_id)
    assert (unmatched.email_id, unmatched.clinic_id, unmatched.matched_at) == (None, None, None)
    assert unmatched.received_at is not None  # the rematch window counts from here


@pytest.mark.parametrize("store", [ingest._store_in_database, ingest._store_by_orm])
def test_of_repeats_in_one_batch_each_path_keeps_the_first(cast, store):
    email = tracked_email(cast.alice_clinic, cast.bob, esp="mailgun")
    rows = [row(email, "k", mta_response="250 first"), row(email, "k", mta_response="250 again")]
    batch = ingest.events_receive(esp="mailgun", rows=rows)
    with scopes_disabled():
        [new] = store([batch])
    assert new.mta_response == "250 first"


def test_a_stored_event_fills_every_column_but_its_id_and_post():
    columns = {field.attname for field in EmailEvent._meta.concrete_fields}
    assert set(ingest.STORED_COLUMNS) == columns - {"id", "batch"}
