"""The client summary's contexts, read from the database: the log's page, the address's state
and consent, the smart forms' states and the send forms. What each status or state means, in
words, is decided by the pure functions of messaging/log/presentation.py."""

from django.db.models import Prefetch

from clinic.models import Client
from clinic.selectors import client_form_requests, client_upcoming_appointments
from messaging.log.forms import send_forms_for
from messaging.log.presentation import (
    FormRequestShown,
    email_log_context,
    form_request_shown,
    opt_in_refusal,
)
from messaging.models import OutboundEmail
from suppression.selectors import address_block, address_warning


def client_form_states(client: Client) -> list[FormRequestShown]:
    """The client's latest smart forms, each with the state staff read (two queries)."""
    emails = OutboundEmail.objects.only("id", "form_request_id", "status").order_by(
        "-created_at", "-id"
    )
    form_requests = client_form_requests(client=client).prefetch_related(
        Prefetch("emails", queryset=emails, to_attr="newest_emails")
    )
    return [form_request_shown(form_request) for form_request in form_requests]


def client_live_context(client: Client, page_number, email_id=None) -> dict:
    """What the client's page refreshes together: the email log, the address's state and the
    client's consent, and the smart forms' states. A bounce changes all three at once, so they
    are read in one request and never contradict each other."""
    block = address_block(clinic=client.clinic, address=client.email)
    return {
        **email_log_context(client, page_number, email_id),
        "address_block": block,
        "address_warning": address_warning(clinic=client.clinic, address=client.email),
        "opt_in_refusal": opt_in_refusal(client, block),
        "form_requests": client_form_states(client),
    }


def client_summary_context(client: Client, page_number, forms=None, email_id=None) -> dict:
    """Everything the client summary shows: its live parts, the upcoming appointments and the
    send forms (`forms` when a submitted one is shown again, else empty ones)."""
    return {
        **client_live_context(client, page_number, email_id),
        "appointments": client_upcoming_appointments(client=client),
        "forms": forms if forms is not None else send_forms_for(client),
    }
