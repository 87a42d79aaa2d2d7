"""Formatting for the email log's template; its data comes from messaging/log/presentation.py."""

from django import template

from messaging.log.presentation import status_help, status_tone

register = template.Library()


@register.filter
def tone(status: str) -> str:
    return status_tone(status)


@register.filter
def explained(email) -> str:
    """What the email's status means and what to do, by why it failed where that matters."""
    return status_help(email.status, email.failure_cause)
