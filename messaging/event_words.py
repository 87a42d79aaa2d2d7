"""An ESP event's words, as a practitioner reads them: what the receiving mail server said, else
the ESP's description, else its reason code. In Python for an event in hand, and in SQL for the
events a query reads: the one rule, twice."""

from django.db.models import TextField, Value
from django.db.models.functions import Coalesce, NullIf

# What the words are made of, in order: a query that shows them loads these.
WORDS_FIELDS = ("mta_response", "description", "reject_reason")


def event_words(event) -> str:
    """The words of an event in hand: an EmailEvent, a StoredEvent or an EventRow."""
    return event.mta_response or event.description or event.reject_reason


def event_words_sql() -> Coalesce:
    """The words of the EmailEvent rows a query reads."""
    return Coalesce(
        NullIf("mta_response", Value("")),
        NullIf("description", Value("")),
        "reject_reason",
        output_field=TextField(),
    )
