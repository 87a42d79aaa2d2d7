"""Deleting patient data past its retention period, in small batches so no lock is held for long.

Each table that holds patient data has its period (a setting; the table of them is in
docs/operations.md). Rows go, or, where the row itself is still needed, its personal fields are
emptied. Webhook tokens hold none and are forgotten within a day by their own hourly task
(messaging/tracking/tokens.py)."""

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.db.models.functions import Lower
from django_scopes import scopes_disabled

from clinic.models import AuditEntry, Client, SmartFormRequest
from messaging.models import (
    DeliveredAddress,
    EmailDayCount,
    EmailEvent,
    GuardWarning,
    MailHold,
    OutboundEmail,
    ReceivedBatch,
)
from messaging.reputation.rollups import counts_fold
from notifications.models import Notification
from suppression.models import (
    EspRemoval,
    ReactivationAsk,
    RemovalRequest,
    Suppression,
    SuppressionHistory,
)

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
MAX_BATCHES = 100_000


def _ids(queryset: QuerySet, size: int) -> list:
    # Unordered: any expired rows will do, and sorting every expired row per batch is not free.
    return list(queryset.order_by().values_list("pk", flat=True)[:size])


def _delete_batch(queryset: QuerySet, size: int) -> int:
    ids = _ids(queryset, size)
    if ids:
        queryset.model.objects.filter(pk__in=ids).delete()
    return len(ids)


def _in_batches(
    step: Callable[[QuerySet, int], int], queryset: QuerySet, batch_size: int, max_batches: int
) -> int:
    """Runs `step` on `queryset` until a batch comes back short; returns how many rows it took."""
    total = 0
    for _ in range(max_batches):
        done = step(queryset, batch_size)
        total += done
        if done < batch_size:
            break
    return total


def _deleted(queryset: QuerySet, batch_size: int = BATCH_SIZE, max_batches=MAX_BATCHES) -> int:
    return _in_batches(_delete_batch, queryset, batch_size, max_batches)


def _cleared(queryset: QuerySet, batch_size: int = BATCH_SIZE, **emptied) -> int:
    """Empties the given fields of the rows of `queryset`, which must no longer match once
    emptied (so that each batch takes new rows)."""

    def clear_batch(rows: QuerySet, size: int) -> int:
        ids = _ids(rows, size)
        if ids:
            rows.model.objects.filter(pk__in=ids).update(**emptied)
        return len(ids)

    return _in_batches(clear_batch, queryset, batch_size, MAX_BATCHES)


def log_purge(
    *, before: datetime, batch_size: int = BATCH_SIZE, max_batches: int = MAX_BATCHES
) -> int:
    """Deletes events, then emails (with any later events of theirs), from before `before`.
    Returns how many rows of the two went."""
    with scopes_disabled():
        return sum(
            _deleted(queryset, batch_size, max_batches)
            for queryset in (
                EmailEvent.objects.filter(received_at__lt=before),
                OutboundEmail.objects.filter(created_at__lt=before),
            )
        )


def received_batches_purge(*, before: datetime) -> int:
    """Webhook posts kept since before `before`: the ones support set aside as failed, and any a
    drain never applied (applied ones are deleted as they are applied). Each holds recipients'
    addresses and the ESP's words about them; their emails have left the log by then."""
    return _deleted(ReceivedBatch.objects.filter(received_at__lt=before))


def notifications_purge(*, before: datetime) -> int:
    """Practitioners' notifications, read or not: they name clients and say what happened to
    their email."""
    with scopes_disabled():
        return _deleted(Notification.objects.filter(created_at__lt=before))


def removal_requests_purge(*, decided_before: datetime, received_before: datetime) -> int:
    """Clients' messages asking to be mailed again: decided ones once support's decision is old
    (the reactivation's own history keeps the request's date, channel and reference), pending
    ones once nobody decided them for much longer."""
    decided = RemovalRequest.objects.exclude(state=RemovalRequest.State.PENDING).filter(
        decided_at__lt=decided_before
    )
    pending = RemovalRequest.objects.filter(
        state=RemovalRequest.State.PENDING, received_at__lt=received_before
    )
    return _deleted(decided) + _deleted(pending)


def reactivation_asks_purge(*, answered_before: datetime) -> int:
    """Staff's asks to support to reactivate an address (a note naming the client): once support
    answered them long enough ago; an open ask stays until it is answered. The reactivation's
    own history records what support did."""
    with scopes_disabled():
        return _deleted(
            ReactivationAsk.objects.exclude(state=ReactivationAsk.State.OPEN).filter(
                answered_at__lt=answered_before
            )
        )


def smart_form_answers_clear(*, completed_before: datetime) -> int:
    """Empties the answers of smart forms completed before `completed_before`. The request stays:
    the client summary lists which forms were sent and completed, emails point to it, and its
    link keeps saying the form was completed rather than becoming a dead end."""
    with scopes_disabled():
        answered = SmartFormRequest.objects.filter(completed_at__lt=completed_before).exclude(
            responses={}
        )
        return _cleared(answered, responses={})


def suppression_evidence_clear(*, inactive_before: datetime) -> int:
    """Empties the ESP's words and the history's evidence of suppressions lifted before
    `inactive_before` (their last change is older) whose removal at the ESP is no longer under
    way. An active suppression keeps them: support reads them to decide on reactivating, and the
    address itself is what every send is checked against. An inactive one keeps its address and
    the history's actions: a new bounce finds the same row and support is warned that a
    reactivated address was suppressed again."""
    lifted = (
        Suppression.objects.filter(active=False)
        .exclude(esp_removal=EspRemoval.PENDING)
        .annotate(last_change=Max("history__at"))
        .filter(Q(last_change__lt=inactive_before) | Q(last_change__isnull=True))
    )
    diagnostics = _cleared(lifted.exclude(diagnostic=""), diagnostic="")
    evidence = _cleared(
        SuppressionHistory.objects.filter(suppression__in=lifted.values("pk")).exclude(evidence={}),
        evidence={},
    )
    return diagnostics + evidence


def audit_entries_purge(*, before: datetime) -> int:
    """The audit trail, kept longest: it must outlive what it records for a while, so that a
    question about who looked at a log or lifted a suppression can still be answered after
    the log itself is gone."""
    with scopes_disabled():
        return _deleted(AuditEntry.objects.filter(at__lt=before))


def day_counts_purge(*, before: date) -> int:
    """A clinic's email counts of days before `before`. Their emails are gone by then (the email
    table's trigger took them off the counts as they went, and the fold deletes counts that come
    to nothing), so this only clears what is left. The changes the log purge just wrote are
    folded first: the change table itself is never kept, only folded."""
    counts_fold()
    with scopes_disabled():
        return _deleted(EmailDayCount.objects.filter(day__lt=before))


def delivered_addresses_purge() -> int:
    """Addresses a clinic's mail reached (the reputation guard never holds mail to them), kept
    while one of the clinic's clients has the address, long after the emails: without a client
    who has it, the clinic has no mail to send there and no reason to keep it."""
    with scopes_disabled():
        clients_with_it = Client.objects.annotate(address=Lower("email")).filter(
            clinic_id=OuterRef("clinic_id"), address=OuterRef("address")
        )
        return _deleted(DeliveredAddress.objects.filter(~Exists(clients_with_it)))


def guard_records_purge(*, before: datetime) -> int:
    """Holds released and warnings ended before `before`: the record of what the reputation
    guard decided and what support did about it, kept as long as the audit trail. A hold in
    force, or a warning standing, is kept whatever its age."""
    with scopes_disabled():
        return _deleted(MailHold.objects.filter(released_at__lt=before)) + _deleted(
            GuardWarning.objects.filter(ended_at__lt=before)
        )


def _days(setting: str) -> timedelta:
    return timedelta(days=getattr(settings, setting))


def retention_apply(*, now: datetime) -> dict[str, int]:
    """Applies every retention period; returns how many rows each part deleted or cleared."""
    done = {
        "emails and events": log_purge(before=now - _days("EMAIL_LOG_RETENTION_DAYS")),
        # A day later than the log: a clinic's day may end up to 14 hours after UTC's.
        "email day counts": day_counts_purge(
            before=(now - _days("EMAIL_LOG_RETENTION_DAYS") - timedelta(days=1)).date()
        ),
        "delivered addresses": delivered_addresses_purge(),
        "received batches": received_batches_purge(
            before=now - _days("RECEIVED_BATCH_RETENTION_DAYS")
        ),
        "notifications": notifications_purge(before=now - _days("NOTIFICATION_RETENTION_DAYS")),
        "removal requests": removal_requests_purge(
            decided_before=now - _days("REMOVAL_REQUEST_RETENTION_DAYS"),
            received_before=now - _days("REMOVAL_REQUEST_PENDING_RETENTION_DAYS"),
        ),
        "reactivation asks": reactivation_asks_purge(
            answered_before=now - _days("REMOVAL_REQUEST_RETENTION_DAYS")
        ),
        "smart form answers": smart_form_answers_clear(
            completed_before=now - _days("SMART_FORM_ANSWERS_RETENTION_DAYS")
        ),
        "suppression evidence": suppression_evidence_clear(
            inactive_before=now - _days("SUPPRESSION_EVIDENCE_RETENTION_DAYS")
        ),
        "audit entries": audit_entries_purge(before=now - _days("AUDIT_RETENTION_DAYS")),
        "mail holds and guard warnings": guard_records_purge(
            before=now - _days("AUDIT_RETENTION_DAYS")
        ),
    }
    logger.info("Retention: %s", ", ".join(f"{count} {part}" for part, count in done.items()))
    return done
