"""Delivering one saved email: claim the row, send it through its connection, record the outcome."""

import logging
from dataclasses import dataclass
from datetime import timedelta
from email.utils import make_msgid

from anymail.message import AnymailMessage
from django.conf import settings
from django.db import transaction
from django.db.models import BooleanField, Case, ExpressionWrapper, F, Q, Value, When
from django.utils import timezone

from messaging.models import EmailAttachment, OutboundEmail
from messaging.reputation.guard import held_now, held_reason
from messaging.sending.connections import (
    esp_connection,
    from_address,
    reply_to,
    smtp_connection,
)
from messaging.sending.engagement import engagement_tracking_off
from messaging.sending.invoice_pdf import invoice_pdf
from messaging.sending.policy import (
    SendFailure,
    classify_send_failure,
    fault_failure,
    retry_delay,
)
from messaging.status import STATUS_RANK, EmailStatus
from messaging.tracking.consequences import email_owner, email_suppress_consequences
from messaging.tracking.eventlogs import EventLogError, EventLogUnavailable, event_log
from messaging.tracking.rows import event_row
from notifications.rendering import notification_render
from notifications.services import notification_create
from suppression.models import SuppressionReason

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    outcome: str  # "sent", "skipped", "failed", "retry" or "held"
    retry_in: float = 0.0


def build_message(email: OutboundEmail) -> AnymailMessage:
    clinic = email.clinic
    message = AnymailMessage(
        subject=email.subject,
        body=email.body_text,
        from_email=from_address(clinic),
        to=[email.to_email],
        reply_to=reply_to(clinic),
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    if email.invoice_id:
        message.attach(
            f"invoice-{email.invoice.number}.pdf", invoice_pdf(email.invoice), "application/pdf"
        )
    if email.tracked:
        # The email's id and kind, and nothing of the client or the clinic: ESPs keep both.
        message.metadata = {"email_id": str(email.id)}  # the email id decides; nothing more
        message.tags = [email.kind]
        if not email.engagement_tracked:
            engagement_tracking_off(message, esp=email.esp)
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
    return _message_id(message.anymail_status.message_id)


def _message_id(found) -> str:
    """The ESP's id for the email. anymail gives a set when its recipients' statuses differ, as
    for an address whose domain went out in IDNA form (the ESP answers for that form, and the
    address as given stays unknown): the one id the ESP gave is kept."""
    if isinstance(found, set):
        ids = found - {None}
        found = ids.pop() if len(ids) == 1 else None
    return found or ""


def email_deliver(*, email_id, only_if_due: bool = False) -> Delivery:
    """Sends a pending email once: a second run, or a second worker, finds nothing to do.
    `only_if_due` (a first send, or the sweeper's): an email waiting for its retry is left to
    it, though the sweeper may have queued it while its last attempt was still under way.

    The claim is committed before the ESP is called, and the call runs outside any transaction,
    so the drain never waits on a slow send for the email's row lock."""
    email = _claim(email_id, only_if_due=only_if_due)
    if email is None:
        return Delivery("skipped")
    accepted = _accepted_earlier(email)
    if accepted is not None:  # an earlier attempt reached the ESP: recorded, not sent again
        _record_sent(email, accepted, _message_rebuilt(email))
        return Delivery("sent")
    if email.held_now:  # queued before a hold began (`mail_held`, read with the claim)
        _hold(email)
        return Delivery("held")
    try:
        message = build_message(email)
    except Exception as error:  # a PDF or template that cannot be built: ours, not the ESP's
        logger.exception("Email %s could not be prepared", email.pk)
        return _record_failure(email, fault_failure(error))
    try:
        message_id = _send(email, message)
    except Exception as error:
        failure = classify_send_failure(error)
        if failure.kind == "fault":
            logger.exception("Email %s could not be sent", email.pk)
        return _record_failure(email, failure)
    _record_sent(email, message_id, message)
    return Delivery("sent")


def _hold(email: OutboundEmail) -> None:
    """Holds a claimed email instead of sending it: the claim is given back, and its attempt not
    counted, as nothing was attempted. Only a release moves it on."""
    OutboundEmail.objects.filter(pk=email.pk, status=EmailStatus.SENDING).update(
        status=EmailStatus.HELD,
        reason=held_reason(),
        attempts=F("attempts") - 1,
        claimed_until=None,
        next_attempt_at=None,
        status_changed_at=timezone.now(),
    )
    email.status = EmailStatus.HELD


def _accepted_earlier(email: OutboundEmail) -> str | None:
    """The ESP's id for this email if its own event log shows that an earlier attempt was
    accepted (a worker died, or the ESP did not answer in time, after it took the email);
    None where it does not, or the ESP keeps no log we can ask by recipient."""
    if email.attempts < 2 or not email.tracked:
        return None
    lookup = getattr(event_log(email.esp), "attempt_events", None)
    if lookup is None:  # an ESP with no log we can read (SES): the unknown-outcome wait only
        return None
    try:
        events = lookup(email_id=email.pk, recipient=email.to_email, begin=email.created_at)
    except (EventLogUnavailable, EventLogError) as error:
        logger.warning("Could not ask the ESP's log about email %s: %s", email.pk, error)
        return None
    for event in events:
        row = event_row(lookup.__self__.esp_name, event)
        if row.email_id_hint == email.pk and row.status and row.event_type != "rejected":
            logger.info("Email %s was accepted at an earlier attempt; not sent again", email.pk)
            return row.message_id
    return None


def _claim(email_id, *, only_if_due: bool) -> OutboundEmail | None:
    """Marks the email as being sent, by this attempt, until its lease runs out (a worker
    killed midway leaves it to the sweeper after that): one UPDATE, committed at once."""
    now = timezone.now()
    pending = Q(pk=email_id, status=EmailStatus.SENDING, esp_message_id="") & (
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    )
    if only_if_due:
        pending &= Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    # A row another worker holds is skipped, not waited for.
    free = OutboundEmail.objects.filter(pending).select_for_update(skip_locked=True).values("pk")
    with transaction.atomic():  # one statement, committed before the ESP is called
        claimed = OutboundEmail.objects.filter(pk__in=free).update(
            attempts=F("attempts") + 1,
            claimed_until=now + timedelta(seconds=settings.SEND_LEASE_SECONDS),
        )
    if not claimed:
        return None
    return (
        OutboundEmail.objects.select_related("clinic")
        .annotate(held_now=ExpressionWrapper(held_now(), output_field=BooleanField()))
        .get(pk=email_id)
    )


def _message_rebuilt(email: OutboundEmail) -> AnymailMessage | None:
    """The message as an earlier attempt handed it over, built again for the record (an invoice's
    PDF is built anew); None when it can no longer be built: the hand-over is recorded all the
    same."""
    try:
        return build_message(email)
    except Exception:
        logger.exception("Email %s could not be rebuilt for its record", email.pk)
        return None


def _attachments_as_sent(email: OutboundEmail, message: AnymailMessage) -> list[EmailAttachment]:
    """The files the message carried, byte for byte (Django keeps each as a tuple)."""
    kept = []
    for filename, content, content_type in message.attachments:
        if isinstance(content, str):
            content = content.encode()
        kept.append(
            EmailAttachment(
                email=email,
                filename=filename or "attachment",
                content_type=content_type or "application/octet-stream",
                content=content,
            )
        )
    return kept


@transaction.atomic
def _record_sent(email: OutboundEmail, message_id: str, message: AnymailMessage | None) -> None:
    """Records the hand-over, and the email as it was handed over (From, Reply-To and its files,
    which the log shows staff and support); the status only moves up, since the ESP's own events
    may have been applied meanwhile."""
    status = EmailStatus.PROCESSED if email.tracked else EmailStatus.SENT
    now = timezone.now()
    raised = Q(status_rank__lt=STATUS_RANK[status])
    if message is not None and message.attachments:
        # Once per email: a send recorded again (found accepted earlier) replaces the files.
        EmailAttachment.objects.filter(email=email).delete()
        EmailAttachment.objects.bulk_create(_attachments_as_sent(email, message))
    as_sent = (
        {"from_header": message.from_email, "reply_to_header": ", ".join(message.reply_to)}
        if message is not None
        else {}
    )
    OutboundEmail.objects.filter(pk=email.pk).update(
        **as_sent,
        status=_if(raised, Value(status), "status"),
        status_changed_at=_if(raised, Value(now), "status_changed_at"),
        reason=_if(raised, Value(""), "reason"),
        esp_message_id=message_id,
        sent_at=now,
        claimed_until=None,
        next_attempt_at=None,
    )


def _if(condition: Q, value: Value, field: str) -> Case:
    """`value` where the row meets `condition`, else the field as it is."""
    output = OutboundEmail._meta.get_field(field)
    return Case(When(condition, then=value), default=F(field), output_field=output)


def _record_failure(email: OutboundEmail, failure: SendFailure) -> Delivery:
    retried = failure.kind in ("transient", "fault")
    if retried and email.attempts < settings.SEND_MAX_ATTEMPTS:
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
        claimed_until=None,
        reason=f"Retrying: {failure.words}",
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
    )
    return Delivery("retry", retry_in=delay)


def _failure_reason(email: OutboundEmail, failure: SendFailure) -> str:
    """Why an email failed for good, in words for the practitioner."""
    if failure.kind in ("transient", "fault"):
        return f"Gave up after {email.attempts} attempts. {failure.words}"
    if failure.kind == "permanent" and not failure.before_sending:
        return f"The email provider refused it: {failure.words}"
    return failure.words  # a recipient the ESP refuses, or an address found invalid here


def _mark_failed(email: OutboundEmail, reason: str) -> None:
    OutboundEmail.objects.filter(pk=email.pk).update(
        status=EmailStatus.FAILED,
        reason=reason,
        claimed_until=None,
        next_attempt_at=None,
        status_changed_at=timezone.now(),
    )
    email.status, email.reason = EmailStatus.FAILED, reason


def email_fail(*, email: OutboundEmail, reason: str) -> None:
    """Fails an email for good and tells whoever is waiting for it."""
    _mark_failed(email, reason)
    email_failure_tell(email)


def email_failure_tell(email: OutboundEmail) -> None:
    """Tells whoever waits for a failed email (its sender, or the appointment's practitioner)."""
    recipient = email_owner(email)
    if recipient is not None:
        notification_create(
            clinic=email.clinic,
            recipient=recipient,
            text=notification_render("email_failed", {"email": email}, clinic=email.clinic),
            client=email.client,
            email_id=email.id,
        )


def _record_rejected(email: OutboundEmail, words: str) -> None:
    _mark_failed(email, words)
    email_suppress_consequences(
        email_id=email.id, reason=SuppressionReason.ESP_REJECTED, diagnostic=words
    )
