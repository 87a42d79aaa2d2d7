"""API tokens of clinic staff (django-rest-knox): only a hash of each token is stored, its whole
text is known once, when it is issued, and it stops working API_TOKEN_DAYS later. Staff issue
and revoke their own; both are in the audit trail."""

from django.db.models import QuerySet
from knox.models import AuthToken

from clinic.audit import audit_record
from clinic.models import AuditEntry, Clinic, User


def _named(token: AuthToken) -> str:
    # The prefix knox looks the token up by: enough to tell tokens apart, useless to sign in.
    return f"API token {token.token_key}…"


def api_token_issue(*, user: User, clinic: Clinic) -> tuple[AuthToken, str]:
    """A new token for the user; the text returned is the only time it exists outside the
    caller's screen."""
    token, text = AuthToken.objects.create(user=user)
    audit_record(
        actor=user, action=AuditEntry.Action.ISSUED_API_TOKEN, clinic=clinic, target=_named(token)
    )
    return token, text


def api_token_revoke(*, user: User, clinic: Clinic, token_key: str) -> bool:
    """Revokes one of the user's own tokens; another user's is not found."""
    tokens = list(AuthToken.objects.filter(user=user, token_key=token_key))
    for token in tokens:
        token.delete()
        audit_record(
            actor=user,
            action=AuditEntry.Action.REVOKED_API_TOKEN,
            clinic=clinic,
            target=_named(token),
        )
    return bool(tokens)


def api_tokens_of(user: User) -> QuerySet[AuthToken]:
    return AuthToken.objects.filter(user=user).order_by("-created")
