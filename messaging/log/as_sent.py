"""The email as it was sent, as staff may read it: its headers, bodies and files, with a smart
form's secret link masked (whoever holds that link can read the client's name and answer in
their place, so it stays the client's)."""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.shortcuts import get_object_or_404

from clinic.models import Client
from messaging.models import EmailAttachment, OutboundEmail

FORM_LINK_MASKED = "(the client's personal form link)"


def _form_link_pattern() -> re.Pattern:
    """Any link to a smart form on this site, in plain text or in an HTML attribute, up to
    whitespace, a quote or an angle bracket."""
    site = urlsplit(settings.SITE_URL)
    origin = re.escape(f"{site.scheme}://{site.netloc}")
    return re.compile(origin + r"/forms/[^\s\"'<>]*")


def form_links_masked(body: str, token: str = "") -> str:
    """The body with every smart-form link replaced by words saying what it was; the email's own
    form token too, wherever it stands (a link written under an address the site no longer
    answers at, after a move, is still the client's key)."""
    masked = _form_link_pattern().sub(FORM_LINK_MASKED, body)
    return masked.replace(token, FORM_LINK_MASKED) if token else masked


@dataclass(frozen=True)
class EmailAsSent:
    email: OutboundEmail
    body_text: str
    body_html: str
    attachments: list[EmailAttachment]


def client_email(*, client: Client, email_id) -> OutboundEmail:
    """One of the client's emails, in the clinic's scope: another clinic's email is a 404."""
    emails = OutboundEmail.objects.select_related("clinic", "sent_by", "form_request")
    return get_object_or_404(emails, client=client, pk=email_id)


def email_as_sent(*, client: Client, email_id) -> EmailAsSent:
    """The email as staff read it: the bodies with form links masked, its files without their
    bytes (downloaded one by one)."""
    email = client_email(client=client, email_id=email_id)
    attachments = list(email.attachments.defer("content").order_by("id"))
    token = email.form_request.token if email.form_request_id else ""
    return EmailAsSent(
        email=email,
        body_text=form_links_masked(email.body_text, token),
        body_html=form_links_masked(email.body_html, token),
        attachments=attachments,
    )


def email_attachment(*, client: Client, email_id, attachment_id: int) -> EmailAttachment:
    email = client_email(client=client, email_id=email_id)
    return get_object_or_404(EmailAttachment.objects.all(), email=email, pk=attachment_id)
