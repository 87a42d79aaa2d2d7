"""Delivering one saved email: claim the row, send it through its connection, record the outcome."""

import logging
from dataclasses import dataclass
from datetime import timedelta
from email.utils import make_msgid

from anymail.message import AnymailMessage
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from messaging.models import OutboundEmail
from messaging.sending.connections import esp_connection, from_address, smtp_connection
from messaging.sending.invoice_pdf import invoice_pdf
from messaging.sending.policy import SendFailure, classify_send_failure, retry_delay
from messaging.status import EmailStatus
from messaging.tracking.consequences import email_owner, email_suppress_consequences
from notifications.rendering import notification_render
from notifications.services import notification_create
from suppression.models import SuppressionReason

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    outcome: str  # "sent", "skipped", "failed" or "retry"
    retry_in: float = 0.0


def build_message(email: OutboundEmail) -> AnymailMessage:
    clinic = email.clinic
    message = AnymailMessage(
        subject=email.subject,
        body=email.body_text,
        from_email=from_address(clinic),
        to=[email.to_email],
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    if email.invoice_id:
        message.attach(
            f"invoice-{email.invoice.number}.pdf", invoice_pdf(email.invoice), "application/pdf"
        )
    if email.tracked:
        message.metadata = {"email_id": str(email.id), "clinic_id": clinic.id}
        message.tags = [email.kind]
    else:
        message.extra_headers = {"Message-ID": make_msgid(domain="clinicmail")}
    return message


def _send(email: OutboundEmail, message: AnymailMessage) -> str:
    if not email.tracked:
        with smtp_connection(email.clinic) as connection:
            connection.send_messages([message])
        return message.extra_headers["Message-ID"]
    message.connection = esp_connection()
    message.send()
    return message.anymail_status.message_id or ""


def email_deliver(*, email_id, only_if_due: bool = False) -> Delivery:
    """Sends a pending email once: a second run, or a second worker, finds nothing to do.
    `only_if_due` (a first send, or the sweeper's): an email waiting for its retry is left to
    it, though the sweeper may have queued it while its last attempt was still under way."""
    with transaction.atomic():
        pending = Q(pk=email_id, status=EmailStatus.SENDING, esp_message_id="")
        if only_if_due:
            pending &= Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=timezone.now())
        claimed = (
            OutboundEmail.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("clinic")
            .filter(pending)
            .order_by()[:1]
        )
        email = next(iter(claimed), None)
        if email is None:
            return Delivery("skipped")
        email.attempts += 1
        try:
            message_id = _send(email, build_message(email))
        except Exception as error:
            return _record_failure(email, classify_send_failure(error))
        _record_sent(email, message_id)
        return Delivery("sent")


def _record_sent(email: OutboundEmail, message_id: str) -> None:
    status = EmailStatus.PROCESSED if email.tracked else EmailStatus.SENT
    now = timezone.now()
    OutboundEmail.objects.filter(pk=email.pk).update(
        status=status,
        esp_message_id=message_id,
        attempts=email.attempts,
        sent_at=now,
        status_changed_at=now,
        next_attempt_at=None,
        reason="",
    )


def _record_failure(email: OutboundEmail, failure: SendFailure) -> Delivery:
    if failure.kind == "transient" and email.attempts < settings.SEND_MAX_ATTEMPTS:
        return _retry_later(email, failure)
    words = _failure_reason(email, failure)
    if failure.kind == "rejected":
        _record_rejected(email, words)
    else:
        email_fail(email=email, reason=words)
    return Delivery("failed")


def _retry_later(email: OutboundEmail, failure: SendFailure) -> Delivery:
    delay = retry_delay(email.attempts, base=settings.SEND_RETRY_BASE_SECONDS)
    if failure.unknown_outcome:  # the ESP's acceptance event, if any, settles it first
        delay = max(delay, settings.SEND_UNKNOWN_OUTCOME_WAIT_SECONDS)
    OutboundEmail.objects.filter(pk=email.pk).update(
        attempts=email.attempts,
        reason=f"Retrying: {failure.words}",
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
    )
    return Delivery("retry", retry_in=delay)


def _failure_reason(email: OutboundEmail, failure: SendFailure) -> str:
    """Why an email failed for good, in words for the practitioner."""
    if failure.kind == "transient":
        return f"Gave up after {email.attempts} attempts. {failure.words}"
    if failure.kind == "permanent" and not failure.before_sending:
        return f"The email provider refused it: {failure.words}"
    return failure.words  # a recipient the ESP refuses, or an address found invalid here


def _mark_failed(email: OutboundEmail, reason: str) -> None:
    OutboundEmail.objects.filter(pk=email.pk).update(
        status=EmailStatus.FAILED,
        reason=reason,
        attempts=email.attempts,
        next_attempt_at=None,
        status_changed_at=timezone.now(),
    )
    email.status, email.reason = EmailStatus.FAILED, reason


def email_fail(*, email: OutboundEmail, reason: str) -> None:
    """Fails an email for good and tells whoever is waiting for it."""
    _mark_failed(email, reason)
    recipient = email_owner(email)
    if recipient is not None:
        notification_create(
            clinic=email.clinic,
            recipient=recipient,
            text=notification_render("email_failed", {"email": email}),
            client=email.client,
            email_id=email.id,
        )


def _record_rejected(email: OutboundEmail, words: str) -> None:
    _mark_failed(email, words)
    email_suppress_consequences(
        email_id=email.id, reason=SuppressionReason.ESP_REJECTED, diagnostic=words
    )
