"""The audit trail: who viewed a client's email log, who reactivated what, who changed clinic
settings or API tokens. Support reads it in admin; nothing edits it."""

from django_scopes import scopes_disabled

from clinic.models import AuditEntry, Clinic, User


def audit_record(
    *,
    actor: User | None,
    action: str,
    clinic: Clinic | None = None,
    target: str = "",
    **detail,
) -> AuditEntry:
    """Records one entry. `target` names what was acted on without patient data beyond an id
    (for example "client 42"); `detail` holds what changed (field names, never secrets)."""
    with scopes_disabled():
        return AuditEntry.objects.create(
            actor=actor if actor is not None and actor.is_authenticated else None,
            actor_email=getattr(actor, "email", "") or "",
            clinic=clinic,
            clinic_name=clinic.name if clinic is not None else "",
            action=action,
            target=target[:300],
            detail=detail,
        )
