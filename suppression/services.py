import contextlib
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from kombu.exceptions import OperationalError

from clinic.audit import audit_record
from clinic.models import (
    Appointment,
    AuditEntry,
    Client,
    Clinic,
    Membership,
    normalize_email_address,
)
from notifications.rendering import notification_render
from notifications.services import notification_create
from suppression.esp_api import EspApiError, esp_suppression_remove
from suppression.models import (
    EspRemoval,
    ReactivationAsk,
    RemovalRequest,
    Suppression,
    SuppressionCause,
    SuppressionHistory,
    SuppressionReason,
)
from suppression.selectors import CLIENTS_OWN_REQUEST_REASONS, address_block, address_permission


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


NO_REMINDER_TEMPLATE = "no_reminder"


def no_reminder_notify(*, client: Client, why: str, admins_too: bool = False) -> int:
    """Tells the practitioner of each upcoming appointment of a client who was just opted out
    that its reminder will not go out, with the appointment's time on the clinic's clock: the
    client would otherwise simply not come, and nobody would know why. With `admins_too` the
    clinic's admins are told of each as well (once, if one is also the practitioner). Returns
    how many notifications were made. Every opt-out calls it (an ESP's bounce or complaint, an
    unsubscribe, and any opt-out staff or support make); call it inside the clinic's scope."""
    upcoming = Appointment.objects.filter(
        client=client, status=Appointment.Status.BOOKED, start__gt=timezone.now()
    ).select_related("practitioner", "client", "clinic")
    admins = []
    if admins_too:
        admins = [
            m.user
            for m in Membership.objects.filter(
                clinic=client.clinic, role=Membership.Role.CLINIC_ADMIN, user__is_active=True
            ).select_related("user")
        ]
    told = 0
    for appointment in upcoming:
        text = notification_render(
            NO_REMINDER_TEMPLATE,
            {"appointment": appointment, "why": why},
            clinic=appointment.clinic,
        )
        recipients = {appointment.practitioner.pk: appointment.practitioner}
        recipients.update((admin.pk, admin) for admin in admins)
        for recipient in recipients.values():
            notification_create(
                clinic=appointment.clinic, recipient=recipient, text=text, client=client
            )
            told += 1
    return told


SUPPORT_OPT_OUT_WORDS = "Opted out of appointment emails by support."


def client_opt_out_by_support(*, client: Client, reason: str = "") -> int:
    """Support opting a client out in admin: the same opt-out as any other, and the client's
    practitioners with upcoming appointments and the clinic's admins are told no reminder will
    go out; a change made outside the clinic would otherwise go unnoticed until the client
    missed an appointment. Returns how many notifications were made (none if the client was
    already opted out); call it inside the clinic's scope."""
    if not client_opt_out(client=client, reason=reason or SUPPORT_OPT_OUT_WORDS):
        return 0
    because = f" ({reason.rstrip('.')})" if reason else ""
    return no_reminder_notify(
        client=client,
        why=f"support opted them out of appointment emails{because}.",
        admins_too=True,
    )


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
    *,
    suppression: Suppression,
    actor,
    reason: str,
    client_request: ClientRequest | None = None,
    admins_told_by_caller: bool = False,
) -> Suppression:
    """Reactivates a suppressed address (support, with a reason) and removes it at the ESP in
    the background. It does not opt the client back in: the clinic does that. The clinics whose
    emails caused it are told (their admins, unless the caller tells them in its own words, and
    the practitioners of the clients at the address), and open asks for it are answered."""
    if not suppression.active:
        raise Refused(f"{suppression.address} is not suppressed.")
    if not reason.strip():
        raise Refused("Give the reason for reactivating this address.")
    if suppression.needs_clients_request:
        _check_clients_request(suppression, client_request)
    with transaction.atomic():
        # Lifted for everyone: a later suppression records its causes afresh. The clinics whose
        # emails caused it are told, and may later read that it was reactivated.
        with scopes_disabled():
            causes = SuppressionCause.objects.filter(suppression=suppression)
            told_clinics = list(Clinic.objects.filter(pk__in=causes.values("clinic_id")))
            causes.delete()
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
            evidence={
                **_request_evidence(client_request),
                # Who may read on the client page that it was reactivated: the clinics whose
                # emails caused it, and those that asked for it.
                "clinics": sorted(
                    {clinic.pk for clinic in told_clinics} | _asking_clinics(suppression)
                ),
            },
        )
        _reactivation_audit(suppression, actor)
        askers = _asks_close(suppression, actor, reason.strip())
        for clinic in told_clinics:
            _reactivation_notify(
                clinic, suppression.address, exclude=askers, admins=not admins_told_by_caller
            )
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


def _reactivation_notify(
    clinic: Clinic, address: str, *, exclude: set[int], admins: bool = True
) -> None:
    """Tells a clinic whose emails caused the suppression that it was lifted: its admins, and
    the practitioners of each client at the address with an appointment to come (whose
    reminders go out again once the clinic opts the client back in). Whoever asked for it has
    their answer instead."""
    with scope(clinic=clinic.pk):
        admin_users = {
            m.user
            for m in Membership.objects.filter(
                clinic=clinic, role=Membership.Role.CLINIC_ADMIN
            ).select_related("user")
            if admins
        }
        for client in Client.objects.filter(clinic=clinic, email=address):
            practitioners = {
                a.practitioner
                for a in Appointment.objects.filter(
                    client=client, status=Appointment.Status.BOOKED, start__gt=timezone.now()
                ).select_related("practitioner")
            }
            text = notification_render(
                "address_reactivated",
                {"address": address, "client": client, "opted_out": not client.appointment_comms},
                clinic=clinic,
            )
            for user in sorted(admin_users | practitioners, key=lambda u: u.pk):
                if user.pk not in exclude:
                    notification_create(clinic=clinic, recipient=user, text=text, client=client)


class AskRefused(Refused):
    """Staff may not ask support to reactivate this address, with the reason in words."""


def reactivation_ask_create(*, client: Client, actor, note: str) -> ReactivationAsk:
    """Staff ask support to reactivate a client's suppressed address, with a note (one open ask
    per suppression and clinic). A spam complaint or an unsubscribe is lifted only on the
    client's own request, so staff are told what the client must do instead."""
    if not note.strip():
        raise AskRefused("Say why the address may be emailed again, for support to check.")
    block = address_block(clinic=client.clinic, address=client.email)
    if block is None:
        raise AskRefused(f"{client.name}'s address is not suppressed.")
    if block.cause and block.cause.reason in CLIENTS_OWN_REQUEST_REASONS:
        raise AskRefused(block.what_to_do)
    with transaction.atomic():
        # The suppression's row lock makes two asks at once one.
        Suppression.objects.select_for_update().get(pk=block.suppression.pk)
        standing = open_reactivation_ask(clinic=client.clinic, suppression=block.suppression)
        if standing is not None:
            raise AskRefused(
                f"Support was already asked on {standing.asked_at:%d %b %Y}: wait for the answer."
            )
        return ReactivationAsk.objects.create(
            clinic=client.clinic,
            suppression=block.suppression,
            client_name=client.name,
            asked_by=actor,
            note=note.strip(),
        )


def open_reactivation_ask(*, clinic: Clinic, suppression: Suppression) -> ReactivationAsk | None:
    with scope(clinic=clinic.pk):
        return (
            ReactivationAsk.objects.filter(
                clinic=clinic, suppression=suppression, state=ReactivationAsk.State.OPEN
            )
            .select_related("asked_by")
            .first()
        )


def reactivation_ask_decline(*, ask: ReactivationAsk, actor, answer: str) -> ReactivationAsk:
    """Support declines an ask, with an answer the asker reads."""
    if not answer.strip():
        raise Refused("Give the clinic your answer: why the address stays suppressed.")
    with transaction.atomic():
        with scopes_disabled():
            closed = ReactivationAsk.objects.filter(
                pk=ask.pk, state=ReactivationAsk.State.OPEN
            ).update(
                state=ReactivationAsk.State.DECLINED,
                answered_by=actor,
                answered_at=timezone.now(),
                answer=answer.strip(),
            )
            if not closed:
                raise Refused("This ask has already been answered.")
            ask.refresh_from_db()
        _ask_answer_notify(ask)
    return ask


def _asking_clinics(suppression: Suppression) -> set[int]:
    with scopes_disabled():
        return set(
            ReactivationAsk.objects.filter(
                suppression=suppression, state=ReactivationAsk.State.OPEN
            ).values_list("clinic_id", flat=True)
        )


def _asks_close(suppression: Suppression, actor, reason: str) -> set[int]:
    """Closes every open ask for the suppression as reactivated and tells each asker; returns
    the askers' user ids."""
    with scopes_disabled():
        asks = list(
            ReactivationAsk.objects.filter(
                suppression=suppression, state=ReactivationAsk.State.OPEN
            ).select_related("clinic", "suppression", "asked_by")
        )
        answered = {
            "state": ReactivationAsk.State.REACTIVATED,
            "answered_by": actor,
            "answered_at": timezone.now(),
            "answer": reason,
        }
        ReactivationAsk.objects.filter(pk__in=[ask.pk for ask in asks]).update(**answered)
    for ask in asks:  # as stored, keeping the clinic, suppression and asker already read
        for field, value in answered.items():
            setattr(ask, field, value)
        _ask_answer_notify(ask)
    return {ask.asked_by_id for ask in asks if ask.asked_by_id}


def _ask_answer_notify(ask: ReactivationAsk) -> None:
    """Tells the asker support's answer, linked to the client whose address it is. A
    reactivation's reason is support's record, not shown; a decline's answer is written for
    the clinic."""
    if ask.asked_by is None:
        return
    with scope(clinic=ask.clinic_id):
        client = Client.objects.filter(
            clinic_id=ask.clinic_id, email=ask.suppression.address
        ).first()
        notification_create(
            clinic=ask.clinic,
            recipient=ask.asked_by,
            text=notification_render(
                "reactivation_answered",
                {"ask": ask, "reactivated": ask.state == ReactivationAsk.State.REACTIVATED},
                clinic=ask.clinic,
            ),
            client=client,
        )
