"""What the log says of each status, and when a page of it is settled. The database is left out
(the log's query is replaced by a list), so these run in milliseconds."""

from types import SimpleNamespace

import pytest

from messaging.log import presentation
from messaging.log.presentation import (
    client_email_context,
    email_log_context,
    status_help,
    status_tone,
)

TONES = {
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
# Nothing more will be heard of these (the page is polled less often).
SETTLED = {"delivered", "opened", "clicked", "failed", "spam_report", "sent"}


@pytest.mark.parametrize(("status", "tone"), sorted(TONES.items()))
def test_each_status_has_its_tone(status, tone):
    assert status_tone(status) == tone


@pytest.mark.parametrize(
    ("status", "words"),
    [
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
