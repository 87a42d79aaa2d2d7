"""Whether a clinic may mail an address or a client, and what it may be told about why not.

Consent is per clinic and person. A suppression applies to a clinic when its own emails caused it
(a hard bounce or a complaint of its mail; `SuppressionCause`), whatever connection the clinic
sends through, and when it is on the stream the clinic sends on now (the platform's shared ESP
account, whose list guards every clinic on it). A clinic's own SMTP server is not that stream, so
suppressions other clinics' emails caused do not apply there. A clinic learns the reason, date and
the ESP's words only of suppressions its own emails caused; of the others, only that the address
cannot be emailed."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.timezone import localtime
from django_scopes import scope

from clinic.models import Client, Clinic
from suppression.models import (
    Refusal,
    Suppression,
    SuppressionCause,
    SuppressionReason,
    reason_words,
)
from suppression.streams import suppression_stream

OPTED_OUT_WORDS = "The client is opted out of appointment communications{since}. Reason: {reason}"

UNDISCLOSED_LABEL = "Cannot be emailed"
UNDISCLOSED_WORDS = (
    "Our email provider will not deliver to this address. Check the address with the client; "
    "if it is right, support can tell you more and reactivate it."
)
OTHER_CLINICS_ONLY_WORDS = (
    "The platform's email service does not deliver to this address, because of emails other "
    "than this clinic's. Your own server is not stopped by that; check the address with the "
    "client if your emails do not arrive."
)

CLIENTS_OWN_REQUEST_REASONS = {SuppressionReason.SPAM_COMPLAINT, SuppressionReason.UNSUBSCRIBED}
CLIENTS_OWN_REQUEST_WORDS = (
    "Only the client can lift it, by emailing {support_email} from this address; if the "
    "address is wrong, correct it."
)
CORRECT_OR_REACTIVATE_WORDS = "Correct the address, or ask support to reactivate it."


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


@dataclass(frozen=True)
class AddressBlock:
    """A suppression as one clinic may see it: its own part in full (`cause`: what the clinic's
    own emails met, and when), otherwise only that the address cannot be emailed."""

    suppression: Suppression
    cause: SuppressionCause | None = None

    @property
    def disclosed(self) -> bool:
        return self.cause is not None

    @property
    def label(self) -> str:
        return self.cause.get_reason_display() if self.cause else UNDISCLOSED_LABEL

    @property
    def since(self) -> datetime | None:
        return self.cause.first_seen if self.cause else None

    @property
    def words(self) -> str:
        return reason_words(self.cause.reason) if self.cause else UNDISCLOSED_WORDS

    @property
    def diagnostic(self) -> str:
        return self.cause.diagnostic if self.cause else ""

    @property
    def what_to_do(self) -> str:
        """What staff can do to email the client again. A spam complaint or an unsubscribe is
        lifted only on the client's own request, so staff are told where the client writes,
        never to ask support to reactivate it."""
        if self.cause and self.cause.reason in CLIENTS_OWN_REQUEST_REASONS:
            return CLIENTS_OWN_REQUEST_WORDS.format(support_email=settings.SUPPORT_EMAIL)
        return CORRECT_OR_REACTIVATE_WORDS


def _own_cause(clinic: Clinic):
    with scope(clinic=clinic.pk):
        return SuppressionCause.objects.filter(suppression_id=OuterRef("pk"))


def applicable_suppressions(*, clinic: Clinic) -> QuerySet[Suppression]:
    """The active suppressions that stop this clinic mailing, each annotated `own` when the
    clinic's emails caused it; own ones first."""
    stream = suppression_stream(clinic)
    applies = Q(own=True) | Q(stream=stream) if stream else Q(own=True)
    return (
        Suppression.objects.filter(active=True)
        .annotate(own=Exists(_own_cause(clinic)))
        .filter(applies)
        .order_by("-own", "-last_seen")
    )


def mail_permission(*, client: Client, appointment_mail: bool = False) -> MailPermission:
    """May this client be mailed, and if not, why. Appointment mail also needs the client's
    consent to appointment communications."""
    if appointment_mail and not client.appointment_comms:
        since = client.appointment_comms_changed_at
        words = OPTED_OUT_WORDS.format(
            since=f" since {localtime(since, client.clinic.tzinfo):%d %b %Y}" if since else "",
            reason=client.appointment_comms_reason or "not given",
        )
        return MailPermission(Refusal.OPTED_OUT, words)
    return address_permission(clinic=client.clinic, address=client.email)


def address_permission(*, clinic: Clinic, address: str) -> MailPermission:
    """May this address be mailed for this clinic, and if not, why (as far as it may know)."""
    if not address:
        return MailPermission(Refusal.NO_ADDRESS, "This client has no email address on file.")
    block = address_block(clinic=clinic, address=address)
    if block is None:
        return ALLOWED
    return MailPermission(Refusal.SUPPRESSED, block.words, block.diagnostic)


def address_block(*, clinic: Clinic, address: str) -> AddressBlock | None:
    """What stops this clinic mailing the address, as far as the clinic may know, if anything."""
    if not address:
        return None
    suppression = applicable_suppressions(clinic=clinic).filter(address=address).first()
    if suppression is None:
        return None
    if not suppression.own:
        return AddressBlock(suppression=suppression)
    with scope(clinic=clinic.pk):
        return AddressBlock(
            suppression=suppression, cause=SuppressionCause.objects.get(suppression=suppression)
        )


def address_warning(*, clinic: Clinic, address: str) -> str:
    """A warning, with no reason given, when the platform's email service would refuse an
    address that this clinic, on its own server, may still mail; else nothing."""
    if not address or suppression_stream(clinic) is not None:
        return ""
    refused = Suppression.objects.filter(address=address, active=True).exists()
    return OTHER_CLINICS_ONLY_WORDS if refused else ""


def suppressed_addresses(*, clinic: Clinic, addresses: list[str]) -> set[str]:
    """Which of these addresses this clinic may not mail (one query)."""
    return set(
        applicable_suppressions(clinic=clinic)
        .filter(address__in=[a for a in addresses if a])
        .values_list("address", flat=True)
    )
