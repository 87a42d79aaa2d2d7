"""The client's email log as a practitioner reads it: a page of emails, what each status means
and what to do about it, and the forms to send another."""

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.paginator import Paginator

from clinic.models import Client, SmartFormRequest
from messaging.log.forms import send_forms_for
from messaging.log.selectors import client_email_log
from messaging.models import OutboundEmail
from messaging.status import EmailStatus
from messaging.tracking.mapping import SENDER, TEMPORARY
from messaging.tracking.stuck import STUCK_AFTER

PAGE_SIZE = 20
# When support is told of an email the ESP has not reported on, as the help says it.
FLAGGED_AFTER = f"{STUCK_AFTER.total_seconds() / 60:g} minutes"

TRACKING_CAVEAT = (
    "Privacy settings and security scanners can open mail and follow links automatically, so "
    "opens and clicks are a strong sign, not proof."
)

# (badge tone, explanation with what to do)
STATUS_HELP: dict[str, tuple[str, str]] = {
    EmailStatus.HELD: (
        "warn",
        "Not handed to the email service yet: the clinic's email to addresses it has not reached "
        "before is paused while support reviews its bounces and spam reports. It goes out by "
        "itself if support lifts the pause within {held_days} days of its writing; after that it "
        "is not sent, and you can send it again.",
    ),
    EmailStatus.SENDING: (
        "info",
        "Waiting to be handed to the email service. This normally takes minutes; we flag it to "
        f"support ourselves after {FLAGGED_AFTER}.",
    ),
    EmailStatus.PROCESSED: (
        "info",
        "The email service accepted it and is delivering it. This normally takes minutes; we "
        f"flag it to support ourselves after {FLAGGED_AFTER}.",
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
        "report. Check the address with the client.",
    ),
    EmailStatus.SPAM_REPORT: (
        "bad",
        "The client marked it as spam, so this address is no longer emailed. Only the client's "
        "own request can lift it: ask them to email {support_email} from this address.",
    ),
    EmailStatus.SENT: (
        "info",
        "Sent through the clinic's own mail server: delivery tracking is not available for it.",
    ),
}

# A failure that was not the address's fault is explained as what it was.
CAUSE_HELP: dict[str, str] = {
    TEMPORARY: (
        "The client's email provider could not take it for a while (a full mailbox, a busy "
        "server or a temporary block), and the email service has stopped trying. Nothing is "
        "wrong with the address: send it again later, or ask the client to free space in their "
        "mailbox."
    ),
    SENDER: (
        "It was not delivered because of a problem on our side (the email service's block on "
        "our sending, or our own request), not because of the client's address. Support has "
        "been alerted; send it again later."
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
# A page of these is polled less often: nothing more will be heard of them, or (held) nothing
# before support lifts a hold, hours or days away.
SETTLED_STATUSES = FINAL_STATUSES | {EmailStatus.HELD}


ENGAGEMENT = frozenset({EmailStatus.OPENED, EmailStatus.CLICKED})

# Why an email's opens and clicks were not tracked, as the log says it.
NOT_TRACKED_SWITCHED_OFF = (
    "Opens and clicks are not tracked for this email (the clinic switched tracking off)."
)
NOT_TRACKED_OWN_SERVER = (
    "Opens and clicks are not tracked for this email (it went through the clinic's own mail "
    "server)."
)
# An open or click an ESP reports all the same (an account-wide setting of the ESP's) is
# listed under these words, not as an open or click, and does not count.
ENGAGEMENT_NOT_COUNTED = (
    "The email service reported {what} although tracking was off for this email; it is not counted."
)


def engagement_words(email) -> str:
    """Why the email's opens and clicks are not tracked, or "" when they are."""
    if email.engagement_tracked:
        return ""
    return NOT_TRACKED_SWITCHED_OFF if email.tracked else NOT_TRACKED_OWN_SERVER


def shown_status(email) -> str:
    """The status the log shows. An untracked email that an open or click event raised is shown
    as delivered: an open or click comes only after delivery, and the clinic asked that opens
    and clicks of its clients not be followed, so the log does not report them."""
    if not email.engagement_tracked and email.status in ENGAGEMENT:
        return EmailStatus.DELIVERED
    return email.status


def event_not_counted(email, event) -> str:
    """Words for an open or click reported for an email whose tracking was off, else ""."""
    if email.engagement_tracked or event.status not in ENGAGEMENT:
        return ""
    what = "an open" if event.status == EmailStatus.OPENED else "a click"
    return ENGAGEMENT_NOT_COUNTED.format(what=what)


def status_tone(status: str) -> str:
    return STATUS_HELP[status][0]


def status_help(status: str, cause: str = "") -> str:
    if status == EmailStatus.FAILED and cause in CAUSE_HELP:
        return CAUSE_HELP[cause]
    # Where the client writes is the setting SUPPORT_EMAIL, read as the help is shown.
    # Read as the help is shown too: where the client writes (SUPPORT_EMAIL), and how long a held
    # email may wait (HELD_EMAIL_MAX_DAYS).
    return (
        STATUS_HELP[status][1]
        .replace("{support_email}", settings.SUPPORT_EMAIL)
        .replace("{held_days}", str(settings.HELD_EMAIL_MAX_DAYS))
    )


def page_of_email(log, email_id) -> int | None:
    """The page of the (newest-first) log that holds this email, if it is in the log at all."""
    try:
        position = list(log.values_list("id", flat=True)).index(uuid.UUID(str(email_id)))
    except ValueError:
        return None
    return position // PAGE_SIZE + 1


def email_log_context(client, page_number, email_id=None) -> dict:
    """The log's page `page_number` (or, with none, the page that holds `email_id`, which a
    notification opens), and whether all its emails are settled (polled less often)."""
    days = settings.EMAIL_LOG_RETENTION_DAYS
    log = client_email_log(client=client, days=days)
    if not page_number and email_id:
        page_number = page_of_email(log, email_id)
    page = Paginator(log, PAGE_SIZE).get_page(page_number)
    return {
        "client": client,
        "page": page,
        "days": days,
        "caveat": TRACKING_CAVEAT,
        "settled": all(email.status in SETTLED_STATUSES for email in page.object_list),
    }


def client_email_context(client, page_number) -> dict:
    """What the client's summary page shows of email: the log, and the forms to send one."""
    return {**email_log_context(client, page_number), "forms": send_forms_for(client)}


@dataclass(frozen=True)
class FormRequestShown:
    """A smart form sent to the client, in the state staff should read: a form whose email never
    arrived is not waiting for the client."""

    form_request: SmartFormRequest
    label: str
    tone: str
    words: str = ""


FORM_NOT_DELIVERED = (
    "The email with the form's link was not delivered, so the client cannot fill it in: the "
    "email log says why."
)
FORM_REPORTED_AS_SPAM = "The client reported the email with the form's link as spam."


def form_request_shown(form_request: SmartFormRequest) -> FormRequestShown:
    """The form's state as staff read it, from its own state and its newest email's status
    (`newest_emails`, as client_form_states prefetches them)."""
    if form_request.state == SmartFormRequest.State.COMPLETED:
        return FormRequestShown(form_request, form_request.get_state_display(), "ok")
    newest = form_request.newest_emails[0] if form_request.newest_emails else None
    if newest is not None and newest.status == EmailStatus.FAILED:
        return FormRequestShown(form_request, "Email not delivered", "bad", FORM_NOT_DELIVERED)
    if newest is not None and newest.status == EmailStatus.SPAM_REPORT:
        return FormRequestShown(form_request, "Reported as spam", "bad", FORM_REPORTED_AS_SPAM)
    return FormRequestShown(form_request, form_request.get_state_display(), "info")


NOT_SENT = "Not sent."


def reason_shown(email: OutboundEmail) -> str:
    """An email's reason as staff and API callers read it: a refused email says "Not sent."
    before why, which is stored bare so that a page saying "not sent" itself can show why alone.
    Rows saved while the words were stored with it keep them until retention removes them: they
    are not doubled."""
    if not email.refusal:
        return email.reason
    return f"{NOT_SENT} {email.reason.removeprefix(NOT_SENT + ' ')}"


def opt_in_refusal(client: Client, block) -> str:
    """Why the client cannot be opted back in to appointment emails now, or "" when they can
    (as suppression.services.client_opt_in decides)."""
    if not client.email:
        return "Not possible: this client has no email address on file. Add one under Edit details."
    if block is not None:
        return "Not possible while the address is suppressed."
    return ""


@dataclass(frozen=True)
class StatusExplained:
    """One row of the status legend: the words the log itself shows for the status."""

    status: str
    label: str
    tone: str
    help: str


def status_legend() -> list[StatusExplained]:
    """Every status, lowest to highest, with what it means and what to do, in the log's own words
    (STATUS_HELP), and the words for a failure that was not the address's fault (CAUSE_HELP)."""
    return [
        StatusExplained(status, EmailStatus(status).label, status_tone(status), status_help(status))
        for status in EmailStatus.values
    ]


@dataclass(frozen=True)
class FormAnswer:
    label: str
    answer: str


def form_answers(form_request: SmartFormRequest) -> list[FormAnswer]:
    """A completed form's answers, in the form's order, each under its label; empty when the
    form is not completed or retention has emptied its answers."""
    responses = form_request.responses or {}
    return [
        FormAnswer(spec.get("label") or spec["name"], _answer_words(spec, responses[spec["name"]]))
        for spec in form_request.form.fields
        if spec["name"] in responses
    ]


def _answer_words(spec: dict, answer: str) -> str:
    """A ticked box reads Yes, an unticked one No (the form stores them as True and False)."""
    if spec.get("type") == "checkbox":
        return {"True": "Yes", "False": "No"}.get(answer, answer)
    return answer
