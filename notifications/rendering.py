"""Notification texts, rendered from templates like emails are: templates/notifications/<name>.txt,
one per kind of notification."""

from django.template import Context, engines


def notification_render(name: str, context: dict) -> str:
    """A notification's text: plain text, nothing escaped (the page escapes it as it shows it)."""
    template = engines["django"].get_template(f"notifications/{name}.txt").template
    return template.render(Context(context, autoescape=False)).strip()
