"""What an ESP event means for us, read as that ESP documents it: a status, and whether the
recipient's address is the cause (suppress), the ESP stopped after temporary failures
(temporary), the cause is ours (sender: never suppresses; support is alerted), or the recipient
unsubscribed (opt-out, no suppression). One pure function per ESP reads anymail's normalised
event and, where anymail's type hides the ESP's meaning, the raw event. Every row, with its
source, is in docs/esp-events.md.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from messaging.status import EmailStatus
from suppression.models import SuppressionReason

HARD = SuppressionReason.HARD_BOUNCE
SPAM = SuppressionReason.SPAM_COMPLAINT
INVALID = SuppressionReason.INVALID_ADDRESS
LISTED = SuppressionReason.ESP_REJECTED  # refused: the address is on the ESP's own list
UNSUBSCRIBED = SuppressionReason.UNSUBSCRIBED  # refused: the address is on its unsubscribes

# Why an email failed, where it matters to what we say and do.
TEMPORARY = "temporary"  # the ESP stopped trying after temporary failures: resend later
SENDER = "sender"  # ours (reputation, policy, request, account): support is alerted


@dataclass(frozen=True)
class Verdict:
    status: str | None  # None: kept as a fact of the email, changes no status
    suppress: str | None = None  # the address caused it: suppressed for this reason
    cause: str = ""  # TEMPORARY or SENDER for a failure not caused by the address
    opt_out: bool = False  # the recipient unsubscribed: no more appointment emails


NOTHING = Verdict(None)
PROCESSED = Verdict(EmailStatus.PROCESSED)
DEFERRED = Verdict(EmailStatus.DEFERRED)
FAILED = Verdict(EmailStatus.FAILED)
GAVE_UP = Verdict(EmailStatus.FAILED, cause=TEMPORARY)
OURS = Verdict(EmailStatus.FAILED, cause=SENDER)
UNSUBSCRIBE = Verdict(None, opt_out=True)


def failed_for(reason: str) -> Verdict:
    return Verdict(EmailStatus.FAILED, suppress=reason)


# anymail's event types, for an event no ESP function reads more closely.
BY_EVENT_TYPE: dict[str, Verdict] = {
    "queued": PROCESSED,
    "sent": PROCESSED,
    "deferred": DEFERRED,
    "delivered": Verdict(EmailStatus.DELIVERED),
    "opened": Verdict(EmailStatus.OPENED),
    "clicked": Verdict(EmailStatus.CLICKED),
    "bounced": failed_for(HARD),
    "rejected": FAILED,
    "failed": FAILED,
    "complained": Verdict(EmailStatus.SPAM_REPORT, SPAM),
    "unsubscribed": UNSUBSCRIBE,
}


def _default(event_type: str) -> Verdict:
    return BY_EVENT_TYPE.get(event_type, NOTHING)


# An enhanced status code (RFC 3463) in an SMTP reply: 5.1.x is the address (no such mailbox or
# domain), 5.2.x the mailbox's state (full, disabled), 5.7.x policy (ours: reputation, content,
# authentication).
ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.\d{1,3}\b")


def _smtp_class(*texts: Any) -> str:
    """'address', 'mailbox' or 'policy' from the first enhanced code in these texts, or ''."""
    for text in texts:
        found = ENHANCED.search(str(text or ""))
        if found and found.group(1) == "5":
            return {"1": "address", "2": "mailbox", "7": "policy"}.get(found.group(2), "")
    return ""


def _by_smtp_class(kind: str, otherwise: Verdict) -> Verdict:
    return {"address": failed_for(HARD), "mailbox": GAVE_UP, "policy": OURS}.get(kind, otherwise)


# Mailgun (event-data; failure `reason`s from its Events and Metrics documentation).
MAILGUN_LISTS = {
    "suppress-bounce": LISTED,
    "suppress-complaint": LISTED,
    "suppress-unsubscribe": UNSUBSCRIBED,
}
# Mailgun's own codes for refusing an address on one of its lists (hardfail, legacy).
MAILGUN_LIST_CODES = {605: LISTED, 607: LISTED, 606: UNSUBSCRIBED}


def mailgun_verdict(event_type: str, raw: Mapping[str, Any]) -> Verdict:
    data = raw.get("event-data", raw)
    if not isinstance(data, Mapping):
        return _default(event_type)
    event = data.get("event")
    if event == "rejected":  # Mailgun refused our request: nothing was sent
        return OURS
    if event == "unsubscribed":
        return UNSUBSCRIBE
    if event != "failed":
        return _default(event_type)
    reason = str(data.get("reason") or "")
    if reason == "old":  # retried for hours after temporary failures, then dropped
        return GAVE_UP
    if data.get("severity") != "permanent":
        return DEFERRED
    return _mailgun_permanent(reason, data)


def _mailgun_permanent(reason: str, data: Mapping[str, Any]) -> Verdict:
    status = data.get("delivery-status") if isinstance(data.get("delivery-status"), Mapping) else {}
    if reason in MAILGUN_LISTS:
        return failed_for(MAILGUN_LISTS[reason])
    code = status.get("code")
    if reason == "hardfail" and code in MAILGUN_LIST_CODES:
        return failed_for(MAILGUN_LIST_CODES[code])
    if reason in ("espblock", "blacklisted"):  # blocks on our reputation or policy
        return OURS
    kind = _smtp_class(
        status.get("enhanced-code"),
        status.get("bounce-code"),
        status.get("message"),
        status.get("description"),
    )
    # Mailgun: a `bounce` is a recipient that does not exist, unless its code says otherwise.
    return _by_smtp_class(kind, failed_for(HARD) if reason == "bounce" else FAILED)


# Postmark (Bounce webhook `Type`, from its bounce-types table).
POSTMARK_BOUNCES: dict[str, Verdict] = {
    "HardBounce": failed_for(HARD),
    "BadEmailAddress": failed_for(INVALID),
    "ManuallyDeactivated": failed_for(LISTED),
    "SoftBounce": GAVE_UP,  # "we have ceased attempting to send that message"
    "Transient": DEFERRED,  # "message delayed": Postmark keeps trying
    "DnsError": DEFERRED,
    "Blocked": OURS,  # "ISP block ... due to content or blacklisting"
    "DMARCPolicy": OURS,
    "VirusNotification": OURS,
    "TemplateRenderingFailed": OURS,
    "SpamNotification": NOTHING,  # delivered, then filtered: not the recipient's complaint
    "Unknown": FAILED,
    "Unsubscribe": UNSUBSCRIBE,
    "Subscribe": NOTHING,
    "AutoResponder": NOTHING,
    "AddressChange": NOTHING,
    "OpenRelayTest": NOTHING,
    "ChallengeVerification": NOTHING,
    "Unconfirmed": FAILED,
    "InboundError": NOTHING,
}
POSTMARK_SUPPRESSIONS = {"HardBounce": HARD, "SpamComplaint": SPAM, "ManualSuppression": LISTED}


def postmark_verdict(event_type: str, raw: Mapping[str, Any]) -> Verdict:
    record = raw.get("RecordType")
    if record == "SpamComplaint":
        return Verdict(EmailStatus.SPAM_REPORT, SPAM)
    if record == "SubscriptionChange":
        return _postmark_subscription(raw)
    if record != "Bounce":
        return _default(event_type)
    kind = raw.get("Type", "")
    if kind == "SpamComplaint":  # the older shape of a complaint: a Bounce record
        return Verdict(EmailStatus.SPAM_REPORT, SPAM)
    if kind == "HardBounce" and _smtp_class(raw.get("Details")) == "policy":
        return OURS  # classified from a 5.7.x policy reply: a block on us, not the address
    if kind == "SMTPApiError":
        listed = "inactive" in str(raw.get("Details", "")).lower()
        return failed_for(LISTED) if listed else OURS
    return POSTMARK_BOUNCES.get(kind, FAILED)


def _postmark_subscription(raw: Mapping[str, Any]) -> Verdict:
    """Postmark's suppression list changed: an unsubscribe opts out; a suppression after a bounce
    or complaint is already said by that Bounce or SpamComplaint event."""
    manual = raw.get("SuppressionReason") == "ManualSuppression"
    if raw.get("SuppressSending") and manual and raw.get("Origin") == "Recipient":
        return UNSUBSCRIBE  # the recipient used Postmark's unsubscribe link
    return NOTHING


# Amazon SES (event publishing: bounceType/bounceSubType, complaint, delivery delay, reject,
# rendering failure).
SES_LISTED = {"Suppressed": LISTED, "OnAccountSuppressionList": LISTED}
SES_TRANSIENT_OURS = {"ContentRejected", "AttachmentRejected", "MessageTooLarge"}
# Feedback reports that are not a recipient calling our mail spam: "not-spam", and reports of
# an authentication failure or a virus about our message.
SES_NOT_COMPLAINTS = {"not-spam", "auth-failure", "virus"}


def amazon_ses_verdict(event_type: str, raw: Mapping[str, Any]) -> Verdict:
    kind = raw.get("eventType") or raw.get("notificationType")
    if kind == "Bounce":
        return _ses_bounce(raw.get("bounce") if isinstance(raw.get("bounce"), Mapping) else {})
    if kind == "Complaint":
        complaint = raw.get("complaint") if isinstance(raw.get("complaint"), Mapping) else {}
        if complaint.get("complaintFeedbackType") in SES_NOT_COMPLAINTS:
            return NOTHING  # not the recipient's complaint: kept as a fact of the email
        if complaint.get("complaintSubType") == "OnAccountSuppressionList":
            return failed_for(LISTED)
        return Verdict(EmailStatus.SPAM_REPORT, SPAM)
    if kind == "DeliveryDelay":
        return DEFERRED  # SES is still trying
    if kind in ("Reject", "Rendering Failure"):  # refused before sending: virus, template
        return OURS
    if kind == "Subscription":
        return NOTHING
    return _default(event_type)


def _ses_bounce(bounce: Mapping[str, Any]) -> Verdict:
    kind, sub = bounce.get("bounceType"), bounce.get("bounceSubType")
    if kind == "Permanent":
        if sub in SES_LISTED:
            return failed_for(SES_LISTED[sub])
        return failed_for(HARD)  # General, NoEmail
    if kind == "Transient":  # published after SES has stopped retrying
        return OURS if sub in SES_TRANSIENT_OURS else GAVE_UP
    return FAILED  # Undetermined: SES could not tell why


# SendGrid (Event Webhook: dropped reasons, bounce types and classifications).
SENDGRID_DROPPED: dict[str, Verdict] = {
    "Bounced Address": failed_for(LISTED),
    "Spam Reporting Address": failed_for(LISTED),
    "Unsubscribed Address": failed_for(UNSUBSCRIBED),
    "Invalid": failed_for(INVALID),
}
SENDGRID_CLASSES: dict[str, Verdict] = {
    "Invalid Address": failed_for(HARD),
    "Mailbox Unavailable": GAVE_UP,
    "Technical": GAVE_UP,
    "Technical Failure": GAVE_UP,
    "Content": OURS,
    "Reputation": OURS,
    "Frequency/Volume": OURS,
    "Frequency or Volume Too High": OURS,
}
# A block is SendGrid's receiver refusing the message for now; SendGrid stops there and never
# suppresses the address, whatever the class.
SENDGRID_BLOCK_OURS = {"Content", "Reputation", "Frequency/Volume", "Frequency or Volume Too High"}


def sendgrid_verdict(event_type: str, raw: Mapping[str, Any]) -> Verdict:
    event = raw.get("event")
    if event == "dropped":
        # The reason names the list exactly; anything else ("Invalid SMTPAPI header", "Spam
        # Content", ...) is a problem of ours.
        return SENDGRID_DROPPED.get(str(raw.get("reason", "")).strip(), OURS)
    if event in ("unsubscribe", "group_unsubscribe"):
        return UNSUBSCRIBE
    if event == "group_resubscribe":
        return NOTHING
    if event != "bounce":
        return _default(event_type)
    kind = _smtp_class(raw.get("status"), raw.get("reason"))
    classification = str(raw.get("bounce_classification", ""))
    if raw.get("type") == "blocked":
        return OURS if kind == "policy" or classification in SENDGRID_BLOCK_OURS else GAVE_UP
    if kind == "policy":  # a policy reply (DMARC, reputation) is ours, whatever the class
        return OURS
    return SENDGRID_CLASSES.get(classification) or _by_smtp_class(kind, failed_for(HARD))


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
