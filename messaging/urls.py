from anymail.webhooks.postmark import PostmarkInboundWebhookView
from anymail.webhooks.sendgrid import SendGridInboundWebhookView
from django.conf import settings
from django.urls import URLPattern, path, re_path

from messaging.tracking import webhooks

# Each ESP's tracking view (ours, which keeps a post as one batch) and inbound view (anymail's;
# for Mailgun and SES ours, which refuse replays and verify SNS's signature), at anymail's own
# paths and names.
VIEWS = {
    "mailgun": (webhooks.MailgunTracking, webhooks.MailgunInbound),
    "postmark": (webhooks.PostmarkTracking, PostmarkInboundWebhookView),
    "amazon_ses": (webhooks.AmazonSESTracking, webhooks.AmazonSESInbound),
    "sendgrid": (webhooks.SendGridTracking, SendGridInboundWebhookView),
}


def webhook_patterns(esps: list[str]) -> list[URLPattern]:
    """The endpoints of these ESPs only: an ESP the platform does not use has none (404)."""
    patterns = []
    for esp in esps:
        tracking, inbound = VIEWS[esp]
        patterns.append(
            path(f"{esp}/tracking/", tracking.as_view(), name=f"{esp}_tracking_webhook")
        )
        # Mailgun posts parsed fields to inbound/ and the raw message to inbound_mime/.
        inbound_path = r"^mailgun/inbound(_mime)?/$" if esp == "mailgun" else rf"^{esp}/inbound/$"
        patterns.append(re_path(inbound_path, inbound.as_view(), name=f"{esp}_inbound_webhook"))
    return patterns


urlpatterns = webhook_patterns(settings.WEBHOOK_ESPS)
