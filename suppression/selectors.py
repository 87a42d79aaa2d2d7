from dataclasses import dataclass

from clinic.models import Client, Clinic
from suppression.models import Refusal, Suppression
from suppression.streams import suppression_stream

OPTED_OUT_WORDS = "The client is opted out of appointment communications{since}. Reason: {reason}"


@dataclass(frozen=True)
class MailPermission:
    """Whether a client may be mailed: no refusal, or a refusal's code (a Refusal) and words,
    with the email provider's own words where it gave any."""

    refusal: str = ""
    words: str = ""
    diagnostic: str = ""

    @property
    def allowed(self) -> bool:
        return not self.refusal

    @property
    def reason(self) -> str:
        return f"{self.words} (Provider said: {self.diagnostic})" if self.diagnostic else self.words


ALLOWED = MailPermission()


def mail_permission(*, client: Client, appointment_mail: bool = False) -> MailPermission:
    """May this client be mailed, and if not, why. Appointment mail also needs the client's
    consent to appointment communications."""
    if appointment_mail and not client.appointment_comms:
        since = client.appointment_comms_changed_at
        words = OPTED_OUT_WORDS.format(
            since=f" since {since:%d %b %Y}" if since else "",
            reason=client.appointment_comms_reason or "not given",
        )
        return MailPermission(Refusal.OPTED_OUT, words)
    return address_permission(clinic=client.clinic, address=client.email)


def address_permission(*, clinic: Clinic, address: str) -> MailPermission:
    """May this address be mailed for this clinic, and if not, why."""
    if not address:
        return MailPermission(Refusal.NO_ADDRESS, "This client has no email address on file.")
    suppression = address_suppression(clinic=clinic, address=address)
    if suppression is None:
        return ALLOWED
    return MailPermission(Refusal.SUPPRESSED, suppression.words, suppression.diagnostic)


def address_suppression(*, clinic: Clinic, address: str) -> Suppression | None:
    """The active suppression that stops this clinic mailing the address, if any."""
    stream = suppression_stream(clinic)
    if not address or stream is None:
        return None
    return Suppression.objects.filter(address=address, stream=stream, active=True).first()


def suppressed_addresses(*, clinic: Clinic, addresses: list[str]) -> set[str]:
    """Which of these addresses this clinic may not mail (one query)."""
    stream = suppression_stream(clinic)
    if stream is None:
        return set()
    return set(
        Suppression.objects.filter(
            address__in=[a for a in addresses if a], stream=stream, active=True
        ).values_list("address", flat=True)
    )
