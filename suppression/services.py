from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from clinic.models import Client, Clinic, normalize_email_address
from suppression.models import REASON_WORDS, Suppression, SuppressionHistory


@dataclass(frozen=True)
class MailPermission:
    allowed: bool
    words: str = ""
    diagnostic: str = ""

    @property
    def reason(self) -> str:
        return f"{self.words} (Provider said: {self.diagnostic})" if self.diagnostic else self.words


ALLOWED = MailPermission(allowed=True)


def sending_stream(clinic: Clinic) -> str | None:
    """The suppression list a clinic's mail is checked against; own SMTP has none."""
    return None if clinic.uses_own_smtp else settings.EMAIL_ESP


def mail_permission(*, clinic: Clinic, address: str) -> MailPermission:
    """May this address be mailed for this clinic, and if not, why, in words."""
    if not address:
        return MailPermission(False, "This client has no email address on file.")
    stream = sending_stream(clinic)
    if stream is None:
        return ALLOWED
    suppression = Suppression.objects.filter(
        address=normalize_email_address(address), stream=stream, active=True
    ).first()
    if suppression is None:
        return ALLOWED
    return MailPermission(False, REASON_WORDS[suppression.reason], suppression.diagnostic)


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
) -> Suppression:
    """Suppresses an address on a stream (again), and writes the change to its history."""
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
            reason=reason,
            diagnostic=diagnostic or suppression.diagnostic,
            source_email_id=source_email_id or suppression.source_email_id,
            source_event_id=source_event_id or suppression.source_event_id,
            last_seen=timezone.now(),
            times_seen=F("times_seen") + 1,
            active=True,
        )
        suppression.refresh_from_db()
    SuppressionHistory.objects.create(
        suppression=suppression,
        actor=actor,
        action="suppressed" if created else "suppressed again",
        why=reason,
        evidence={"diagnostic": diagnostic, "email_id": str(source_email_id or "")},
    )
    return suppression


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
