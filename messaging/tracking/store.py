"""Storing the events of received batches: one INSERT ... SELECT in which PostgreSQL reads the
batches' JSON itself, skips events already stored, matches each to its email and returns the new
ones."""

import uuid
from dataclasses import dataclass, fields

from django.db import connection
from django.utils import timezone

from messaging.event_words import event_words
from messaging.tracking.rows import EventRow


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """What applying needs of a newly stored event."""

    id: int
    email_id: uuid.UUID | None
    status: str
    suppress: str
    mta_response: str
    description: str
    reject_reason: str
    cause: str
    opt_out: bool

    words = property(event_words)


# Every column of messaging_emailevent that a stored event fills in.
STORED_COLUMNS = [
    "clinic_id",
    "email_id",
    "esp",
    "event_type",
    "status",
    "suppress",
    "occurred_at",
    "received_at",
    "matched_at",
    "reject_reason",
    "description",
    "mta_response",
    "click_url",
    "user_agent",
    "recipient",
    "message_id",
    "email_id_hint",
    "dedup_key",
    "raw",
    "cause",
    "opt_out",
]
# What applying needs of each new event (StoredEvent's fields).
APPLIED_FIELDS = [field.name for field in fields(StoredEvent)]

# The received batches' JSON as PostgreSQL reads it: one record per EventRow.
_ROW_TYPES = {
    "occurred_at": "timestamptz",
    "email_id_hint": "uuid",
    "raw": "jsonb",
    "opt_out": "boolean",
}
_RECORD = ", ".join(f"{row.name} {_ROW_TYPES.get(row.name, 'text')}" for row in fields(EventRow))
_FIELDS = ", ".join(row.name for row in fields(EventRow))
# What each stored column is made of, where it is not the event's own field of that name.
_MADE_OF = {
    "clinic_id": "email.clinic_id",
    "email_id": "email.id",
    "received_at": "%(now)s",
    "matched_at": "CASE WHEN email.id IS NULL THEN NULL ELSE %(now)s END",
    "raw": "COALESCE(incoming.raw, 'null')",
    # Batches kept by an earlier version have neither.
    "cause": "COALESCE(incoming.cause, '')",
    "opt_out": "COALESCE(incoming.opt_out, false)",
}
# Provenance: an event changes an email only if it came from the ESP the email went through and
# names the email's recipient (recipients are kept lower-cased). Anything else stays unmatched,
# for support to see why (messaging/admin.py).
_FROM_ITS_ESP_FOR_ITS_RECIPIENT = "esp = incoming.esp AND lower(to_email) = incoming.recipient"
# One statement: the batches' JSON is read by PostgreSQL itself, repeats are dropped (within the
# batches by DISTINCT ON, the first kept; against stored events by ON CONFLICT), each event is
# matched to its email by the email_id in its metadata, else by the ESP's message id (and its
# provenance), and the new
# ones are returned. Rows go in key order, so two drains carrying the same events wait for each
# other, never in a ring.
_STORE_RECEIVED = f"""
    WITH incoming AS (
        SELECT DISTINCT ON (event.esp, event.dedup_key) event.*
        FROM messaging_receivedbatch batch,
            ROWS FROM (jsonb_to_recordset(batch.payload) AS ({_RECORD}))
            WITH ORDINALITY AS event({_FIELDS}, position)
        WHERE batch.id = ANY(%(batches)s)
        ORDER BY event.esp, event.dedup_key, batch.id, event.position
    )
    INSERT INTO messaging_emailevent ({", ".join(STORED_COLUMNS)})
    SELECT {", ".join(_MADE_OF.get(name, f"incoming.{name}") for name in STORED_COLUMNS)}
    FROM incoming
    LEFT JOIN LATERAL (
        SELECT id, clinic_id FROM messaging_outboundemail
        WHERE id = incoming.email_id_hint AND {_FROM_ITS_ESP_FOR_ITS_RECIPIENT}
        UNION ALL
        SELECT id, clinic_id FROM messaging_outboundemail
        WHERE incoming.email_id_hint IS NULL AND incoming.message_id <> ''
            AND esp_message_id = incoming.message_id AND {_FROM_ITS_ESP_FOR_ITS_RECIPIENT}
        LIMIT 1
    ) email ON TRUE
    ORDER BY incoming.esp, incoming.dedup_key
    ON CONFLICT (esp, dedup_key) DO NOTHING
    RETURNING {", ".join(APPLIED_FIELDS)}
"""  # noqa: S608 (only the model's own column names are formatted in)


def events_store(batch_ids: list[int]) -> list[StoredEvent]:
    """Stores the events of these received batches, skipping any already stored, each matched to
    its email where it is known; returns the new ones. None of the JSON goes through Python,
    which made the drain about twice as fast as COPYing rows (docs/benchmarks.md)."""
    with connection.cursor() as cursor:
        cursor.execute(_STORE_RECEIVED, {"batches": batch_ids, "now": timezone.now()})
        return [StoredEvent(*row) for row in cursor]
