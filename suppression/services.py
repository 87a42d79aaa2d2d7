import contextlib
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from kombu.exceptions import OperationalError

from clinic.audit import audit_record
from clinic.models import AuditEntry, Client, normalize_email_address
from suppression.esp_api import EspApiError, esp_suppression_remove
from suppression.models import (
    EspRemoval,
    RemovalRequest,
    Suppression,
    SuppressionCause,
    SuppressionHistory,
    SuppressionReason,
)
from suppression.selectors import address_permission


@transaction.atomic
def suppression_record(
    *,
    address: str,
    stream: str,
    reason: str,
    diagnostic: str = "",
    source_email_id=None,
    source_event_id: int | None = None,
    actor=None,
    clinic=None,
) -> Suppression:
    """Suppresses an address on a stream (again), and writes the change to its history. `clinic`
    is the clinic whose email caused it: for that clinic it applies on every connection."""
    address = normalize_email_address(address)
    suppression, created = Suppression.objects.select_for_update().get_or_create(
        address=address,
        stream=stream,
        defaults={
            "reason": reason,
            "diagnostic": diagnostic,
            "source_email_id": source_email_id,
            "source_event_id": source_event_id,
        },
    )
    if not created:
        Suppression.objects.filter(pk=suppression.pk).update(
            reason=_kept_reason(suppression if suppression.active else None, reason),
            diagnostic=diagnostic or suppression.diagnostic,
            source_email_id=source_email_id or suppression.source_email_id,
            source_event_id=source_event_id or suppression.source_event_id,
            last_seen=timezone.now(),
            times_seen=F("times_seen") + 1,
            active=True,
        )
        suppression.refresh_from_db()
    if clinic is not None:
        _cause_record(suppression, clinic, reason, diagnostic)
    SuppressionHistory.objects.create(
        suppression=suppression,
        actor=actor,
        action="suppressed" if created else "suppressed again",
        why=reason,
        evidence={"diagnostic": diagnostic, "email_id": str(source_email_id or "")},
    )
    return suppression


def _kept_reason(standing, reason: str) -> str:
    """A spam complaint that stands is never replaced by a later bounce or refusal of the same
    address: it needs the client's own request to lift, and a later event must not drop that."""
    if standing is not None and standing.reason == SuppressionReason.SPAM_COMPLAINT:
        return SuppressionReason.SPAM_COMPLAINT
    return reason


def _cause_record(suppression: Suppression, clinic, reason: str, diagnostic: str) -> None:
    """This clinic's part in the suppression: what its own email met, which it alone is told."""
    with scope(clinic=clinic.pk):
        cause = SuppressionCause.objects.select_for_update().filter(suppression=suppression).first()
        if cause is None:
            SuppressionCause.objects.create(
                suppression=suppression, clinic=clinic, reason=reason, diagnostic=diagnostic
            )
            return
        cause.reason = _kept_reason(cause, reason)
        cause.diagnostic = diagnostic or cause.diagnostic
        cause.save(update_fields=["reason", "diagnostic", "last_seen"])


def client_opt_out(*, client: Client, reason: str) -> bool:
    """Stops appointment communications to a client; False if they were already opted out."""
    changed = Client.objects.filter(pk=client.pk, appointment_comms=True).update(
        appointment_comms=False,
        appointment_comms_changed_at=timezone.now(),
        appointment_comms_reason=reason,
    )
    if changed:
        client.refresh_from_db(
            fields=["appointment_comms", "appointment_comms_changed_at", "appointment_comms_reason"]
        )
    return bool(changed)


class Refused(Exception):
    """A support or clinic action that may not happen, with the reason in words."""


@dataclass(frozen=True)
class ClientRequest:
    """The client's own request to be mailed again, which a spam complaint needs."""

    received_on: date
    channel: str
    reference: str
    from_address: str
    # An emailed request is one of the removal requests the inbound webhook filed, and only one
    # the ESP's own checks verified (suppression/removal_requests.py).
    removal_request_id: int | None = None


def suppression_reactivate(
    *, suppression: Suppression, actor, reason: str, client_request: ClientRequest | None = None
) -> Suppression:
    """Reactivates a suppressed address (support, with a reason) and removes it at the ESP in
    the background. It does not opt the client back in: the clinic does that."""
    if not suppression.active:
        raise Refused(f"{suppression.address} is not suppressed.")
    if not reason.strip():
        raise Refused("Give the reason for reactivating this address.")
    if suppression.needs_clients_request:
        _check_clients_request(suppression, client_request)
    with transaction.atomic():
        # Lifted for everyone: a later suppression records its causes afresh.
        with scopes_disabled():
            SuppressionCause.objects.filter(suppression=suppression).delete()
        Suppression.objects.filter(pk=suppression.pk).update(
            active=False,
            esp_removal=EspRemoval.PENDING if suppression.stream else EspRemoval.NOT_NEEDED,
            esp_removal_attempts=0,
            esp_removal_error="",
        )
        SuppressionHistory.objects.create(
            suppression=suppression,
            actor=actor,
            action="reactivated",
            why=reason.strip(),
            evidence=_request_evidence(client_request),
        )
        _reactivation_audit(suppression, actor)
        transaction.on_commit(lambda: _enqueue_esp_removal(suppression.pk))
    suppression.refresh_from_db()
    return suppression


def _reactivation_audit(suppression: Suppression, actor) -> None:
    """The audit trail's entry: the suppression by id, never the address (the trail outlives
    the suppression's evidence; its history names the address for as long as it is kept)."""
    audit_record(
        actor=actor,
        action=AuditEntry.Action.REACTIVATED_ADDRESS,
        target=f"suppression {suppression.pk}",
        stream=suppression.stream,
        reason=suppression.reason,
    )


def _check_clients_request(suppression: Suppression, request: ClientRequest | None) -> None:
    if request is None or not (request.channel.strip() and request.reference.strip()):
        raise Refused(
            "A spam complaint is lifted only on the client's own request: give the date, "
            "channel and reference of the request they made from this address."
        )
    if request.channel == "email":
        _check_emailed_request(suppression, request)


EMAILED_REQUEST_WORDS = (
    "An emailed request lifts a spam complaint only through its removal request (Removal "
    "requests in admin), once the email provider's own checks show the client sent it: anyone "
    "can write a From address."
)


def _check_emailed_request(suppression: Suppression, request: ClientRequest) -> None:
    verified = RemovalRequest.objects.filter(
        pk=request.removal_request_id, suppression=suppression, verified=True
    )
    if request.removal_request_id is None or not verified.exists():
        raise Refused(EMAILED_REQUEST_WORDS)
    if normalize_email_address(request.from_address) != suppression.address:
        raise Refused(
            f"The request must come from {suppression.address} itself, not from "
            f"{request.from_address}."
        )


def _request_evidence(request: ClientRequest | None) -> dict:
    if request is None:
        return {}
    return {
        "client_request": {
            "received_on": request.received_on.isoformat(),
            "channel": request.channel.strip(),
            "reference": request.reference.strip(),
            "from_address": normalize_email_address(request.from_address),
        }
    }


def _enqueue_esp_removal(suppression_id: int) -> None:
    from suppression.tasks import esp_removal_task

    # If the broker is down, the beat sweep retries pending removals.
    with contextlib.suppress(OperationalError, OSError):
        esp_removal_task.apply_async(args=[suppression_id], retry=False)


def esp_removal_attempt(*, suppression_id: int) -> bool:
    """One try at removing a reactivated address from the ESP's lists; records the outcome."""
    suppression = Suppression.objects.get(pk=suppression_id)
    if suppression.esp_removal != EspRemoval.PENDING:
        return True
    try:
        esp_suppression_remove(stream=suppression.stream, address=suppression.address)
    except EspApiError as error:
        Suppression.objects.filter(pk=suppression_id).update(
            esp_removal_attempts=F("esp_removal_attempts") + 1, esp_removal_error=str(error)
        )
        return False
    with transaction.atomic():
        Suppression.objects.filter(pk=suppression_id).update(
            esp_removal=EspRemoval.DONE,
            esp_removal_attempts=F("esp_removal_attempts") + 1,
            esp_removal_error="",
        )
        SuppressionHistory.objects.create(
            suppression=suppression, action="removed at the ESP", why=suppression.stream
        )
    return True


def client_opt_in(*, client: Client, actor) -> Client:
    """Opts a client back in to appointment communications, unless their address is still
    suppressed."""
    permission = address_permission(clinic=client.clinic, address=client.email)
    if not permission.allowed:
        raise Refused(f"{client.name} cannot be opted back in yet. {permission.reason}")
    Client.objects.filter(pk=client.pk).update(
        appointment_comms=True,
        appointment_comms_changed_at=timezone.now(),
        appointment_comms_reason=f"Opted back in by {actor}",
    )
    client.refresh_from_db()
    return client
