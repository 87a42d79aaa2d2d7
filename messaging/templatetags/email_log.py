"""Formatting for the email log's template; its data comes from messaging/log/presentation.py."""

from urllib.parse import urlsplit

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.dateformat import format as date_format

from messaging.log.presentation import (
    engagement_words,
    event_not_counted,
    reason_shown,
    shown_status,
    status_help,
    status_tone,
)
from messaging.sending.resend import address_at_fault, resend_blocker
from messaging.status import EmailStatus

register = template.Library()


@register.filter
def tone(status: str) -> str:
    return status_tone(status)


@register.filter
def explained(email) -> str:
    """What the email's status means and what to do, by why it failed where that matters."""
    return status_help(shown_status(email), email.failure_cause)


@register.filter
def resendable(email) -> bool:
    """May staff correct the address and resend this email (messaging/sending/resend.py)."""
    return not resend_blocker(email)


@register.filter
def address_to_correct(email) -> bool:
    """Is correcting the address the way to resend it, or does the same email simply go again
    (a temporary failure, a problem of ours, the quota)?"""
    return address_at_fault(email)


@register.filter
def reason_words(email) -> str:
    """The email's reason as shown: "Not sent." first for a refused one (presentation.py)."""
    return reason_shown(email)


@register.filter
def shown(email) -> str:
    """The status the log shows for the email (messaging/log/presentation.py)."""
    return shown_status(email)


@register.filter
def status_label(status: str) -> str:
    return EmailStatus(status).label


@register.filter
def not_tracked(email) -> str:
    return engagement_words(email)


@register.filter
def not_counted(event, email) -> str:
    """Words for an open or click reported for an email whose tracking was off, else ""."""
    return event_not_counted(email, event)


@register.filter
def link_shown(url: str) -> str:
    """The link a client clicked, as staff may read it. A smart-form link is the client's own
    key to their form (whoever holds it can read their name and answer in their place), so the
    timeline names it without its token."""
    clicked, site = urlsplit(url), urlsplit(settings.SITE_URL)
    if clicked.netloc == site.netloc and clicked.path.startswith("/forms/"):
        return "the client's smart-form link"
    return url


@register.filter
def timeline_time(moment) -> str:
    """An event's time on the reader's clock (the clinic's), with its year when that is not this
    year on the same clock: read in January, last December's bounce must not seem this year's."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    this_year = local.year == timezone.localdate().year
    return date_format(local, "j M, H:i:s" if this_year else "j M Y, H:i:s")
