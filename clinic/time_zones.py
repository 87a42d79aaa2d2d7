"""How the times a clinic's people read are named. Every time is shown on the clinic's own wall
clock; where the reader cannot tell which clock that is (an email, a notification, support's
admin), the zone is named too."""

import zoneinfo
from datetime import datetime, tzinfo

from django.utils import timezone
from django.utils.dateformat import format as date_format

ADMIN_TIME_FORMAT = "j M Y, H:i"


def zone_key(zone: tzinfo | str) -> str:
    return zone if isinstance(zone, str) else getattr(zone, "key", str(zone))


def zone_words(zone: tzinfo | str) -> str:
    """The zone as a client would say it: "New York time" for America/New_York. Zones that are
    not a place (UTC, Etc/GMT+5) keep their own name, which is what people call them."""
    key = zone_key(zone)
    region, _, place = key.rpartition("/")
    if not region or region == "Etc":
        return key
    return f"{place.replace('_', ' ')} time"


def with_zone(local: datetime, format_string: str) -> str:
    """An aware moment already on the reader's clock, formatted and followed by its zone's
    abbreviation ("01:30 EDT"). Django's "T" leaves the abbreviation out in the hour a clock
    goes back, the very hour that needs it; the moment's own fold still knows which it is."""
    return f"{date_format(local, format_string)} {local.tzname()}"


def clock_time(moment: datetime | None, zone: tzinfo | str) -> str:
    """A moment on the given zone's wall clock with the zone's abbreviation, e.g.
    "8 Mar 2026, 10:00 EDT": support reads many clinics' times side by side."""
    if moment is None:
        return ""
    if isinstance(zone, str):
        zone = zoneinfo.ZoneInfo(zone)
    return with_zone(timezone.localtime(moment, zone), ADMIN_TIME_FORMAT)
