"""PostgreSQL stores a batch by COPY; other databases (the demo's SQLite) by a bulk INSERT.
Both store each event once and return exactly the new ones."""

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from messaging.models import EmailEvent
from messaging.tracking import ingest
from tests.tracking.helpers import tracked_email


def events(email, keys):
    now = timezone.now()
    return [
        EmailEvent(
            clinic_id=email.clinic_id,
            email_id=email.id,
            esp="mailgun",
            event_type="delivered",
            status="delivered",
            occurred_at=now,
            received_at=now,
            recipient=email.to_email,
            dedup_key=key,
            raw={"id": key},
        )
        for key in keys
    ]


@pytest.mark.parametrize("store", [ingest._store_by_copy, ingest._store_by_orm])
def test_each_path_stores_once_and_returns_the_new(cast, store):
    email = tracked_email(cast.alice_clinic, cast.bob, esp="mailgun")
    with scopes_disabled():
        first = store(events(email, ["a", "b"]))
        second = store(events(email, ["b", "c"]))
        assert sorted(EmailEvent.objects.values_list("dedup_key", flat=True)) == ["a", "b", "c"]
        assert EmailEvent.objects.get(dedup_key="c").raw == {"id": "c"}
    assert len(first) == 2
    assert [event.status for event in second] == ["delivered"]
    assert second[0].email_id == email.id and second[0].id
