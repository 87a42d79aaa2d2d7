import functools
import smtplib
import ssl
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from anymail.exceptions import (
    AnymailAPIError,
    AnymailInvalidAddress,
    AnymailRecipientsRefused,
    AnymailRequestsAPIError,
)
from hypothesis import given
from hypothesis import strategies as st

from messaging.sending.policy import (
    ENCRYPTION_FAILED_WORDS,
    SendFailure,
    SmtpRefusal,
    classify_send_failure,
    fault_failure,
    reminder_due_at,
    retry_delay,
)


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


def test_an_unknown_error_is_a_fault_of_ours_named_in_words():
    failure = classify_send_failure(ZeroDivisionError("division by zero"))
    assert failure.kind == "fault"
    assert "problem on our side (ZeroDivisionError: division by zero)" in failure.words
    assert "not because of the client's address" in failure.words


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


# Each zone's two changes in 2026, worked out by hand from its rules: (zone, appointment at 10:00
# local on the Sunday of the change, as UTC; the reminder 24 wall-clock hours earlier, as UTC).
EACH_CHANGE = [
    # New York: EST to EDT at 02:00 on Sunday 8 March. 10:00 EDT is 14:00 UTC; 10:00 EST on the
    # Saturday is 15:00 UTC: 23 elapsed hours.
    (
        "America/New_York",
        datetime(2026, 3, 8, 14, tzinfo=UTC),
        datetime(2026, 3, 7, 15, tzinfo=UTC),
    ),
    # Back to EST at 02:00 on Sunday 1 November: 10:00 EST is 15:00 UTC, 10:00 EDT on Saturday
    # 31 October is 14:00 UTC: 25 hours.
    (
        "America/New_York",
        datetime(2026, 11, 1, 15, tzinfo=UTC),
        datetime(2026, 10, 31, 14, tzinfo=UTC),
    ),
    # Sydney: AEDT to AEST at 03:00 on Sunday 5 April. 10:00 AEST (UTC+10) is 00:00 UTC; 10:00
    # AEDT (UTC+11) on Saturday 4 April is 23:00 UTC on the 3rd: 25 hours.
    ("Australia/Sydney", datetime(2026, 4, 5, 0, tzinfo=UTC), datetime(2026, 4, 3, 23, tzinfo=UTC)),
    # AEST to AEDT at 02:00 on Sunday 4 October. 10:00 AEDT is 23:00 UTC on the 3rd; 10:00 AEST
    # on Saturday 3 October is 00:00 UTC: 23 hours.
    (
        "Australia/Sydney",
        datetime(2026, 10, 3, 23, tzinfo=UTC),
        datetime(2026, 10, 3, 0, tzinfo=UTC),
    ),
    # London, as above: 29 March and 25 October.
    ("Europe/London", datetime(2026, 3, 29, 9, tzinfo=UTC), datetime(2026, 3, 28, 10, tzinfo=UTC)),
    (
        "Europe/London",
        datetime(2026, 10, 25, 10, tzinfo=UTC),
        datetime(2026, 10, 24, 9, tzinfo=UTC),
    ),
]


@pytest.mark.parametrize(
    ("zone", "start", "due"),
    EACH_CHANGE,
    ids=[f"{zone}-{start:%b}" for zone, start, _ in EACH_CHANGE],
)
def test_a_reminder_keeps_the_wall_clock_time_across_each_change_of_each_zone(zone, start, due):
    assert reminder_due_at(start, time_zone=zone, lead=timedelta(hours=24)) == due
    assert due - (start - timedelta(hours=24)) in (timedelta(hours=1), timedelta(hours=-1))


ZONES = ["America/New_York", "Europe/London", "Australia/Sydney"]


@functools.cache
def offset_changes(zone: str) -> tuple[datetime, ...]:
    """Every instant from 2024 to 2032 at which the zone's UTC offset changes, found by looking
    at the offset hour by hour (all three zones change on the hour)."""
    tz, changes = ZoneInfo(zone), []
    instant = datetime(2024, 1, 1, tzinfo=UTC)
    offset = instant.astimezone(tz).utcoffset()
    while instant.year < 2033:
        instant += timedelta(hours=1)
        now = instant.astimezone(tz).utcoffset()
        if now != offset:
            changes.append(instant)
        offset = now
    return tuple(changes)


def wall_clock_answers(start: datetime, zone: str, lead: timedelta) -> list[datetime]:
    """The instants whose local time is the start's local time less the lead, read from the
    zone's offsets: one, or two in the hour a clock goes back, or none in the hour it skips."""
    tz = ZoneInfo(zone)
    wall = start.astimezone(tz).replace(tzinfo=None) - lead
    answers = set()
    for offset in {start.astimezone(tz).utcoffset(), (start - lead).astimezone(tz).utcoffset()}:
        for shift in (timedelta(0), timedelta(hours=1), -timedelta(hours=1)):
            instant = (wall - offset - shift).replace(tzinfo=UTC)
            if instant.astimezone(tz).replace(tzinfo=None) == wall:
                answers.add(instant)
    return sorted(answers)


def crossing_a_change():
    """An appointment whose reminder's lead time spans one of its zone's offset changes."""
    return st.sampled_from(ZONES).flatmap(
        lambda zone: st.tuples(
            st.just(zone),
            st.sampled_from(offset_changes(zone)),
            st.integers(min_value=1, max_value=72),
            st.integers(min_value=1, max_value=72 * 60 - 1),
        )
    )


@given(crossing_a_change())
def test_a_reminder_spanning_a_change_keeps_the_wall_clock_lead(case):
    zone, change, hours, minutes_after = case
    lead = timedelta(hours=hours)
    start = change + timedelta(minutes=minutes_after % (hours * 60) or 1)
    due = reminder_due_at(start, time_zone=zone, lead=lead)
    answers = wall_clock_answers(start, zone, lead)
    if answers:
        assert due in answers
    else:  # the wall-clock time does not exist that day: within the hour the clock skipped
        wall = start.astimezone(ZoneInfo(zone)).replace(tzinfo=None) - lead
        assert abs(due.astimezone(ZoneInfo(zone)).replace(tzinfo=None) - wall) <= timedelta(hours=1)


@given(
    st.datetimes(
        min_value=datetime(2024, 1, 1), max_value=datetime(2032, 12, 1), timezones=st.just(UTC)
    ),
    st.sampled_from([*ZONES, "UTC"]),
    st.integers(min_value=1, max_value=72),
)
def test_a_reminder_is_due_at_the_wall_clock_lead_anywhere(start, zone, hours):
    lead = timedelta(hours=hours)
    due = reminder_due_at(start, time_zone=zone, lead=lead)
    answers = wall_clock_answers(start, zone, lead)
    assert due in answers or not answers


# The words each failure is told in: the practitioner reads them as the email's reason.


class Highest:
    @staticmethod
    def uniform(low, high):
        return high


def test_retry_delays_reach_their_ceiling_and_the_cap():
    assert [retry_delay(n, rng=Highest) for n in range(1, 8)] == [10, 20, 40, 80, 160, 320, 640]
    assert retry_delay(7, rng=Highest) == 640
    assert retry_delay(8, rng=Highest) == 900  # capped at 15 minutes
    assert retry_delay(8) >= 450
    assert retry_delay(0, rng=Highest) == retry_delay(1, rng=Highest) == 10
    assert retry_delay(3, base=1, cap=3, rng=Highest) == 3


def esp_answer(status: int, body: bytes) -> AnymailRequestsAPIError:
    return esp_error(status, body)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"message": "Mailgun words"}', "Mailgun words"),
        (b'{"Message": "Postmark words", "ErrorCode": 300}', "Postmark words"),
        (b'{"error": "plain words"}', "plain words"),
        (b'{"errors": [{"message": "SendGrid words"}]}', "[{'message': 'SendGrid words'}]"),
        (b'{"message": "first", "Message": "second"}', "first"),
        (b'{"message": "", "Message": "second"}', "second"),
        (b'{"Message": "second", "error": "third"}', "second"),
        (b'{"error": "third", "errors": "fourth"}', "third"),
        (b'{"unknown": "x"}', '{"unknown": "x"}'),
        (b'["a", "list"]', '["a", "list"]'),
        (b"Service Unavailable", "Service Unavailable"),
        (b"x" * 600, "x" * 500),
    ],
)
def test_the_esps_own_words_are_kept(body, words):
    assert classify_send_failure(esp_answer(400, body)).words == words
    assert classify_send_failure(esp_answer(503, body)).words == (
        f"The email provider answered 503: {words}"
    )


def test_with_no_answer_the_errors_own_words_are_kept():
    assert classify_send_failure(AnymailRequestsAPIError("Error posting")).words == (
        "The email provider answered None: Error posting"
    )
    assert classify_send_failure(AnymailRequestsAPIError()).words == (
        "The email provider answered None: AnymailRequestsAPIError"
    )
    assert classify_send_failure(esp_answer(400, b"")).words == "failed"


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (399, "permanent"),
        (428, "permanent"),
        (429, "transient"),
        (430, "permanent"),
        (499, "permanent"),
        (500, "transient"),
        (599, "transient"),
    ],
)
def test_the_status_code_decides_at_its_edges(status, kind):
    failure = classify_send_failure(esp_answer(status, b'{"message": "m"}'))
    assert failure.kind == kind
    assert (failure.unknown_outcome, failure.before_sending) == (False, False)


def anymail_error(*requests_errors):
    return type("AnymailRequestsAPIError", (AnymailRequestsAPIError, *requests_errors), {})(
        "Error posting"
    )


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        (
            AnymailRecipientsRefused(),
            SendFailure(
                "rejected",
                "The email provider refuses this address (it is on the provider's "
                "suppression list).",
            ),
        ),
        (
            AnymailInvalidAddress("Invalid email address 'bob..smith@example.test'"),
            SendFailure(
                "permanent",
                "The client's email address is not valid, so this email could not be sent. "
                "Correct the address in the client's details.",
                before_sending=True,
            ),
        ),
        (
            anymail_error(requests.ConnectTimeout),
            SendFailure("transient", "The email provider could not be reached."),
        ),
        (
            anymail_error(requests.ReadTimeout),
            SendFailure(
                "transient",
                "The email provider did not answer in time; it may have accepted the email.",
                unknown_outcome=True,
            ),
        ),
        (
            anymail_error(requests.ConnectionError),
            SendFailure("transient", "The email provider could not be reached."),
        ),
    ],
)
def test_each_failure_is_told_in_its_words(error, failure):
    assert classify_send_failure(error) == failure


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (400, "transient"),
        (451, "transient"),
        (499, "transient"),
        (500, "permanent"),
        (550, "permanent"),
        (554, "permanent"),
    ],
)
def test_an_smtp_refusal_of_the_recipient_is_classified_by_its_code(code, kind):
    error = smtplib.SMTPRecipientsRefused({"a@b.test": (code, b"5.1.1 no such user \xff")})
    failure = classify_send_failure(error)
    assert (failure.kind, failure.before_sending) == (kind, True)
    assert f"(SMTP code {code})" in failure.words
    assert "no such user" not in failure.words  # the server's own text is never echoed


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (400, "transient"),
        (421, "transient"),
        (499, "transient"),
        (500, "permanent"),
        (552, "permanent"),
    ],
)
def test_an_smtp_server_answer_is_classified_by_its_code(code, kind):
    error = smtplib.SMTPDataError(code, b"message refused \xff")
    assert classify_send_failure(error) == SendFailure(
        kind, f"The clinic's server refused the email (SMTP code {code}).", before_sending=True
    )


REMOTE_TEXT = b"Internal-Relay-7f3a9c secret banner"


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        (
            smtplib.SMTPAuthenticationError(535, REMOTE_TEXT),
            SendFailure(
                "permanent",
                "The clinic's server refused the user name or password.",
                before_sending=True,
            ),
        ),
        (
            smtplib.SMTPSenderRefused(553, REMOTE_TEXT, "desk@alice.test"),
            SendFailure(
                "permanent",
                "The clinic's server refused the sender address (SMTP code 553): check the "
                "“From” email address in the clinic settings.",
                before_sending=True,
            ),
        ),
        (
            smtplib.SMTPConnectError(554, REMOTE_TEXT),
            SendFailure(
                "permanent",
                "The clinic's server refused the connection (SMTP code 554).",
                before_sending=True,
            ),
        ),
        (
            smtplib.SMTPConnectError(421, REMOTE_TEXT),
            SendFailure(
                "transient",
                "The clinic's server refused the connection (SMTP code 421).",
                before_sending=True,
            ),
        ),
        (  # a greeting with no SMTP code: something else listens there
            smtplib.SMTPConnectError(-1, REMOTE_TEXT),
            SendFailure(
                "permanent",
                "The clinic's server did not answer as an email server does.",
                before_sending=True,
            ),
        ),
        (
            smtplib.SMTPHeloError(501, REMOTE_TEXT),
            SendFailure(
                "permanent",
                "The clinic's server did not answer as an email server does.",
                before_sending=True,
            ),
        ),
        (
            smtplib.SMTPResponseException(502, REMOTE_TEXT),
            SendFailure(
                "permanent",
                "The clinic's server answered with an error (SMTP code 502).",
                before_sending=True,
            ),
        ),
        (
            smtplib.SMTPServerDisconnected(REMOTE_TEXT.decode()),
            SendFailure("transient", "The clinic's server closed the connection."),
        ),
        (
            ConnectionRefusedError(111, "Connection refused"),
            SendFailure("transient", "The clinic's server refused the connection."),
        ),
        (
            TimeoutError("timed out"),
            SendFailure("transient", "The clinic's server did not answer in time."),
        ),
        (
            ConnectionResetError(104, "Connection reset by peer"),
            SendFailure("transient", "The clinic's server closed the connection."),
        ),
        (
            OSError(101, "Network is unreachable"),
            SendFailure("transient", "The clinic's server could not be reached."),
        ),
        (
            ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"),
            SendFailure("permanent", ENCRYPTION_FAILED_WORDS, before_sending=True),
        ),
        (
            SmtpRefusal("Our own words.", kind="transient"),
            SendFailure("transient", "Our own words.", before_sending=True),
        ),
    ],
)
def test_a_clinic_servers_failure_is_told_in_our_words_only(error, failure):
    assert classify_send_failure(error) == failure
    assert "secret banner" not in failure.words


def ses_error(status: int, code: str, message: str | None):
    """What anymail's Amazon SES backend raises: botocore's parsed error as the response."""
    error = {"Code": code} | ({"Message": message} if message else {})
    return AnymailAPIError(
        f"An error occurred ({code}) when calling the SendEmail operation",
        response={"Error": error, "ResponseMetadata": {"HTTPStatusCode": status}},
    )


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        (
            ses_error(400, "MessageRejected", "Email address is not verified."),
            SendFailure("permanent", "Email address is not verified."),
        ),
        (
            ses_error(429, "TooManyRequestsException", "Maximum sending rate exceeded."),
            SendFailure(
                "transient", "The email provider answered 429: Maximum sending rate exceeded."
            ),
        ),
        (
            ses_error(503, "ServiceUnavailable", "Service is unavailable."),
            SendFailure("transient", "The email provider answered 503: Service is unavailable."),
        ),
        (
            ses_error(400, "BadRequestException", None),
            SendFailure(
                "permanent",
                "An error occurred (BadRequestException) when calling the SendEmail operation",
            ),
        ),
    ],
)
def test_amazon_ses_errors_are_classified_by_their_status_with_their_words(error, failure):
    assert classify_send_failure(error) == failure


def test_an_ses_error_missing_its_parts_is_still_told():
    only_status = AnymailAPIError(
        "An error occurred (Throttling)", response={"ResponseMetadata": {"HTTPStatusCode": 400}}
    )
    assert classify_send_failure(only_status) == SendFailure(
        "permanent", "An error occurred (Throttling)"
    )
    only_error = AnymailAPIError(
        "An error occurred (Throttling)", response={"Error": {"Message": "Rate exceeded"}}
    )
    assert classify_send_failure(only_error) == SendFailure(
        "transient", "The email provider answered None: Rate exceeded"
    )


OURS_WORDS = (
    "It could not be sent because of a problem on our side ({detail}), not because of the "
    "client's address. Support has the details; try again later."
)


@pytest.mark.parametrize(
    ("error", "detail"),
    [
        (ZeroDivisionError(), "ZeroDivisionError"),
        (ValueError("the PDF font is missing"), "ValueError: the PDF font is missing"),
        (KeyError("invoice"), "KeyError: 'invoice'"),
        (ValueError("x" * 400), ("ValueError: " + "x" * 400)[:300]),
    ],
)
def test_a_fault_of_ours_says_so_and_is_found_before_sending(error, detail):
    assert fault_failure(error) == SendFailure(
        "fault", OURS_WORDS.format(detail=detail), before_sending=True
    )
    assert classify_send_failure(error) == fault_failure(error)


# Each case below builds its error inside the test, not in a parametrize list: an error built
# while the tests are collected is built before any test runs, so its constructor's code would be
# counted as no test's.


def test_our_own_refusal_is_permanent_unless_told_otherwise_and_carries_our_words():
    refusal = SmtpRefusal("The clinic's server is not allowed.")
    assert (refusal.words, refusal.kind) == ("The clinic's server is not allowed.", "permanent")
    assert str(refusal) == "The clinic's server is not allowed."
    assert classify_send_failure(refusal) == SendFailure(
        "permanent", "The clinic's server is not allowed.", before_sending=True
    )
    for_now = SmtpRefusal("Not now.", kind="transient")
    assert (for_now.words, for_now.kind, str(for_now)) == ("Not now.", "transient", "Not now.")
    assert classify_send_failure(for_now) == SendFailure(
        "transient", "Not now.", before_sending=True
    )


RECIPIENT_FOR_NOW = "The clinic's server did not take the client's address for now (SMTP code {})."
RECIPIENT_REFUSED = (
    "The clinic's server refused to deliver to the client's address (SMTP code {}): check the "
    "address, or ask the server's provider why."
)


@pytest.mark.parametrize(
    ("code", "kind", "words"),
    [
        (399, "permanent", RECIPIENT_REFUSED),
        (400, "transient", RECIPIENT_FOR_NOW),
        (401, "transient", RECIPIENT_FOR_NOW),
        (499, "transient", RECIPIENT_FOR_NOW),
        (500, "permanent", RECIPIENT_REFUSED),
        (501, "permanent", RECIPIENT_REFUSED),
        (550, "permanent", RECIPIENT_REFUSED),
    ],
)
def test_a_refused_recipient_is_told_in_the_words_of_its_codes_class(code, kind, words):
    error = smtplib.SMTPRecipientsRefused({"a@b.test": (code, REMOTE_TEXT)})
    assert classify_send_failure(error) == SendFailure(
        kind, words.format(code), before_sending=True
    )


NOT_AN_EMAIL_SERVER = SendFailure(
    "permanent", "The clinic's server did not answer as an email server does.", before_sending=True
)


def answered_with_an_error(code: int, kind: str) -> SendFailure:
    return SendFailure(
        kind, f"The clinic's server answered with an error (SMTP code {code}).", before_sending=True
    )


@pytest.mark.parametrize(
    ("code", "failure"),
    [
        (-1, NOT_AN_EMAIL_SERVER),
        (199, NOT_AN_EMAIL_SERVER),
        (200, answered_with_an_error(200, "permanent")),  # a success code where none was due
        (201, answered_with_an_error(201, "permanent")),
        (451, answered_with_an_error(451, "transient")),
        (599, answered_with_an_error(599, "permanent")),
        (600, NOT_AN_EMAIL_SERVER),
        (601, NOT_AN_EMAIL_SERVER),
    ],
)
def test_only_a_three_digit_smtp_code_is_read_as_an_answer(code, failure):
    assert classify_send_failure(smtplib.SMTPResponseException(code, REMOTE_TEXT)) == failure


def test_a_server_lacking_what_the_email_needs_is_a_permanent_failure_found_before_sending():
    error = smtplib.SMTPNotSupportedError("SMTPUTF8 not supported by server")
    assert classify_send_failure(error) == SendFailure(
        "permanent",
        "The clinic's server does not support something this email needs (such as international "
        "characters in an address).",
        before_sending=True,
    )


def test_any_other_smtp_failure_is_transient_in_our_words():
    error = smtplib.SMTPException("No suitable authentication method found.")
    assert classify_send_failure(error) == SendFailure(
        "transient", "The clinic's server could not take the email."
    )
