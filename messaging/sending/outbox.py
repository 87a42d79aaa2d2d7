"""The outbox: an email is rendered and saved before it is sent, then handed to the broker once
the caller's transaction commits; the saved rows in `sending` are the record of what must go."""

import logging
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django_scopes import scopes_disabled
from kombu.exceptions import OperationalError

from clinic.models import Appointment, Client, Invoice, SmartFormRequest
from messaging.models import APPOINTMENT_KINDS, OutboundEmail
from messaging.reputation.guard import held_reason, mail_held
from messaging.sending.engagement import engagement_tracked_for
from messaging.sending.rendering import render_email
from messaging.sending.selectors import outbox_stuck
from messaging.status import EmailStatus
from notifications.rendering import notification_render
from notifications.services import notification_create
from suppression.selectors import MailPermission, mail_permission
from suppression.streams import sending_stream

logger = logging.getLogger(__name__)

# Emails per send task: a lone manual send goes alone, a batch of reminders shares the overhead.
SEND_CHUNK = 50
# Re-enqueued per sweep, at most: the next sweep takes the rest.
SWEEP_LIMIT = 5000


def send_permission(client: Client, kind: str) -> MailPermission:
    """May this kind of email be sent to this client: asked once per send."""
    return mail_permission(client=client, appointment_mail=kind in APPOINTMENT_KINDS)


def email_send(**fields) -> OutboundEmail:
    """Renders and saves one email to a client, and sends it once the caller's transaction commits.

    A send that may not happen (opted out, suppressed, no address) is saved as failed with the
    refusal's code and its reason in words; the caller reads `email.refusal` and `email.reason`
    to tell the user at once. Takes the keyword arguments of `email_prepare`.
    """
    email = email_prepare(**fields)
    emails_enqueue(emails=[email])
    return email


def email_prepare(
    *,
    client: Client,
    kind: str,
    context: dict | None = None,
    sent_by=None,
    appointment: Appointment | None = None,
    invoice: Invoice | None = None,
    form_request: SmartFormRequest | None = None,
    permission: MailPermission | None = None,
) -> OutboundEmail:
    """Renders and saves one email (or its refusal) without enqueueing it. `permission` is the
    caller's own answer from `send_permission`, when it needed to know first."""
    clinic = client.clinic
    rendered = render_email(
        kind,
        clinic=clinic,
        context={
            "client": client,
            "appointment": appointment,
            "invoice": invoice,
            "form_request": form_request,
            **(context or {}),
        },
    )
    if permission is None:
        permission = send_permission(client, kind)
    stream = sending_stream(clinic)
    email = OutboundEmail.objects.create(
        clinic=clinic,
        client=client,
        kind=kind,
        to_email=client.email,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        sent_by=sent_by,
        appointment=appointment,
        appointment_start=appointment.start if appointment else None,
        invoice=invoice,
        form_request=form_request,
        esp=stream,
        engagement_tracked=engagement_tracked_for(clinic, stream),
        **send_decided(permission, clinic=clinic, address=client.email),
    )
    if email.refusal:
        _tell_about_refusal(email, "email_not_sent")
    elif email.status == EmailStatus.HELD:
        _tell_about_refusal(email, "email_held")
    return email


def send_decided(permission: MailPermission, *, clinic, address: str) -> dict:
    """What a send's permission and the reputation guard decide of its email: on its way, held
    (the clinic's mail to new addresses is on hold), or refused, code and words. A first send
    and a resend both ask here."""
    if permission.allowed:
        if mail_held(clinic=clinic, address=address):
            return {"status": EmailStatus.HELD, "reason": held_reason()}
        return {"status": EmailStatus.SENDING}
    return {
        "status": EmailStatus.FAILED,
        "refusal": permission.refusal,
        "reason": permission.reason,  # bare: where it is shown, "Not sent." goes before it
    }


def _tell_about_refusal(email: OutboundEmail, template: str) -> None:
    """Manual senders read the refusal (or the hold) on screen; triggered mail tells the
    practitioner."""
    if email.sent_by is None and email.appointment is not None:
        notification_create(
            clinic=email.clinic,
            recipient=email.appointment.practitioner,
            text=notification_render(
                template,
                {"email": email, "days": settings.HELD_EMAIL_MAX_DAYS},
                clinic=email.clinic,
            ),
            client=email.client,
            email_id=email.id,
        )


def emails_enqueue(*, emails: list[OutboundEmail], chunk: int = SEND_CHUNK) -> None:
    """Hands pending emails to the broker after the caller's transaction commits, in chunks of
    one clinic's emails; if the broker is down the outbox sweeper sends them later."""
    pending = [email for email in emails if email.status == EmailStatus.SENDING]
    by_clinic: dict[int, list[str]] = {}
    for email in pending:
        by_clinic.setdefault(email.clinic_id, []).append(str(email.id))
    for clinic_id, ids in by_clinic.items():
        for start in range(0, len(ids), chunk):
            part = ids[start : start + chunk]
            transaction.on_commit(partial(_publish, part, clinic_id))


def _publish(email_ids: list[str], clinic_id: int) -> bool:
    # Imported here: the task module imports this one.
    from messaging.sending.tasks import email_chunk_send_task

    try:
        email_chunk_send_task.apply_async(
            args=[email_ids], kwargs={"clinic_id": clinic_id}, retry=False
        )
    except (OperationalError, OSError) as error:  # the rows in `sending` are the record
        logger.warning(
            "Broker unavailable (%s); %d email(s) left for the outbox sweeper",
            error,
            len(email_ids),
        )
        return False
    return True


def outbox_sweep(*, now: datetime) -> int:
    """Re-enqueues emails left in `sending` (broker down at commit, worker killed mid-send);
    returns how many."""
    older_than = timedelta(seconds=settings.OUTBOX_SWEEP_AFTER_SECONDS)
    with scopes_disabled():
        stuck = list(outbox_stuck(now=now, older_than=older_than)[:SWEEP_LIMIT])
    emails_enqueue(emails=stuck)
    if stuck:
        logger.info("Outbox sweep re-enqueued %d emails", len(stuck))
    return len(stuck)
