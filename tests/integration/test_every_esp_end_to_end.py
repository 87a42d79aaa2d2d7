"""Each ESP end to end: a real Celery worker sends through anymail's real backend for that ESP to
the simulator speaking it, the simulator posts that ESP's documented webhooks (SES's as signed
SNS notifications) to the live server, and a delivered, a bounced and a complained email reach
their status and consequences."""

import os
from urllib.parse import urlsplit

import pytest
from django.db import transaction
from django_scopes import scope, scopes_disabled

from clinic.models import Client
from espsim.server import start
from messaging.models import OutboundEmail
from messaging.sending.triggers import direct_message_send
from notifications.models import Notification
from suppression.models import Suppression
from tests.factories import ClientFactory
from tests.processes import Worker, database_url, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ESPS = ["mailgun", "postmark", "amazon_ses", "sendgrid"]
# What the worker's environment names each backend's settings (config/settings.py).
API_URL_SETTINGS = {
    "mailgun": ("MAILGUN_API_URL", "MAILGUN_API_URL"),
    "postmark": ("POSTMARK_API_URL", "POSTMARK_API_URL"),
    "sendgrid": ("SENDGRID_API_URL", "SENDGRID_API_URL"),
}


@pytest.fixture(params=ESPS)
def esp_world(request, live_server, settings):
    """The simulator speaking one ESP, the app (this process's live server and a real worker)
    sending through it and trusting its webhooks."""
    esp = request.param
    secret = settings.ANYMAIL["WEBHOOK_SECRET"][0]
    webhook = live_server.url.replace("http://", f"http://{secret}@") + f"/anymail/{esp}/tracking/"
    simulator = start(
        esp=esp,
        api_key="e2e-key",
        webhook_url=webhook,
        signing_key=settings.ANYMAIL["MAILGUN_WEBHOOK_SIGNING_KEY"],
        delay_scale=0.02,
    )
    env = {**os.environ, "DATABASE_URL": database_url(), "EMAIL_ESP": esp, "CONN_MAX_AGE": "0"}
    env |= worker_settings(esp, simulator.anymail_settings())
    settings.EMAIL_ESP = esp  # the stream new emails are saved for
    if esp == "amazon_ses":
        dialect = simulator.dialect
        cert = urlsplit(dialect.cert_url)
        settings.AMAZON_SNS_CERT_URLS = [f"{cert.scheme}://{cert.netloc}/"]
        settings.AMAZON_SNS_TOPICS = [dialect.topic_arn]
    worker = Worker(env, concurrency=2).start()
    yield esp, simulator
    worker.stop()
    simulator.stop()


def worker_settings(esp: str, anymail: dict) -> dict[str, str]:
    """The simulator's anymail settings as the environment variables the settings read."""
    if esp == "amazon_ses":
        params = anymail["AMAZON_SES_CLIENT_PARAMS"]
        return {
            "AMAZON_SES_ENDPOINT_URL": params["endpoint_url"],
            "AWS_REGION": params["region_name"],
            "AWS_ACCESS_KEY_ID": params["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": params["aws_secret_access_key"],
        }
    env = {API_URL_SETTINGS[esp][0]: anymail[API_URL_SETTINGS[esp][1]]}
    env |= {"MAILGUN_API_KEY": "e2e-key", "POSTMARK_SERVER_TOKEN": "e2e-key"}
    env |= {"SENDGRID_API_KEY": "e2e-key"}
    return env


def send(cast, address: str) -> OutboundEmail:
    with scopes_disabled():
        client = ClientFactory(clinic=cast.alice_clinic, email=address, name="Aoife O’Brien")
    with transaction.atomic(), scope(clinic=cast.alice_clinic):
        return direct_message_send(client=client, subject="Your plan", body="x", sent_by=cast.alice)


def statuses(emails) -> dict[str, str]:
    with scopes_disabled():
        found = OutboundEmail.objects.filter(pk__in=[email.pk for email in emails])
        return {email.to_email.split("@")[0]: email.status for email in found}


def test_each_esp_delivers_bounces_and_reports_spam_through_its_own_webhook(cast, esp_world):
    esp, simulator = esp_world
    emails = [
        send(cast, f"{kind}.{esp.replace('_', '')}@example.test")
        for kind in ("deliver", "bounce", "complaint")
    ]
    expected = {
        f"deliver.{esp.replace('_', '')}": "delivered",
        f"bounce.{esp.replace('_', '')}": "failed",
        f"complaint.{esp.replace('_', '')}": "spam_report",
    }
    wait_for(lambda: statuses(emails) == expected, timeout=90, interval=0.5)

    deliver, bounce, complaint = emails
    assert {s.address: s.reason for s in Suppression.objects.filter(stream=esp)} == {
        bounce.to_email: "hard_bounce",
        complaint.to_email: "spam_complaint",
    }
    with scopes_disabled():
        opted_in = dict(Client.objects.values_list("email", "appointment_comms"))
        told = Notification.objects.filter(recipient=cast.alice).values_list("email_id", flat=True)
    assert opted_in[deliver.to_email] is True
    assert opted_in[bounce.to_email] is False
    assert opted_in[complaint.to_email] is False
    assert sorted(told) == sorted([bounce.pk, complaint.pk])
    assert len(simulator.messages()) == 3, "each email reached the ESP once"
