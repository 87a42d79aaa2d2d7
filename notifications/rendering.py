"""Notification texts, rendered from templates like emails are: templates/notifications/<name>.txt,
one per kind of notification."""

from django.template import Context, engines
from django.utils import timezone

from clinic.models import Clinic


def notification_render(name: str, context: dict, *, clinic: Clinic) -> str:
    """A notification's text: plain text, nothing escaped (the page escapes it as it shows it).

    A notification is read long after it is written, by staff of one clinic, so any time in it
    is on that clinic's clock (and names the zone). Rendered when it is created, often in a
    worker that runs in UTC: so the clinic is required, and a new caller cannot render a time
    in UTC by leaving it out.
    """
    template = engines["django"].get_template(f"notifications/{name}.txt").template
    with timezone.override(clinic.tzinfo):
        return template.render(Context({"clinic": clinic, **context}, autoescape=False)).strip()
