"""What the log says of each status, and when a page of it is settled. The database is left out
(the log's query is replaced by a list), so these run in milliseconds."""

from types import SimpleNamespace

import pytest

from clinic.models import Client, SmartForm, SmartFormRequest
from messaging.log import presentation
from messaging.log.presentation import (
    FormAnswer,
    FormRequestShown,
    StatusExplained,
    client_email_context,
    email_log_context,
    engagement_words,
    event_not_counted,
    form_answers,
    form_request_shown,
    opt_in_refusal,
    reason_shown,
    shown_status,
    status_help,
    status_legend,
    status_tone,
)

TONES = {
    "held": "warn",
    "sending": "info",
    "processed": "info",
    "sent": "info",
    "deferred": "warn",
    "delivered": "ok",
    "opened": "ok",
    "clicked": "ok",
    "failed": "bad",
    "spam_report": "bad",
}
# Nothing more will be heard of these, or (held) not before support's release: the page is
# polled less often.
SETTLED = {"delivered", "opened", "clicked", "failed", "spam_report", "sent", "held"}


@pytest.mark.parametrize(("status", "tone"), sorted(TONES.items()))
def test_each_status_has_its_tone(status, tone):
    assert status_tone(status) == tone


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("held", "It goes out by itself if support lifts the pause within 3 days"),
        ("sending", "Waiting to be handed to the email service."),
        ("processed", "The email service accepted it"),
        ("deferred", "It is retried automatically."),
        ("delivered", "ask the client to check their junk and spam folders"),
        ("opened", "A very good sign it was seen."),
        ("clicked", "seen and read."),
        ("failed", "Check the address with the client."),
        ("spam_report", "ask them to email support@clinicmail.test from this address."),
        ("sent", "delivery tracking is not available"),
    ],
)
def test_each_status_says_what_it_means_and_what_to_do(status, words):
    assert words in status_help(status)


def test_a_spam_report_names_where_the_client_writes_as_set_now(settings):
    settings.SUPPORT_EMAIL = "removals@clinicmail.test"
    assert "ask them to email removals@clinicmail.test from this address" in status_help(
        "spam_report"
    )


def test_waiting_statuses_say_when_support_is_told():
    for status in ("sending", "processed"):
        assert "we flag it to support ourselves after 10 minutes" in " ".join(
            status_help(status).split()
        )


def test_opens_and_clicks_carry_the_caveat():
    for status in ("opened", "clicked"):
        assert status_help(status).endswith("opens and clicks are a strong sign, not proof.")


@pytest.fixture
def log(monkeypatch, settings):
    """The log's query replaced by a list of emails of the given statuses, newest first."""
    settings.EMAIL_LOG_RETENTION_DAYS = 45
    asked = []

    def emails(statuses):
        rows = [SimpleNamespace(status=status, n=n) for n, status in enumerate(statuses)]

        def client_email_log(*, client, days):
            asked.append((client, days))
            return rows

        monkeypatch.setattr(presentation, "client_email_log", client_email_log)
        return asked

    return emails


def test_the_page_shows_the_retention_period_and_the_caveat(log):
    asked = log(["delivered"])
    context = email_log_context("the client", None)
    assert asked == [("the client", 45)]
    assert context["client"] == "the client"
    assert context["days"] == 45
    assert context["caveat"].startswith("Privacy settings and security scanners")


def test_pages_hold_twenty_emails(log):
    log(["delivered"] * 45)
    first = email_log_context("c", None)["page"]
    assert [email.n for email in first.object_list] == list(range(20))
    assert first.paginator.num_pages == 3
    third = email_log_context("c", "3")["page"]
    assert [email.n for email in third.object_list] == list(range(40, 45))
    assert email_log_context("c", "99")["page"].number == 3  # past the end: the last page
    assert email_log_context("c", "nope")["page"].number == 1


@pytest.mark.parametrize("status", sorted(TONES))
def test_a_page_is_settled_when_nothing_more_will_be_heard(log, status):
    log([status])
    assert email_log_context("c", None)["settled"] is (status in SETTLED)


def test_one_unsettled_email_unsettles_the_page(log):
    log(["delivered", "clicked", "processed", "failed"])
    assert email_log_context("c", None)["settled"] is False
    log(["delivered", "clicked", "sent", "failed"])
    assert email_log_context("c", None)["settled"] is True


def test_only_the_shown_page_counts(log):
    log(["delivered"] * 20 + ["sending"])
    assert email_log_context("c", "1")["settled"] is True
    assert email_log_context("c", "2")["settled"] is False


def test_an_empty_log_is_settled(log):
    log([])
    assert email_log_context("c", None)["settled"] is True


def test_the_summary_adds_the_send_forms_to_the_log(log, monkeypatch):
    asked = log(["sending"] * 21 + ["delivered"])
    monkeypatch.setattr(presentation, "send_forms_for", lambda client: {"for": client})
    context = client_email_context("the client", "2")
    assert context["forms"] == {"for": "the client"}
    assert context["client"] == "the client"
    assert asked == [("the client", 45)]
    assert context["page"].number == 2
    assert [email.status for email in context["page"].object_list] == ["sending", "delivered"]
    assert context["settled"] is False
    assert context["days"] == 45


@pytest.mark.parametrize(
    ("cause", "words"),
    [
        ("temporary", "Nothing is wrong with the address: send it again later"),
        ("sender", "a problem on our side"),
    ],
)
def test_a_failure_not_caused_by_the_address_is_explained_as_what_it_was(cause, words):
    assert words in status_help("failed", cause)
    assert "Check the address with the client." not in status_help("failed", cause)
    # Only a failure has a cause to explain.
    assert status_help("delivered", cause) == status_help("delivered")
    assert words not in status_help("deferred", cause)


def test_a_failure_with_no_cause_or_another_is_the_addresss():
    for cause in ("", "address", "whatever"):
        assert "Check the address with the client." in status_help("failed", cause)


# The pure parts of the client's page, pinned word for word: an email's or event's tracking,
# a form's state, why a client cannot be opted in, the legend and a completed form's answers.

SWITCHED_OFF = "Opens and clicks are not tracked for this email (the clinic switched tracking off)."
OWN_SERVER = (
    "Opens and clicks are not tracked for this email (it went through the clinic's own mail "
    "server)."
)


def an_email(status="delivered", *, engagement_tracked=True, tracked=True):
    return SimpleNamespace(status=status, engagement_tracked=engagement_tracked, tracked=tracked)


@pytest.mark.parametrize(
    ("engagement_tracked", "tracked", "words"),
    [
        (True, True, ""),
        (True, False, ""),
        (False, True, SWITCHED_OFF),
        (False, False, OWN_SERVER),
    ],
)
def test_the_log_says_why_opens_and_clicks_are_not_tracked(engagement_tracked, tracked, words):
    email = an_email(engagement_tracked=engagement_tracked, tracked=tracked)
    assert engagement_words(email) == words


@pytest.mark.parametrize("status", sorted(TONES))
def test_a_tracked_email_shows_its_own_status(status):
    assert shown_status(an_email(status)) == status


@pytest.mark.parametrize(
    ("status", "shown"),
    [(status, status) for status in sorted(set(TONES) - {"opened", "clicked"})]
    + [("opened", "delivered"), ("clicked", "delivered")],
)
def test_an_untracked_email_raised_by_an_open_or_click_shows_as_delivered(status, shown):
    assert shown_status(an_email(status, engagement_tracked=False)) == shown


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (
            "opened",
            "The email service reported an open although tracking was off for this email; "
            "it is not counted.",
        ),
        (
            "clicked",
            "The email service reported a click although tracking was off for this email; "
            "it is not counted.",
        ),
    ]
    + [(status, "") for status in sorted(set(TONES) - {"opened", "clicked"})],
)
def test_an_open_or_click_of_an_untracked_email_is_listed_as_not_counted(status, words):
    email = an_email("delivered", engagement_tracked=False)
    assert event_not_counted(email, SimpleNamespace(status=status)) == words


@pytest.mark.parametrize("status", sorted(TONES))
def test_every_event_of_a_tracked_email_counts(status):
    assert event_not_counted(an_email("delivered"), SimpleNamespace(status=status)) == ""


def a_form_request(state="pending", *newest_statuses):
    form_request = SmartFormRequest(state=state)
    form_request.newest_emails = [SimpleNamespace(status=status) for status in newest_statuses]
    return form_request


NOT_DELIVERED = (
    "The email with the form's link was not delivered, so the client cannot fill it in: the "
    "email log says why."
)
AS_SPAM = "The client reported the email with the form's link as spam."


@pytest.mark.parametrize(
    ("state", "newest", "label", "tone", "words"),
    [
        ("completed", ["failed"], "Completed", "ok", ""),
        ("completed", ["spam_report"], "Completed", "ok", ""),
        ("completed", [], "Completed", "ok", ""),
        ("pending", [], "Waiting for the client", "info", ""),
        ("pending", ["delivered"], "Waiting for the client", "info", ""),
        ("pending", ["sending", "failed"], "Waiting for the client", "info", ""),
        ("pending", ["failed"], "Email not delivered", "bad", NOT_DELIVERED),
        ("pending", ["failed", "delivered"], "Email not delivered", "bad", NOT_DELIVERED),
        ("pending", ["spam_report"], "Reported as spam", "bad", AS_SPAM),
        ("pending", ["spam_report", "failed"], "Reported as spam", "bad", AS_SPAM),
    ],
)
def test_a_form_is_shown_in_the_state_staff_should_read(state, newest, label, tone, words):
    form_request = a_form_request(state, *newest)
    assert form_request_shown(form_request) == FormRequestShown(form_request, label, tone, words)


def test_a_form_shown_has_no_words_unless_given():
    assert FormRequestShown("the form", "Completed", "ok").words == ""


@pytest.mark.parametrize(
    ("email", "block", "words"),
    [
        (
            "",
            None,
            "Not possible: this client has no email address on file. Add one under Edit details.",
        ),
        (
            "",
            "a block",
            "Not possible: this client has no email address on file. Add one under Edit details.",
        ),
        ("ann@example.test", "a block", "Not possible while the address is suppressed."),
        ("ann@example.test", None, ""),
    ],
)
def test_the_page_says_why_a_client_cannot_be_opted_in(email, block, words):
    assert opt_in_refusal(Client(email=email), block) == words


def test_the_legend_lists_every_status_in_the_logs_own_words(settings):
    settings.SUPPORT_EMAIL = "removals@clinicmail.test"
    legend = status_legend()
    assert [row.status for row in legend] == [
        "held",
        "sending",
        "processed",
        "deferred",
        "delivered",
        "opened",
        "clicked",
        "failed",
        "spam_report",
        "sent",
    ]
    assert [row.label for row in legend] == [
        "Held",
        "Sending",
        "Processed",
        "Deferred",
        "Delivered",
        "Open",
        "Clicked",
        "Failed",
        "Spam report",
        "Sent",
    ]
    assert [row.tone for row in legend] == [TONES[row.status] for row in legend]
    assert [row.help for row in legend] == [status_help(row.status) for row in legend]
    assert "ask them to email removals@clinicmail.test from this address." in legend[8].help
    assert legend[1] == StatusExplained("sending", "Sending", "info", status_help("sending"))
    assert legend[0] == StatusExplained("held", "Held", "warn", status_help("held"))


FIELDS = [
    {"name": "allergies", "label": "Allergies", "type": "text"},
    {"name": "consent", "label": "I consent", "type": "checkbox"},
    {"name": "photos", "type": "checkbox"},
    {"name": "notes", "label": "", "type": "textarea"},
    {"name": "gp"},
]


def a_completed_form(responses):
    return SmartFormRequest(
        state="completed", form=SmartForm(title="Intake", fields=FIELDS), responses=responses
    )


def test_a_completed_form_reads_its_answers_in_the_forms_order_under_their_labels():
    responses = {
        "gp": "Dr Lee",
        "notes": "None",
        "photos": "False",
        "consent": "True",
        "allergies": "Penicillin",
    }
    assert form_answers(a_completed_form(responses)) == [
        FormAnswer("Allergies", "Penicillin"),
        FormAnswer("I consent", "Yes"),
        FormAnswer("photos", "No"),
        FormAnswer("notes", "None"),
        FormAnswer("gp", "Dr Lee"),
    ]


def test_only_the_answered_fields_are_read():
    assert form_answers(a_completed_form({"consent": "False", "extra": "x"})) == [
        FormAnswer("I consent", "No")
    ]


@pytest.mark.parametrize("responses", [{}, None])
def test_a_form_without_answers_reads_none(responses):
    assert form_answers(a_completed_form(responses)) == []


@pytest.mark.parametrize(
    ("spec", "answer", "words"),
    [
        ({"type": "checkbox"}, "True", "Yes"),
        ({"type": "checkbox"}, "False", "No"),
        ({"type": "checkbox"}, "maybe", "maybe"),
        ({"type": "text"}, "True", "True"),
        ({"type": "text"}, "False", "False"),
        ({}, "True", "True"),
    ],
)
def test_a_ticked_box_reads_yes_and_an_unticked_one_no(spec, answer, words):
    assert presentation._answer_words(spec, answer) == words


def test_a_notification_opens_the_page_that_holds_its_email(log, monkeypatch):
    """Without a page asked for, the email's id names the page (page_of_email, against the
    database in tests/pages/test_notifications.py); a page asked for wins."""
    log(["delivered"] * 45)
    looked_up = []

    def page_of_email(log, email_id):
        looked_up.append(([email.n for email in log], email_id))
        return 3

    monkeypatch.setattr(presentation, "page_of_email", page_of_email)
    assert email_log_context("c", None, "the email")["page"].number == 3
    assert looked_up == [(list(range(45)), "the email")]
    assert email_log_context("c", "2", "the email")["page"].number == 2
    assert email_log_context("c", None)["page"].number == 1
    assert len(looked_up) == 1


class IdsOnly:
    """A newest-first log as page_of_email reads it: its ids, in order."""

    def __init__(self, ids):
        self.ids = ids

    def values_list(self, field, flat=False):
        assert (field, flat) == ("id", True)
        return list(self.ids)


def test_the_page_of_an_email_is_counted_from_the_newest():
    import uuid

    from messaging.log.presentation import PAGE_SIZE, page_of_email

    ids = [uuid.uuid4() for _ in range(PAGE_SIZE * 2 + 1)]
    log = IdsOnly(ids)
    assert page_of_email(log, ids[0]) == 1
    assert page_of_email(log, str(ids[PAGE_SIZE - 1])) == 1  # the last of page 1, as text
    assert page_of_email(log, ids[PAGE_SIZE]) == 2
    assert page_of_email(log, ids[-1]) == 3
    assert page_of_email(log, uuid.uuid4()) is None  # not in this client's log
    assert page_of_email(log, "not-an-id") is None


@pytest.mark.parametrize(
    ("refusal", "reason", "shown"),
    [
        ("opted_out", "The client opted out.", "Not sent. The client opted out."),
        ("quota", "Not sent. The daily limit.", "Not sent. The daily limit."),  # stored before
        ("", "550 5.1.1 no such user", "550 5.1.1 no such user"),
        ("", "Not sent. kept as it came", "Not sent. kept as it came"),
    ],
)
def test_a_refused_emails_reason_says_not_sent_once(refusal, reason, shown):
    assert reason_shown(SimpleNamespace(refusal=refusal, reason=reason)) == shown
