"""Notification texts, rendered from templates like emails are: templates/notifications/<name>.txt,
one per kind of notification."""

from contextlib import nullcontext

from django.template import Context, engines
from django.utils import timezone

from clinic.models import Clinic


def notification_render(name: str, context: dict, *, clinic: Clinic | None = None) -> str:
    """A notification's text: plain text, nothing escaped (the page escapes it as it shows it).

    A notification is read long after it is written, by staff of one clinic, so any time in it
    is on that clinic's clock (and names the zone). Rendered when it is created, often in a
    worker that runs in UTC: callers whose text holds a time pass the clinic.
    """
    template = engines["django"].get_template(f"notifications/{name}.txt").template
    with timezone.override(clinic.tzinfo) if clinic else nullcontext():
        return template.render(Context({"clinic": clinic, **context}, autoescape=False)).strip()
