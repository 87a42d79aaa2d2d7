"""ESP tracking webhooks: anymail's views verify and parse, its `tracking` signal carries each
event, and the whole post is kept as one ReceivedBatch before the ESP is answered; a worker
stores and applies it (messaging/tracking/drain.py, docs/benchmarks.md for why not inline)."""

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

from anymail.exceptions import AnymailAPIError, AnymailWebhookValidationFailure
from anymail.signals import tracking
from anymail.webhooks.amazon_ses import (
    AmazonSESInboundWebhookView,
    AmazonSESTrackingWebhookView,
)
from anymail.webhooks.base import AnymailBasicAuthMixin, AnymailCoreWebhookView
from anymail.webhooks.mailgun import MailgunInboundWebhookView, MailgunTrackingWebhookView
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from django.conf import settings
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpResponse, HttpResponseBadRequest
from django.utils import timezone

from messaging.tracking.receive import drain_requests, events_receive
from messaging.tracking.rows import EventRow, event_row
from messaging.tracking.sns import Unavailable, sns_message_verify, sns_subscription_confirm
from messaging.tracking.tokens import webhook_token_keep

security_logger = logging.getLogger("django.security.webhooks")
_batch: ContextVar[list[EventRow] | None] = ContextVar("tracking_batch", default=None)

# What a post that is not the ESP's documented shape raises while anymail reads it (deeply
# nested JSON: RecursionError).
MALFORMED = (ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError)


@receiver(tracking, dispatch_uid="messaging.tracking_received")
def tracking_received(sender, event, esp_name: str, **kwargs) -> None:
    row = event_row(esp_name, event)
    batch = _batch.get()
    if batch is not None:
        batch.append(row)
        return
    # Sent by one of anymail's own views (an ESP without a view of ours): kept and applied the
    # same way, one event at a time.
    events_receive(esp=row.esp, rows=[row])
    drain_requests.request()


class BatchIngestMixin(AnymailCoreWebhookView):
    """Verify, parse, dispatch through the signal, keep the post's events, ask for a drain."""

    def post(self, request, *args, **kwargs):
        try:
            # The shared secret first, before anything reads the body.
            AnymailBasicAuthMixin.validate_request(self, request)
            self.run_validators(request)
            events = self.parse_events(request)
        except AnymailWebhookValidationFailure as failure:
            security_logger.warning("Refused %s webhook: %s", self.esp_name, failure)
            return HttpResponseBadRequest(f"Refused {self.esp_name} webhook: nothing stored")
        except (*MALFORMED, AnymailAPIError):
            return self.malformed()
        except Unavailable as error:
            security_logger.warning("%s webhook left for a retry: %s", self.esp_name, error)
            return HttpResponse(f"{error}; try again", status=503)
        rows: list[EventRow] = []
        token = _batch.set(rows)
        try:
            for event in events:
                self.signal.send(sender=self.__class__, event=event, esp_name=self.esp_name)
        finally:
            _batch.reset(token)
        if not rows:
            return HttpResponse("OK (ignored: no tracking events)")
        identified = [row for row in rows if row.message_id or row.email_id_hint]
        if not identified:
            return self.malformed("no event names a message")
        kept = events_receive(
            esp=identified[0].esp, rows=identified, token=self.one_time_token(request)
        )
        if kept is None:
            return HttpResponse("OK (duplicate: this signed post was received before)")
        drain_requests.request()
        return HttpResponse(f"OK ({len(identified)} received)")

    def one_time_token(self, request) -> str | None:
        """The token a signature covers that must not be accepted twice, where the ESP has one."""
        return None

    def malformed(self, why: str = "not the documented shape") -> HttpResponseBadRequest:
        return HttpResponseBadRequest(f"Malformed {self.esp_name} webhook ({why}): nothing stored")


class MailgunTracking(MailgunTrackingWebhookView, BatchIngestMixin):
    """Mailgun signs only a timestamp and a token: a signature is accepted within its time
    window, and each token once."""

    def validate_request(self, request):
        _mailgun_signature_fresh(request)

    def one_time_token(self, request) -> str | None:
        return str(_mailgun_signed(request)[1])[:128]


class MailgunInbound(MailgunInboundWebhookView):
    """Mail received through Mailgun: its posted verdict fields decide whether a removal request
    is the client's own, and Mailgun's signature covers only a timestamp and a token, not them.
    So, as for tracking, a signature is accepted within its window and each token once; the
    token is kept in the transaction that files the message, so a post that fails may come
    again."""

    def validate_request(self, request):
        # anymail calls every validate_request in the class chain (basic auth, the signature).
        _mailgun_signature_fresh(request)

    def post(self, request, *args, **kwargs):
        self.run_validators(request)
        with transaction.atomic():
            if not webhook_token_keep(esp="mailgun", token=str(_mailgun_signed(request)[1])):
                return HttpResponse("OK (duplicate: this signed post was received before)")
            for event in self.parse_events(request):
                self.signal.send(sender=self.__class__, event=event, esp_name=self.esp_name)
        return HttpResponse()


def _mailgun_signature_fresh(request) -> None:
    """Refuses a Mailgun signature made outside the accepted window."""
    timestamp, _ = _mailgun_signed(request)
    try:
        signed_at = datetime.fromtimestamp(float(timestamp), tz=UTC)
    except (TypeError, ValueError, OverflowError) as error:
        raise AnymailWebhookValidationFailure("Mailgun timestamp is not a time") from error
    age = timezone.now() - signed_at
    if age > settings.MAILGUN_SIGNATURE_MAX_AGE:
        raise AnymailWebhookValidationFailure(f"Mailgun signature is stale ({age} old)")
    if -age > settings.MAILGUN_SIGNATURE_MAX_AHEAD:
        raise AnymailWebhookValidationFailure("Mailgun signature is dated in the future")


def _mailgun_signed(request) -> tuple[str, str]:
    """The timestamp and token a Mailgun post's signature covers (anymail checked the
    signature itself)."""
    if request.content_type == "application/json":
        try:
            block = json.loads(request.body)["signature"]
            return block["timestamp"], block["token"]
        except (*MALFORMED, UnicodeDecodeError) as error:
            raise AnymailWebhookValidationFailure("Mailgun post has no signature") from error
    if "timestamp" not in request.POST or "token" not in request.POST:
        raise AnymailWebhookValidationFailure("Mailgun post has no signature")
    return request.POST["timestamp"], request.POST["token"]


class PostmarkTracking(PostmarkTrackingWebhookView, BatchIngestMixin):
    pass


class AmazonSESTracking(AmazonSESTrackingWebhookView, BatchIngestMixin):
    """SNS messages are accepted only as SNS signed them, from a topic of ours; a subscription
    to one of ours is confirmed without AWS credentials (messaging/tracking/sns.py)."""

    def validate_request(self, request):
        sns_message_verify(self._parse_sns_message(request))

    def auto_confirm_sns_subscription(self, sns_message):
        sns_subscription_confirm(sns_message)


class AmazonSESInbound(AmazonSESInboundWebhookView):
    """Mail received through SES: its SPF, DKIM and DMARC verdicts decide whether a removal
    request is the client's own, so the SNS message is accepted only as SNS signed it, from a
    topic of ours, like the tracking events."""

    def validate_request(self, request):
        # anymail calls every validate_request in the class chain (basic auth, SNS headers).
        sns_message_verify(self._parse_sns_message(request))

    def auto_confirm_sns_subscription(self, sns_message):
        sns_subscription_confirm(sns_message)

    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except Unavailable as error:
            security_logger.warning("%s inbound left for a retry: %s", self.esp_name, error)
            return HttpResponse(f"{error}; try again", status=503)


class SendGridTracking(SendGridTrackingWebhookView, BatchIngestMixin):
    def parse_events(self, request):
        # SendGrid posts a JSON array; anymail would read an object as an empty batch.
        if not request.body.lstrip().startswith(b"["):
            raise ValueError("not a JSON array")
        try:
            return super().parse_events(request)
        except (OverflowError, OSError) as error:
            # A timestamp out of any clock's range (anymail reads it with fromtimestamp, which
            # raises these): a malformed post, not a fault of ours. Nothing here does I/O.
            raise ValueError(f"a timestamp out of range: {error}") from error
