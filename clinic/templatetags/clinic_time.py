"""Naming a clinic's time zone in pages, emails and notifications (clinic/time_zones.py)."""

from django import template

from clinic import time_zones

register = template.Library()


@register.filter
def zone_words(clinic) -> str:
    """ "New York time" for a clinic (or a zone name) in America/New_York."""
    return time_zones.zone_words(getattr(clinic, "time_zone", clinic))


@register.filter(expects_localtime=True)
def with_zone(moment, format_string: str = "H:i") -> str:
    """The moment on the current clock (the clinic's) with the zone's abbreviation:
    {{ email.sent_at|with_zone:"H:i" }} reads "01:30 EDT"."""
    if not moment:
        return ""
    return time_zones.with_zone(moment, format_string)
