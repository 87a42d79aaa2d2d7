"""Removal requests by email: anymail's inbound webhook hands us each received message."""

import json
import re

from anymail.signals import inbound
from django.conf import settings
from django.dispatch import receiver
from django_scopes import scopes_disabled

from clinic.models import normalize_email_address
from suppression.removal_requests import removal_request_receive
from suppression.sender_auth import EspVerdicts, single_signature_domain
from suppression.streams import stream_for_esp


def _one_posted(request, name: str) -> str:
    """A field the ESP posted once; posted twice (a sender's header of the same name beside
    the ESP's own), it is no verdict."""
    posted = getattr(request, "POST", None)
    values = posted.getlist(name) if posted is not None else []
    return str(values[0]).strip() if len(values) == 1 else ""


def _status(verdict) -> str:
    return str(verdict.get("status", "")).strip() if isinstance(verdict, dict) else ""


def _signatures(message) -> list[str]:
    return [str(value) for value in message.get_all("DKIM-Signature", []) or []]


def mailgun_verdicts(message, request) -> EspVerdicts:
    """Mailgun posts its checks as the fields X-Mailgun-Spf (of the envelope sender, `sender`)
    and X-Mailgun-Dkim-Check-Result, which names no domain."""
    spf, dkim = (
        _one_posted(request, name) if len(message.get_all(name, []) or []) <= 1 else ""
        for name in ("X-Mailgun-Spf", "X-Mailgun-Dkim-Check-Result")
    )
    return EspVerdicts(
        esp="Mailgun",
        spf=spf,
        envelope_sender=_one_posted(request, "sender"),
        dkim=dkim,
        dkim_domains=single_signature_domain(_signatures(message), dkim),
    )


def amazon_ses_verdicts(message, notification: dict) -> EspVerdicts:
    """SES's receipt notification (anymail's esp_event) holds receipt.spfVerdict, dkimVerdict
    and dmarcVerdict; SPF is of mail.source, the envelope sender; the DKIM verdict names no
    domain."""
    receipt = notification.get("receipt") or {}
    dkim = _status(receipt.get("dkimVerdict"))
    return EspVerdicts(
        esp="Amazon SES",
        spf=_status(receipt.get("spfVerdict")),
        envelope_sender=str((notification.get("mail") or {}).get("source") or ""),
        dkim=dkim,
        dkim_domains=single_signature_domain(_signatures(message), dkim),
        dmarc=_status(receipt.get("dmarcVerdict")),
    )


SENDGRID_UNSIGNED = (
    "SendGrid signs no Inbound Parse post, so nothing shows its SPF and DKIM verdicts came from "
    "SendGrid rather than from someone who knows the webhook's password: no request that "
    "arrives through SendGrid is taken as the client's own. Ask the client to confirm by "
    "phone, in person or by letter, and reactivate the address with that request."
)


def sendgrid_verdicts(message, request) -> EspVerdicts:
    """Inbound Parse posts `SPF`, `dkim` naming each signing domain ("{@example.com : pass}")
    and the envelope as JSON: kept for support to read, never proof (the post is unsigned)."""
    dkim = _one_posted(request, "dkim")
    domains = tuple(
        (domain.rstrip(".").lower(), result.lower())
        for domain, result in re.findall(r"@([^\s:,{}]+)\s*:\s*([A-Za-z]+)", dkim)
    )
    try:
        envelope = json.loads(_one_posted(request, "envelope") or "{}")
    except ValueError:
        envelope = {}
    sender = envelope.get("from") if isinstance(envelope, dict) else ""
    return EspVerdicts(
        esp="SendGrid",
        spf=_one_posted(request, "SPF"),
        envelope_sender=sender if isinstance(sender, str) else "",
        dkim=dkim,
        dkim_domains=domains,
        note=SENDGRID_UNSIGNED,
        provable=False,
    )


def postmark_verdicts(message, payload) -> EspVerdicts:
    """Postmark posts no verdict of its own: the Received-SPF it passes on is one of the
    message's headers, which a sender can write too."""
    return EspVerdicts(
        esp="Postmark",
        note="Postmark reports no SPF, DKIM or DMARC verdict of its own (its Received-SPF is "
        "a message header, which the sender could have written), so no request that arrives "
        "through Postmark is taken as the client's own.",
    )


VERDICT_READERS = {
    "Mailgun": mailgun_verdicts,
    "Amazon SES": amazon_ses_verdicts,
    "SendGrid": sendgrid_verdicts,
    "Postmark": postmark_verdicts,
}


def esp_verdicts(esp_name: str, message, esp_event) -> EspVerdicts:
    reader = VERDICT_READERS.get(esp_name)
    if reader is None:
        return EspVerdicts(esp=esp_name, note=f"{esp_name}'s verdicts are not read.")
    return reader(message, esp_event)


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
    verdicts = esp_verdicts(esp_name, message, event.esp_event)
    with scopes_disabled():
        removal_request_receive(
            from_address=message.from_email.addr_spec,
            subject=message.subject or "",
            text=message.text or "",
            message_id=str(message.get("Message-ID", "") or ""),
            esp=stream_for_esp(esp_name),
            verdicts=verdicts,
        )
