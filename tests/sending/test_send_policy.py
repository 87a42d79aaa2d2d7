import smtplib
from datetime import UTC, datetime, timedelta

import pytest
import requests
from anymail.exceptions import (
    AnymailInvalidAddress,
    AnymailRecipientsRefused,
    AnymailRequestsAPIError,
)
from hypothesis import given
from hypothesis import strategies as st

from messaging.sending.policy import classify_send_failure, reminder_due_at, retry_delay


def esp_error(status: int, body: bytes = b'{"message": "to parameter is not a valid address"}'):
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.reason = "reason"
    return AnymailRequestsAPIError("failed", status_code=status, response=response)


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_throttling_and_server_errors_are_transient(status):
    assert classify_send_failure(esp_error(status)).kind == "transient"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413])
def test_other_client_errors_are_permanent_with_the_esps_words(status):
    failure = classify_send_failure(esp_error(status))
    assert failure.kind == "permanent"
    assert failure.words == "to parameter is not a valid address"


def test_a_timeout_is_transient():
    error_class = type("AnymailRequestsAPIError", (AnymailRequestsAPIError, requests.Timeout), {})
    assert classify_send_failure(error_class("Error posting")).kind == "transient"


def test_an_answer_that_never_came_leaves_the_outcome_unknown():
    read = type("AnymailRequestsAPIError", (AnymailRequestsAPIError, requests.ReadTimeout), {})
    connect = type(
        "AnymailRequestsAPIError", (AnymailRequestsAPIError, requests.ConnectTimeout), {}
    )
    assert classify_send_failure(read("Error posting")).unknown_outcome
    assert not classify_send_failure(connect("Error posting")).unknown_outcome
    assert not classify_send_failure(esp_error(503)).unknown_outcome


def test_a_refused_connection_is_transient():
    error_class = type(
        "AnymailRequestsAPIError", (AnymailRequestsAPIError, requests.ConnectionError), {}
    )
    assert classify_send_failure(error_class("Error posting")).kind == "transient"


def test_a_recipient_the_esp_refuses_is_rejected():
    assert classify_send_failure(AnymailRecipientsRefused()).kind == "rejected"


def test_an_address_anymail_cannot_parse_is_permanent():
    assert classify_send_failure(AnymailInvalidAddress("Invalid email address")).kind == (
        "permanent"
    )


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (smtplib.SMTPRecipientsRefused({"a@b.test": (550, b"5.1.1 no such user")}), "permanent"),
        (smtplib.SMTPRecipientsRefused({"a@b.test": (451, b"4.7.1 greylisted")}), "transient"),
        (smtplib.SMTPAuthenticationError(535, b"bad credentials"), "permanent"),
        (smtplib.SMTPServerDisconnected("gone"), "transient"),
        (ConnectionRefusedError("refused"), "transient"),
    ],
)
def test_smtp_failures_are_classified_by_their_code(error, kind):
    assert classify_send_failure(error).kind == kind


def test_an_unknown_error_is_not_swallowed():
    with pytest.raises(ZeroDivisionError):
        classify_send_failure(ZeroDivisionError())


@given(st.integers(min_value=1, max_value=40))
def test_retry_delays_grow_are_capped_and_jittered(attempt):
    ceiling = min(900.0, 10.0 * 2 ** (attempt - 1))
    assert ceiling / 2 <= retry_delay(attempt) <= ceiling


def test_retry_delays_grow_with_attempts():
    class Lowest:
        @staticmethod
        def uniform(low, high):
            return low

    delays = [retry_delay(n, rng=Lowest) for n in range(1, 6)]
    assert delays == [5.0, 10.0, 20.0, 40.0, 80.0]


def test_a_reminder_keeps_the_wall_clock_time_across_the_spring_change():
    # London moves to BST at 01:00 on Sunday 29 March 2026. 10:00 that Sunday is 09:00 UTC; the
    # reminder goes at 10:00 on Saturday, still GMT, so 10:00 UTC: 23 elapsed hours, not 24.
    start = datetime(2026, 3, 29, 9, 0, tzinfo=UTC)
    due = reminder_due_at(start, time_zone="Europe/London", lead=timedelta(hours=24))
    assert due == datetime(2026, 3, 28, 10, 0, tzinfo=UTC)


def test_a_reminder_keeps_the_wall_clock_time_across_the_autumn_change():
    # Back to GMT at 02:00 on Sunday 25 October 2026. 10:00 that Sunday is 10:00 UTC; the
    # reminder goes at 10:00 on Saturday, still BST, so 09:00 UTC: 25 elapsed hours.
    start = datetime(2026, 10, 25, 10, 0, tzinfo=UTC)
    due = reminder_due_at(start, time_zone="Europe/London", lead=timedelta(hours=24))
    assert due == datetime(2026, 10, 24, 9, 0, tzinfo=UTC)


@given(
    st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
    ),
    st.sampled_from(["Europe/London", "America/New_York", "Australia/Sydney", "UTC"]),
    st.integers(min_value=1, max_value=72),
)
def test_a_reminder_is_due_within_an_hour_of_the_plain_lead_time(start, zone, hours):
    lead = timedelta(hours=hours)
    assert abs(reminder_due_at(start, time_zone=zone, lead=lead) - (start - lead)) <= timedelta(
        hours=1
    )
