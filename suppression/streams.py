"""Sending streams. A clinic's mail goes out on one: the platform's account at an ESP, whose events
and suppression list are its own, or the clinic's own SMTP server, which reports no events and
keeps no list. An email and an event record the stream by name (`esp`), as does a suppression."""

from django.conf import settings

from clinic.models import Clinic

SMTP = "smtp"

# anymail's name for each ESP, and the stream (the platform's account at that ESP) it sends on.
ESP_STREAMS = {
    "Mailgun": "mailgun",
    "Postmark": "postmark",
    "Amazon SES": "amazon_ses",
    "SendGrid": "sendgrid",
}


# Each stream's ESP by the name people know it by, for words shown to support and clinics.
ESP_NAMES = {stream: name for name, stream in ESP_STREAMS.items()}


def stream_for_esp(esp_name: str) -> str:
    """The stream an ESP's webhook reports on, by anymail's name for the ESP."""
    return ESP_STREAMS.get(esp_name, esp_name.lower().replace(" ", "_"))


def sending_stream(clinic: Clinic) -> str:
    """The stream a clinic's mail goes out on: its own SMTP server, else the platform's ESP."""
    return SMTP if clinic.uses_own_smtp else settings.EMAIL_ESP


def suppression_stream(clinic: Clinic) -> str | None:
    """The suppression list a clinic's mail is checked against: its stream's; own SMTP has none."""
    stream = sending_stream(clinic)
    return None if stream == SMTP else stream
