"""Fix the address and resend: a failed email goes again, as it was, to the corrected address.

The resend is a new email that names the one it replaces (`OutboundEmail.replaces`), so the log
links the two and the failed one keeps its own history. It carries what the failed one carried:
its kind, subject and text (a direct message as typed, the same invoice and so the same PDF, the
same appointment's words). A smart form goes with the same link while that link still works: a
failed email never reached anyone (the receiving server refused it), so the link has not leaked,
and the client page keeps showing one request waiting rather than two; once the link has expired
or been answered, a new request and link are made.

A resend that may not happen (the corrected address is itself suppressed, the client opted out of
appointment emails, the daily quota) changes nothing: neither the client's address nor the log.
The unsaved email carries the refusal's code and words, which the caller shows at once.
"""

from dataclasses import dataclass

from clinic.models import Client, SmartFormRequest
from clinic.smart_forms import smart_form_link_expired, smart_form_url
from messaging.models import EmailKind, OutboundEmail
from messaging.sending.engagement import engagement_tracked_for
from messaging.sending.outbox import email_prepare, emails_enqueue, send_decided, send_permission
from messaging.sending.triggers import quota_place, refused_over_quota
from messaging.status import EmailStatus
from suppression.models import Refusal
from suppression.selectors import MailPermission
from suppression.streams import sending_stream

# A refused smart form made no request, so which form and link it carried is not kept.
NEVER_SENT_FORM = (
    "This smart form was never sent, so there is no link to send again: correct the address "
    "on the client's page and send the form from there."
)


class NotResendable(Exception):
    """This email may not be resent; `words` say why, for the person who asked."""

    def __init__(self, words: str):
        super().__init__(words)
        self.words = words


@dataclass(frozen=True)
class Resend:
    """The outcome of a resend: the new email (unsaved when refused)."""

    email: OutboundEmail

    @property
    def refused(self) -> bool:
        return bool(self.email.refusal)


def resend_blocker(email: OutboundEmail) -> str:
    """Why this email may not be resent, in words; empty when it may. Only a failed email goes
    again, and only once at a time: a resend already on its way or delivered is not doubled."""
    if email.status != EmailStatus.FAILED:
        return "Only an email that failed can be resent; this one did not fail."
    if email.kind == EmailKind.SMART_FORM and email.form_request_id is None:
        return NEVER_SENT_FORM
    live = next((r for r in email.resends.all() if r.status != EmailStatus.FAILED), None)
    if live is not None:
        return "This email was already resent; that resend has not failed."
    return ""


# Refusals about the address itself: a corrected address is the way out. Any other refusal
# (the client opted out, the daily quota) and any failure with a cause (the ESP gave up for now,
# a problem of ours) is not about the address: the same email goes again to the same address.
ADDRESS_REFUSALS = frozenset({Refusal.NO_ADDRESS, Refusal.SUPPRESSED})


def address_at_fault(email: OutboundEmail) -> bool:
    """Is the address why this email failed, so that correcting it is the way to resend? A
    bounce or an ESP's refusal of the recipient leaves no cause and is the address's; a failure
    with a cause ("temporary", "sender") or a refusal not about the address is not."""
    if email.refusal:
        return email.refusal in ADDRESS_REFUSALS
    return not email.failure_cause


def email_resend(*, email: OutboundEmail, address: str | None = None, sent_by) -> Resend:
    """Resends a failed email, to `address` when given (the client's corrected address, already
    checked by the caller's form), in one step: the address is saved and the email sent together,
    or neither. Raises NotResendable for an email that did not fail."""
    with quota_place(email.clinic) as allowed:
        # Checked under the clinic's quota lock, so two resends of one email cannot both go.
        email = OutboundEmail.objects.select_related("clinic", "form_request__form").get(
            pk=email.pk
        )
        blocker = resend_blocker(email)
        if blocker:
            raise NotResendable(blocker)
        client = Client.objects.select_for_update().select_related("clinic").get(pk=email.client_id)
        if address:
            client.email = address
        if not allowed:
            return Resend(refused_over_quota(client=client, kind=email.kind, sent_by=sent_by))
        permission = send_permission(client, email.kind)
        if not permission.allowed:
            return Resend(_refused(email, client, permission, sent_by))
        client.save(update_fields=["email"])
        resent = _resend_prepare(email, client, permission, sent_by)
        emails_enqueue(emails=[resent])
        return Resend(resent)


def _refused(
    email: OutboundEmail, client: Client, permission: MailPermission, sent_by
) -> OutboundEmail:
    """A refused resend, unsaved: its refusal's code and the existing words, with the way out."""
    return OutboundEmail(
        clinic=email.clinic,
        client=client,
        kind=email.kind,
        to_email=client.email,
        subject=email.subject,
        sent_by=sent_by,
        replaces=email,
        status=EmailStatus.FAILED,
        refusal=permission.refusal,
        reason=permission.reason,
    )


def _resend_prepare(
    email: OutboundEmail, client: Client, permission: MailPermission, sent_by
) -> OutboundEmail:
    if email.kind == EmailKind.SMART_FORM:
        resent = _smart_form_prepare(email, client, permission, sent_by)
        resent.replaces = email
        resent.save(update_fields=["replaces"])
        return resent
    return _copy_prepare(email, client, permission, sent_by)


def _copy_prepare(
    email: OutboundEmail, client: Client, permission: MailPermission, sent_by
) -> OutboundEmail:
    """The same email as saved, subject, text and HTML, to the client's address now. A resent
    reminder keeps its appointment and the time it reminded of: the one-reminder-per-time rule
    counts first reminders only, so the log and needs attention still find it by appointment.
    Held as a first send is while the clinic's mail to new addresses is on hold."""
    stream = sending_stream(client.clinic)
    return OutboundEmail.objects.create(
        clinic=email.clinic,
        client=client,
        kind=email.kind,
        to_email=client.email,
        subject=email.subject,
        body_text=email.body_text,
        body_html=email.body_html,
        sent_by=sent_by,
        appointment=email.appointment,
        appointment_start=email.appointment_start,
        invoice=email.invoice,
        form_request=email.form_request,
        esp=stream,
        engagement_tracked=engagement_tracked_for(client.clinic, stream),
        replaces=email,
        **send_decided(permission, clinic=client.clinic, address=client.email),
    )


def _smart_form_prepare(
    email: OutboundEmail, client: Client, permission: MailPermission, sent_by
) -> OutboundEmail:
    form_request = _form_request_for_resend(email, client)
    form_url = smart_form_url(form_request)
    return email_prepare(
        client=client,
        kind=EmailKind.SMART_FORM,
        form_request=form_request,
        context={"form_url": form_url, "form_request": form_request},
        sent_by=sent_by,
        permission=permission,
    )


def _form_request_for_resend(email: OutboundEmail, client: Client) -> SmartFormRequest:
    """The failed email's form request while its link still works, else a new one."""
    old = email.form_request
    if (
        old is not None
        and old.state == SmartFormRequest.State.PENDING
        and not smart_form_link_expired(old)
    ):
        return old
    form = old.form if old is not None else None
    if form is None:
        raise NotResendable(NEVER_SENT_FORM)
    return SmartFormRequest.objects.create(clinic=client.clinic, form=form, client=client)
