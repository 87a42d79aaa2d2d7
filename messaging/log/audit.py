"""Who read a client's email log: one audit entry per view of the client summary or of the
API's log, named by the client's id only (support reads the trail in admin)."""

from clinic.audit import audit_record
from clinic.models import AuditEntry, Client


def email_log_viewed(*, actor, client: Client) -> None:
    audit_record(
        actor=actor,
        action=AuditEntry.Action.VIEWED_EMAIL_LOG,
        clinic=client.clinic,
        target=f"client {client.pk}",
    )
