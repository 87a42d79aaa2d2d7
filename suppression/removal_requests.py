"""Removal requests: a client whose address is suppressed after a spam complaint asks, by email,
to be mailed again. Only a request the receiving ESP's own checks show came from the address's
domain (suppression/sender_auth.py) can be approved; any other is kept for support to see and
decline."""

import hashlib

from django.db import transaction
from django.utils import timezone

from clinic.audit import audit_record
from clinic.models import AuditEntry, normalize_email_address
from suppression.models import RemovalRequest, Suppression
from suppression.sender_auth import EspVerdicts, verification
from suppression.services import ClientRequest, Refused, suppression_reactivate


def _content_key(address: str, subject: str, text: str, verdicts: EspVerdicts) -> str:
    """What tells a message without a Message-ID apart: its content and the ESP's verdicts. A
    forged message without one must not take the place of the client's own."""
    content = "\x00".join([address, subject, text, verdicts.spf_words, verdicts.dkim_words])
    return f"(no Message-ID) {hashlib.sha256(content.encode()).hexdigest()}"


def removal_request_receive(
    *, from_address: str, subject: str, text: str, message_id: str, esp: str, verdicts: EspVerdicts
) -> list[RemovalRequest]:
    """Files a message from a suppressed address as a removal request on each of its
    suppressions, with the ESP's verdicts and whether they show the client sent it; a message
    from any other address files nothing."""
    address = normalize_email_address(from_address)
    checked = verification(verdicts, address)
    message_id = message_id.strip()[:255] or _content_key(address, subject, text, verdicts)
    created = []
    for suppression in Suppression.objects.filter(address=address, active=True):
        request, new = RemovalRequest.objects.get_or_create(
            suppression=suppression,
            message_id=message_id,
            defaults={
                "from_address": address,
                "subject": subject[:300],
                "text": text[:10000],
                "esp": esp,
                "spf": verdicts.spf_words[:100],
                "dkim": verdicts.dkim_words[:100],
                "dmarc": verdicts.dmarc.lower()[:100],
                "verified": checked.verified,
                "verification": checked.words,
            },
        )
        if new:
            created.append(request)
    return created


def removal_request_decide(
    *, request: RemovalRequest, actor, approve: bool, note: str = ""
) -> RemovalRequest:
    """Approving reactivates the address with the message as the client's own request; only a
    verified request can be approved, whatever the object in hand says (the row is read again,
    locked). Either decision is written to the audit trail."""
    decision = "approved" if approve else "declined"
    with transaction.atomic():
        current = (
            RemovalRequest.objects.select_for_update()
            .select_related("suppression")
            .get(pk=request.pk)
        )
        if current.state != RemovalRequest.State.PENDING:
            raise Refused("This request has already been decided.")
        if approve and not current.verified:
            raise Refused(
                "It cannot be approved: the email provider's own checks do not show that the "
                f"client sent it. {current.verification} Decline it."
            )
        if approve:
            suppression_reactivate(
                suppression=current.suppression,
                actor=actor,
                reason=note or "Removal requested by the client by email",
                client_request=ClientRequest(
                    received_on=current.received_at.date(),
                    channel="email",
                    reference=current.message_id or f"removal request {current.pk}",
                    from_address=current.from_address,
                    removal_request_id=current.pk,
                ),
            )
        RemovalRequest.objects.filter(pk=current.pk).update(
            state=RemovalRequest.State.APPROVED if approve else RemovalRequest.State.DECLINED,
            decided_by=actor,
            decided_at=timezone.now(),
        )
        audit_record(
            actor=actor,
            action=AuditEntry.Action.DECIDED_REMOVAL_REQUEST,
            target=f"removal request {current.pk}",
            decision=decision,
        )
    current.refresh_from_db()
    return current
