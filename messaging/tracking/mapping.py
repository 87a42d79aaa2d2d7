"""What an ESP event means for us: a status and, for a permanent failure, a suppression reason.

One pure function per ESP reads anymail's normalised event and, where anymail's `bounced` hides
a soft bounce, the ESP's raw event. The table is in docs/esp-events.md.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from messaging.status import EmailStatus
from suppression.models import SuppressionReason

HARD = SuppressionReason.HARD_BOUNCE
SPAM = SuppressionReason.SPAM_COMPLAINT
REJECTED = SuppressionReason.ESP_REJECTED


@dataclass(frozen=True)
class Verdict:
    status: str | None  # None: kept as a fact of the email, changes no status
    suppress: str | None = None


PROCESSED = Verdict(EmailStatus.PROCESSED)
DEFERRED = Verdict(EmailStatus.DEFERRED)
FAILED = Verdict(EmailStatus.FAILED)
NOTHING = Verdict(None)

# anymail's event types, before any ESP looks closer.
BY_EVENT_TYPE: dict[str, Verdict] = {
    "queued": PROCESSED,
    "sent": PROCESSED,
    "deferred": DEFERRED,
    "delivered": Verdict(EmailStatus.DELIVERED),
    "opened": Verdict(EmailStatus.OPENED),
    "clicked": Verdict(EmailStatus.CLICKED),
    "bounced": Verdict(EmailStatus.FAILED, HARD),
    "rejected": FAILED,
    "failed": FAILED,
    "complained": Verdict(EmailStatus.SPAM_REPORT, SPAM),
}


def _default(event_type: str) -> Verdict:
    return BY_EVENT_TYPE.get(event_type, NOTHING)


def mailgun_verdict(event_type: str, raw: Mapping[str, Any]) -> Verdict:
    data = raw.get("event-data", raw)
    if data.get("event") == "failed" and data.get("severity") == "permanent":
        reason = data.get("reason", "")
        if reason.startswith("suppress-"):
            return Verdict(EmailStatus.FAILED, REJECTED)
        return Verdict(EmailStatus.FAILED, HARD)
    return _default(event_type)


POSTMARK_HARD = {"HardBounce", "BadEmailAddress"}
POSTMARK_DEACTIVATED = {"ManuallyDeactivated"}
POSTMARK_FAILED = {
    "Blocked",
    "DMARCPolicy",
    "VirusNotification",
    "TemplateRenderingFailed",
    "SMTPApiError",
    "SpamNotification",
}
POSTMARK_IGNORED = {
    "AutoResponder",
    "Subscribe",
    "AddressChange",
    "OpenRelayTest",
    "ChallengeVerification",
    "InboxPlacement",
    "Unconfirmed",
}


def postmark_verdict(event_type: str, raw: Mapping[str, Any]) -> Verdict:
    if raw.get("RecordType") != "Bounce":
        return _default(event_type)
    kind = raw.get("Type", "")
    if kind in POSTMARK_HARD:
        return Verdict(EmailStatus.FAILED, HARD)
    if kind == "SpamComplaint":
        return Verdict(EmailStatus.SPAM_REPORT, SPAM)
    if kind in POSTMARK_DEACTIVATED:
        return Verdict(EmailStatus.FAILED, REJECTED)
    if kind in POSTMARK_FAILED:
        return FAILED
    if kind in POSTMARK_IGNORED:
        return NOTHING
    # SoftBounce, Transient, DnsError, Unknown: temporary, whatever anymail calls them.
    return DEFERRED


SES_ACCOUNT_SUPPRESSED = {"OnAccountSuppressionList", "Suppressed"}


def amazon_ses_verdict(event_type: str, raw: Mapping[str, Any]) -> Verdict:
    kind = raw.get("eventType") or raw.get("notificationType")
    if kind == "Bounce":
        bounce = raw.get("bounce", {})
        if bounce.get("bounceType") != "Permanent":
            return DEFERRED  # Transient or Undetermined
        if bounce.get("bounceSubType") in SES_ACCOUNT_SUPPRESSED:
            return Verdict(EmailStatus.FAILED, REJECTED)
        return Verdict(EmailStatus.FAILED, HARD)
    if kind == "DeliveryDelay":
        return DEFERRED
    return _default(event_type)


SENDGRID_DROPPED_SUPPRESSED = ("Bounced Address", "Spam Reporting Address", "Invalid")


def sendgrid_verdict(event_type: str, raw: Mapping[str, Any]) -> Verdict:
    event = raw.get("event")
    if event == "bounce":
        if raw.get("type") == "blocked":
            return DEFERRED  # the receiving server refused for now: not the address's fault
        return Verdict(EmailStatus.FAILED, HARD)
    if event == "dropped":
        reason = str(raw.get("reason", ""))
        if any(reason.startswith(words) for words in SENDGRID_DROPPED_SUPPRESSED):
            return Verdict(EmailStatus.FAILED, REJECTED)
        return FAILED
    return _default(event_type)


VERDICTS: dict[str, Callable[[str, Mapping[str, Any]], Verdict]] = {
    "mailgun": mailgun_verdict,
    "postmark": postmark_verdict,
    "amazon_ses": amazon_ses_verdict,
    "sendgrid": sendgrid_verdict,
}


def verdict_for(esp: str, event_type: str, raw: Any) -> Verdict:
    mapper = VERDICTS.get(esp)
    if mapper is None or not isinstance(raw, Mapping):
        return _default(event_type)
    return mapper(event_type, raw)
