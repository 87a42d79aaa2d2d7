"""Removal requests by email: anymail's inbound webhook hands us each received message."""

import re

from anymail.signals import inbound
from django.conf import settings
from django.dispatch import receiver
from django_scopes import scopes_disabled

from clinic.models import normalize_email_address
from suppression.services import removal_request_receive
from suppression.streams import stream_for_esp


def _header_verdict(message, header: str, pattern: str) -> str:
    for value in message.get_all(header, []) or []:
        found = re.search(pattern, str(value), re.IGNORECASE)
        if found:
            return found.group(1).lower()
    return ""


def _esp_field(esp_event, name: str) -> str:
    posted = getattr(esp_event, "POST", None)
    return str(posted.get(name, "")) if posted is not None else ""


def auth_verdicts(message, esp_event) -> tuple[str, str]:
    """The SPF and DKIM verdicts the ESP gives, from its fields or the receiving headers."""
    spf = (
        _esp_field(esp_event, "X-Mailgun-Spf")
        or _header_verdict(message, "Received-SPF", r"^\s*(\w+)")
        or _header_verdict(message, "Authentication-Results", r"\bspf=(\w+)")
    )
    dkim = _esp_field(esp_event, "X-Mailgun-Dkim-Check-Result") or _header_verdict(
        message, "Authentication-Results", r"\bdkim=(\w+)"
    )
    return spf, dkim


def _addressed_to_support(message) -> bool:
    support = normalize_email_address(settings.SUPPORT_EMAIL)
    recipients = [*message.to, *message.cc]
    envelope = message.envelope_recipient
    return envelope == support or any(
        normalize_email_address(address.addr_spec) == support for address in recipients
    )


@receiver(inbound, dispatch_uid="suppression.removal_request_received")
def removal_request_received(sender, event, esp_name: str, **kwargs) -> None:
    message = event.message
    if message is None or message.from_email is None or not _addressed_to_support(message):
        return
    spf, dkim = auth_verdicts(message, event.esp_event)
    with scopes_disabled():
        removal_request_receive(
            from_address=message.from_email.addr_spec,
            subject=message.subject or "",
            text=message.text or "",
            message_id=str(message.get("Message-ID", "") or ""),
            esp=stream_for_esp(esp_name),
            spf=spf,
            dkim=dkim,
        )
