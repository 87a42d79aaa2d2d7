"""Formatting for the email log's template; its data comes from messaging/log/presentation.py."""

from django import template

from messaging.log.presentation import status_help, status_tone

register = template.Library()


@register.filter
def tone(status: str) -> str:
    return status_tone(status)


@register.filter
def explained(status: str) -> str:
    return status_help(status)
