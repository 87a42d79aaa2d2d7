"""What each status means to a practitioner, and what to do about it."""

from messaging.status import EmailStatus

TRACKING_CAVEAT = (
    "Privacy settings and security scanners can open mail and follow links automatically, so "
    "opens and clicks are a strong sign, not proof."
)

# (badge tone, explanation with what to do)
STATUS_HELP: dict[str, tuple[str, str]] = {
    EmailStatus.SENDING: (
        "info",
        "Waiting to be handed to the email service. This normally takes minutes; we flag it to "
        "support ourselves after 10 minutes.",
    ),
    EmailStatus.PROCESSED: (
        "info",
        "The email service accepted it and is delivering it. This normally takes minutes; we "
        "flag it to support ourselves after 10 minutes.",
    ),
    EmailStatus.DEFERRED: (
        "warn",
        "The client's email provider turned it away for now. It is retried automatically.",
    ),
    EmailStatus.DELIVERED: (
        "ok",
        "The client's email provider accepted it. That is not proof it reached the inbox: ask "
        "the client to check their junk and spam folders, then their provider.",
    ),
    EmailStatus.OPENED: ("ok", "A very good sign it was seen. " + TRACKING_CAVEAT),
    EmailStatus.CLICKED: ("ok", "A very good sign it was seen and read. " + TRACKING_CAVEAT),
    EmailStatus.FAILED: (
        "bad",
        "It could not be delivered: the address is wrong, out of date, or blocked after a spam "
        "report. Check the address with the client. The reason is below.",
    ),
    EmailStatus.SPAM_REPORT: (
        "bad",
        "The client marked it as spam, so this address is no longer emailed. Only the client's "
        "own request, sent from this address, can lift it.",
    ),
    EmailStatus.SENT: (
        "info",
        "Sent through the clinic's own mail server: delivery tracking is not available for it.",
    ),
}

FINAL_STATUSES = {
    EmailStatus.DELIVERED,
    EmailStatus.OPENED,
    EmailStatus.CLICKED,
    EmailStatus.FAILED,
    EmailStatus.SPAM_REPORT,
    EmailStatus.SENT,
}


def status_tone(status: str) -> str:
    return STATUS_HELP[status][0]


def status_help(status: str) -> str:
    return STATUS_HELP[status][1]
