"""PostgreSQL stores a batch by COPY; other databases (the demo's SQLite) by a bulk INSERT.
Both store each event once and return exactly the new ones."""

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from messaging.models import EmailEvent
from messaging.tracking import ingest
from messaging.tracking.rows import EventRow
from tests.tracking.helpers import tracked_email


def records(email, keys) -> list[tuple]:
    now = timezone.now()
    rows = [
        EventRow(
            esp="mailgun",
            event_type="delivered",
            status="delivered",
            suppress="",
            occurred_at=now,
            reject_reason="",
            description="",
            mta_response="250 OK",
            click_url="",
            user_agent="",
            recipient=email.to_email,
            message_id="",
            email_id_hint=email.id,
            dedup_key=key,
            raw={"id": key},
        )
        for key in keys
    ]
    return [ingest._record(row, (email.id, email.clinic_id), now) for row in rows]


@pytest.mark.parametrize("store", [ingest._store_by_copy, ingest._store_by_orm])
def test_each_path_stores_once_and_returns_the_new(cast, store):
    email = tracked_email(cast.alice_clinic, cast.bob, esp="mailgun")
    with scopes_disabled():
        first = store(records(email, ["a", "b"]))
        second = store(records(email, ["b", "c"]))
        assert sorted(EmailEvent.objects.values_list("dedup_key", flat=True)) == ["a", "b", "c"]
        stored = EmailEvent.objects.get(dedup_key="c")
    assert stored.raw == {"id": "c"}
    assert (stored.clinic_id, stored.mta_response) == (email.clinic_id, "250 OK")
    assert stored.matched_at is not None
    assert len(first) == 2
    assert [event.status for event in second] == ["delivered"]
    assert second[0].email_id == email.id and second[0].id == stored.id
    assert second[0].words == "250 OK"


def test_a_stored_event_fills_every_column_but_its_id_and_post():
    columns = {field.attname for field in EmailEvent._meta.concrete_fields}
    assert set(ingest.STORED_COLUMNS) == columns - {"id", "batch"}
