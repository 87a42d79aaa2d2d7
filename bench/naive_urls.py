"""Routes for the naive receiver, the trivial view, the durable ceiling and an enqueue-only
prototype (bench/webhook_ingest.py).

Imported on the first request, after `MessagingConfig.ready()` connected the app's receiver: it is
disconnected here so this server does only the naive per-event work.
"""

import os

import redis
from anymail.signals import tracking
from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from django.db import connection
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from bench.naive_receiver import naive_tracking_received

tracking.disconnect(dispatch_uid="messaging.tracking_received")
tracking.connect(naive_tracking_received, dispatch_uid="bench.naive_tracking_received")


@csrf_exempt
def trivial(request):
    return HttpResponse("ok")


@csrf_exempt
def durable_ceiling(request):
    """The least a receiver must do before it may answer 200 and never lose the post: commit its
    raw body with one INSERT (into bench_ceiling, made by the benchmark), in autocommit, with the
    server's synchronous_commit. No auth, no parsing, no model: a plain psycopg cursor on this
    process's Django connection (kept CONN_MAX_AGE like the app's), so without Django's cursor
    wrapper or its per-request health check (`SELECT 1`), neither of which durability needs."""
    connection.ensure_connection()
    with connection.wrap_database_errors, connection.connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_ceiling (body) VALUES (%s)", [request.body])
    return HttpResponse("ok")


class MailgunEnqueueOnly(MailgunTrackingWebhookView):
    """Prototype of accept-then-apply: verify the post, queue its raw body, answer. What applies
    the queue in batches is not measured here."""

    queue = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])

    def post(self, request, *args, **kwargs):
        self.run_validators(request)
        self.queue.rpush("bench:mailgun-enqueued", request.body)
        return HttpResponse("queued")


urlpatterns = [
    path("anymail/mailgun/tracking/", MailgunTrackingWebhookView.as_view()),
    path("anymail/sendgrid/tracking/", SendGridTrackingWebhookView.as_view()),
    path("trivial/", trivial),
    path("ceiling/", durable_ceiling),
    path("prototype/mailgun-enqueue/", MailgunEnqueueOnly.as_view()),
]
