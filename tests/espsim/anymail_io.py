"""Sending through anymail's real backends, and reading the simulator's webhook posts with
anymail's real tracking views (each with a signal of its own, so no app receiver stores them)."""

from __future__ import annotations

from typing import Any

from anymail.message import AnymailMessage
from anymail.signals import AnymailTrackingEvent
from anymail.webhooks.amazon_ses import AmazonSESTrackingWebhookView
from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from django.dispatch import Signal
from django.test import RequestFactory

import espsim

VIEWS = {
    "mailgun": MailgunTrackingWebhookView,
    "postmark": PostmarkTrackingWebhookView,
    "sendgrid": SendGridTrackingWebhookView,
    "amazon_ses": AmazonSESTrackingWebhookView,
}
WEBHOOK_SECRET = "hook:secret"  # what Receiver.url() puts in the URL
FROM = "Clinic <noreply@clinic.example>"
# Headers a proxy or the HTTP layer owns; the rest of a captured post is replayed as sent.
_NOT_REPLAYED = {"content-length", "content-type", "host", "connection", "accept-encoding"}


def point_anymail_at(settings: Any, sim: espsim.Simulator, **extra: Any) -> None:
    """Django settings sending through anymail's backend for ``sim``'s ESP, at ``sim``."""
    settings.EMAIL_BACKEND = f"anymail.backends.{sim.esp}.EmailBackend"
    settings.ANYMAIL = {"WEBHOOK_SECRET": [WEBHOOK_SECRET], **sim.anymail_settings(), **extra}


def anymail_send(
    to: list[str],
    *,
    metadata: dict[str, Any] | None = None,
    tags: list[str] | None = None,
    html: str | None = None,
    **options: Any,
) -> AnymailMessage:
    """Send one message through the configured anymail backend; it carries anymail_status."""
    message = AnymailMessage(
        subject="Your appointment",
        body="See you on Monday at 10:00.",
        from_email=FROM,
        to=to,
        metadata=metadata or {},
        tags=tags or [],
        **options,
    )
    if html:
        message.attach_alternative(html, "text/html")
    message.send()
    return message


def anymail_parse(esp: str, post: dict[str, Any]) -> list[AnymailTrackingEvent]:
    """Replay one captured webhook post through anymail's tracking view for ``esp``; the events
    it parsed (it must answer 200)."""
    events: list[AnymailTrackingEvent] = []
    signal = Signal()

    def collect(sender: Any, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any) -> None:
        events.append(event)

    signal.connect(collect, weak=False)
    view = type(f"Collecting{VIEWS[esp].__name__}", (VIEWS[esp],), {"signal": signal})
    headers = {k: v for k, v in post["headers"].items() if k.lower() not in _NOT_REPLAYED}
    request = RequestFactory().generic(
        "POST",
        post["path"],
        data=post["body"],
        content_type=post["headers"].get("Content-Type", "application/json"),
        headers=headers,
    )
    response = view.as_view()(request)
    assert response.status_code == 200, response.content
    return events
