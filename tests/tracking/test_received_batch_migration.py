"""Received batches kept as JSON text by an earlier version survive the change to jsonb: readable
ones are applied as before, an unreadable one is kept, set aside with why."""

import pytest
from django.db import connection

from messaging.models import ReceivedBatch
from messaging.tracking.drain import inbox_drain
from tests.migration_steps import (  # noqa: F401  (fixture)
    latest_schema_after,
    migrate,
    migrate_to_latest,
)

BEFORE = [("messaging", "0003_received_batch_lz4")]
AFTER = [("messaging", "0004_received_batch_jsonb")]

pytestmark = pytest.mark.usefixtures("latest_schema_after")


def payload_column() -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT atttypid::regtype::text, attcompression FROM pg_attribute "
            "WHERE attrelid = 'messaging_receivedbatch'::regclass AND attname = 'payload'"
        )
        return cursor.fetchone()


def compression() -> str:
    """lz4 ("l") where the server is built with it, else PostgreSQL's default ("")."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
        return "l" if cursor.fetchone()[0] else ""


@pytest.mark.django_db(transaction=True)
def test_text_payloads_become_json_and_an_unreadable_one_is_set_aside():
    migrate(BEFORE)
    try:
        assert payload_column() == ("text", compression())  # lz4 again, as 0003 left it
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO messaging_receivedbatch (esp, received_at, event_count, payload, "
                "error) VALUES ('postmark', now(), 0, '[]', ''), "
                "('postmark', now(), 1, '[{\"event_type\": NaN}]', '')"
            )
    finally:
        migrate(AFTER)

    assert payload_column() == ("jsonb", compression())
    readable, unreadable = ReceivedBatch.objects.order_by("id")
    assert (readable.payload, readable.failed_at) == ([], None)
    assert unreadable.payload == '[{"event_type": NaN}]'
    assert unreadable.failed_at is not None
    assert unreadable.error.startswith("Not JSON, kept as text:")
    migrate_to_latest()  # the drain of today
    assert inbox_drain().events == 0
    assert list(ReceivedBatch.objects.values_list("id", flat=True)) == [unreadable.id]
