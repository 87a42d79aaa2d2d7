from django.urls import path

from messaging.tracking import webhooks

# The same paths and names as anymail's own, served by views that ingest a post as one batch.
urlpatterns = [
    path("mailgun/tracking/", webhooks.MailgunTracking.as_view(), name="mailgun_tracking_webhook"),
    path(
        "postmark/tracking/", webhooks.PostmarkTracking.as_view(), name="postmark_tracking_webhook"
    ),
    path(
        "amazon_ses/tracking/",
        webhooks.AmazonSESTracking.as_view(),
        name="amazon_ses_tracking_webhook",
    ),
    path(
        "sendgrid/tracking/", webhooks.SendGridTracking.as_view(), name="sendgrid_tracking_webhook"
    ),
]
