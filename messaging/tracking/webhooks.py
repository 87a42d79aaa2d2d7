"""ESP tracking webhooks: anymail's views verify and parse, its `tracking` signal carries each
event, and the whole post is kept as one ReceivedBatch before the ESP is answered; a worker
stores and applies it (messaging/tracking/drain.py, docs/benchmarks.md for why not inline)."""

import logging
from contextvars import ContextVar

from anymail.exceptions import AnymailAPIError, AnymailWebhookValidationFailure
from anymail.signals import tracking
from anymail.webhooks.amazon_ses import AmazonSESTrackingWebhookView
from anymail.webhooks.base import AnymailCoreWebhookView
from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from botocore.exceptions import ClientError
from django.dispatch import receiver
from django.http import HttpResponse, HttpResponseBadRequest

from messaging.tracking.receive import drain_requests, events_receive
from messaging.tracking.rows import EventRow, event_row

security_logger = logging.getLogger("django.security.webhooks")
_batch: ContextVar[list[EventRow] | None] = ContextVar("tracking_batch", default=None)

# What a post that is not the ESP's documented shape raises while anymail reads it.
MALFORMED = (ValueError, KeyError, TypeError, AttributeError, IndexError)


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
            self.run_validators(request)
            events = self.parse_events(request)
        except AnymailWebhookValidationFailure as failure:
            security_logger.warning("Refused %s webhook: %s", self.esp_name, failure)
            return HttpResponseBadRequest(f"Refused {self.esp_name} webhook: nothing stored")
        except MALFORMED:
            return self.malformed()
        except AnymailAPIError as error:
            if isinstance(error, ClientError):  # AWS could not be reached: let SNS retry
                raise
            return self.malformed()
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
        events_receive(esp=identified[0].esp, rows=identified)
        drain_requests.request()
        return HttpResponse(f"OK ({len(identified)} received)")

    def malformed(self, why: str = "not the documented shape") -> HttpResponseBadRequest:
        return HttpResponseBadRequest(f"Malformed {self.esp_name} webhook ({why}): nothing stored")


class MailgunTracking(MailgunTrackingWebhookView, BatchIngestMixin):
    pass


class PostmarkTracking(PostmarkTrackingWebhookView, BatchIngestMixin):
    pass


class AmazonSESTracking(AmazonSESTrackingWebhookView, BatchIngestMixin):
    pass


class SendGridTracking(SendGridTrackingWebhookView, BatchIngestMixin):
    def parse_events(self, request):
        # SendGrid posts a JSON array; anymail would read an object as an empty batch.
        if not request.body.lstrip().startswith(b"["):
            raise ValueError("not a JSON array")
        return super().parse_events(request)
