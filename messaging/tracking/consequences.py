"""What follows a permanent failure: suppress the address, opt the client out, tell someone.

It happens once per email, whichever path (the send task or a webhook) learns of it first.
"""

from django.utils import timezone
from django_scopes import scope

from messaging.models import OutboundEmail
from notifications.rendering import notification_render
from notifications.services import notification_create
from suppression.models import SuppressionReason, reason_words
from suppression.services import client_opt_out, no_reminder_notify, suppression_record


def email_suppress_consequences(
    *, email_id, reason: str, diagnostic: str, source_event_id: int | None = None
) -> bool:
    """Applies a permanent failure's consequences unless this email already had them."""
    flipped = OutboundEmail.objects.filter(pk=email_id, consequences_at__isnull=True).update(
        consequences_at=timezone.now()
    )
    if not flipped:
        return False
    email = OutboundEmail.objects.select_related(
        "clinic", "client", "appointment__practitioner", "sent_by"
    ).get(pk=email_id)
    suppression_record(
        address=email.to_email,
        stream=email.esp,
        reason=reason,
        diagnostic=diagnostic,
        source_email_id=email.id,
        source_event_id=source_event_id,
        clinic=email.clinic,
    )
    with scope(clinic=email.clinic_id):
        opted_out = client_opt_out(
            client=email.client,
            reason=f"{email.to_email} was suppressed: {reason_words(reason)}",
        )
        if opted_out:
            no_reminder_notify(
                client=email.client,
                why=f"{email.to_email} was suppressed ({SuppressionReason(reason).label.lower()}).",
            )
        recipient = email_owner(email)
        if recipient is not None:
            notification_create(
                clinic=email.clinic,
                recipient=recipient,
                text=notification_render(
                    suppression_notification(reason),
                    {
                        "email": email,
                        "reason_words": reason_words(reason),
                        "diagnostic": diagnostic,
                    },
                    clinic=email.clinic,
                ),
                client=email.client,
                email_id=email.id,
            )
    return True


def suppression_notification(reason: str) -> str:
    """The notification's template: a spam complaint comes after the email was delivered, so
    it is not told as a failure."""
    if reason == SuppressionReason.SPAM_COMPLAINT:
        return "address_reported_spam"
    return "address_suppressed"


UNSUBSCRIBED_WORDS = (
    "The client unsubscribed through a link in one of our emails: no more appointment emails "
    "go to them. Invoices, forms and messages can still be sent, though the email provider "
    "may refuse them."
)


def email_unsubscribe_consequences(*, email_id) -> bool:
    """The recipient unsubscribed: opted out of appointment emails, the address not suppressed
    (the clinic may still send an invoice or a message). False if already opted out."""
    email = OutboundEmail.objects.select_related("client").get(pk=email_id)
    with scope(clinic=email.clinic_id):
        opted_out = client_opt_out(client=email.client, reason=UNSUBSCRIBED_WORDS)
        if opted_out:
            no_reminder_notify(
                client=email.client, why="they unsubscribed from appointment emails."
            )
        return opted_out


def email_owner(email: OutboundEmail):
    """Who hears about this email: its sender for manual mail, else the appointment's
    practitioner."""
    if email.sent_by is not None:
        return email.sent_by
    return email.appointment.practitioner if email.appointment else None
