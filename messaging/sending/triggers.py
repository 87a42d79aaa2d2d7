"""What sends an email: a booking, a cancellation, a due reminder, or a practitioner's hand."""

import logging
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from clinic.models import Appointment, Client, Clinic, Invoice, SmartForm, SmartFormRequest
from clinic.smart_forms import smart_form_url
from messaging.models import EmailKind, OutboundEmail
from messaging.sending.outbox import (
    SEND_CHUNK,
    email_prepare,
    email_send,
    emails_enqueue,
    send_permission,
)
from messaging.sending.selectors import appointments_due_for_reminder
from messaging.status import EmailStatus

logger = logging.getLogger(__name__)

# The refusal code of a send over the clinic's daily quota (the API answers 429 with it).
SEND_QUOTA_REACHED = "quota"
SEND_QUOTA_WINDOW = timedelta(hours=24)


def daily_quota_reached(clinic: Clinic) -> bool:
    """Has the clinic started DAILY_SEND_QUOTA emails in the last 24 hours? Every email counts,
    automatic appointment emails and refused ones too, but not held ones (the reputation guard
    stopped them, and a release may come late); one count over the clinic's recent rows."""
    since = timezone.now() - SEND_QUOTA_WINDOW
    started = (
        OutboundEmail.objects.filter(clinic=clinic, created_at__gte=since)
        .exclude(status=EmailStatus.HELD)
        .count()
    )
    return started >= settings.DAILY_SEND_QUOTA


# The key (with the clinic's id) of the advisory lock that makes the count and the insert of a
# send by hand one step: concurrent sends of one clinic wait for each other, so they cannot all
# see the last free place and all take it.
QUOTA_LOCK = 7301


@contextmanager
def quota_place(clinic: Clinic):
    """Yields whether the clinic may start one more email by hand; holds the clinic's quota lock
    until the caller's email is saved (the end of this transaction)."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [QUOTA_LOCK, clinic.pk])
        yield not daily_quota_reached(clinic)


def refused_over_quota(*, client: Client, kind: str, sent_by) -> OutboundEmail:
    """A send by hand past the quota: nothing is saved or queued. The unsaved email carries the
    refusal's code and words, which the caller shows at once as for any refusal."""
    logger.warning(
        "Clinic %s reached its daily send quota; a %s was refused", client.clinic_id, kind
    )
    return OutboundEmail(
        clinic=client.clinic,
        client=client,
        kind=kind,
        to_email=client.email,
        sent_by=sent_by,
        status=EmailStatus.FAILED,
        refusal=SEND_QUOTA_REACHED,
        reason=(
            f"{client.clinic.name} has started {settings.DAILY_SEND_QUOTA:,} emails "
            "in the last 24 hours, its daily limit. Try again later, or ask support to raise "
            "the limit. Appointment emails are still sent."
        ),
    )


def direct_message_send(*, client: Client, subject: str, body: str, sent_by) -> OutboundEmail:
    with quota_place(client.clinic) as allowed:
        if not allowed:
            return refused_over_quota(client=client, kind=EmailKind.DIRECT_MESSAGE, sent_by=sent_by)
        return email_send(
            client=client,
            kind=EmailKind.DIRECT_MESSAGE,
            context={"subject": subject, "body": body},
            sent_by=sent_by,
        )


def invoice_send(*, invoice: Invoice, sent_by) -> OutboundEmail:
    with quota_place(invoice.client.clinic) as allowed:
        if not allowed:
            return refused_over_quota(
                client=invoice.client, kind=EmailKind.INVOICE, sent_by=sent_by
            )
        return email_send(
            client=invoice.client, kind=EmailKind.INVOICE, invoice=invoice, sent_by=sent_by
        )


def smart_form_send(*, form: SmartForm, client: Client, sent_by) -> OutboundEmail:
    """Sends a smart form's personal link; a refused send creates no form request."""
    with quota_place(client.clinic) as allowed:
        if not allowed:
            return refused_over_quota(client=client, kind=EmailKind.SMART_FORM, sent_by=sent_by)
        return _smart_form_send(form=form, client=client, sent_by=sent_by)


def _smart_form_send(*, form: SmartForm, client: Client, sent_by) -> OutboundEmail:
    permission = send_permission(client, EmailKind.SMART_FORM)
    form_request = SmartFormRequest(clinic=client.clinic, form=form, client=client)
    if permission.allowed:
        form_request.save()
    form_url = smart_form_url(form_request)
    return email_send(
        client=client,
        kind=EmailKind.SMART_FORM,
        form_request=form_request if form_request.pk else None,
        context={"form_url": form_url, "form_request": form_request},
        sent_by=sent_by,
        permission=permission,
    )


@transaction.atomic
def appointment_book(*, client: Client, practitioner, start, end) -> Appointment:
    """Books an appointment and confirms it to the client by email."""
    appointment = Appointment.objects.create(
        clinic=client.clinic, client=client, practitioner=practitioner, start=start, end=end
    )
    appointment_booked(appointment=appointment)
    return appointment


def appointment_booked(*, appointment: Appointment) -> OutboundEmail:
    """Confirms a booking saved elsewhere (support's admin) exactly as a booking made here."""
    return email_send(
        client=appointment.client,
        kind=EmailKind.APPOINTMENT_CONFIRMATION,
        appointment=appointment,
    )


class AppointmentNotBooked(ValueError):
    """Only a booked appointment can be moved: a cancelled or completed one stays as it was."""


@transaction.atomic
def appointment_change(
    *, appointment: Appointment, start=None, end=None, practitioner=None
) -> Appointment:
    """Moves an appointment (time, practitioner, or both) and sends the client the update; a
    change that changes nothing sends nothing. The row is locked, so two changes at once send
    two updates that each name the time before them."""
    locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if locked.status != Appointment.Status.BOOKED:
        raise AppointmentNotBooked(f"This appointment is {locked.get_status_display().lower()}.")
    before_start, before_practitioner = locked.start, locked.practitioner
    if start is not None:
        length = locked.end - locked.start
        locked.start, locked.end = start, end or start + length
    elif end is not None:
        locked.end = end
    if practitioner is not None:
        locked.practitioner = practitioner
    locked.save(update_fields=["start", "end", "practitioner"])
    appointment_changed(
        appointment=locked, previous_start=before_start, previous_practitioner=before_practitioner
    )
    appointment.refresh_from_db()  # the caller's copy reads as moved, too
    return appointment


def appointment_changed(
    *, appointment: Appointment, previous_start, previous_practitioner
) -> OutboundEmail | None:
    """Tells the client of a change saved elsewhere (support's admin) or here: only a new time
    or practitioner is news to the client (a new end alone is not)."""
    if (
        appointment.start == previous_start
        and appointment.practitioner_id == previous_practitioner.pk
    ):
        return None
    return email_send(
        client=appointment.client,
        kind=EmailKind.APPOINTMENT_CHANGE,
        appointment=appointment,
        context={
            "previous_start": previous_start,
            "previous_practitioner": previous_practitioner,
        },
    )


@transaction.atomic
def appointment_cancel(*, appointment: Appointment) -> Appointment:
    """Cancels an appointment and tells the client by email, once however often it is asked."""
    changed = Appointment.objects.filter(
        pk=appointment.pk, status=Appointment.Status.BOOKED
    ).update(status=Appointment.Status.CANCELLED)
    appointment.refresh_from_db()
    if changed:
        appointment_cancelled(appointment=appointment)
    return appointment


def appointment_cancelled(*, appointment: Appointment) -> OutboundEmail:
    """Tells the client of a cancellation saved elsewhere (support's admin) or here."""
    return email_send(
        client=appointment.client,
        kind=EmailKind.APPOINTMENT_CANCELLATION,
        appointment=appointment,
    )


def reminder_prepare(*, appointment: Appointment) -> OutboundEmail | None:
    """Saves an appointment's reminder unless it already has one (a database constraint)."""
    try:
        with transaction.atomic():
            return email_prepare(
                client=appointment.client,
                kind=EmailKind.APPOINTMENT_REMINDER,
                appointment=appointment,
            )
    except IntegrityError:
        return None


def reminders_send(*, now: datetime) -> int:
    """Saves and enqueues every due reminder, of all clinics; returns how many."""
    with scopes_disabled():
        due = appointments_due_for_reminder(now=now)
    sent = 0
    # Enqueued chunk by chunk, so workers start sending while the rest are still being rendered.
    for start in range(0, len(due), SEND_CHUNK):
        chunk = []
        for appointment in due[start : start + SEND_CHUNK]:
            with scope(clinic=appointment.clinic_id):
                chunk.append(reminder_prepare(appointment=appointment))
        emails_enqueue(emails=[email for email in chunk if email is not None])
        sent += sum(email is not None for email in chunk)
    return sent
