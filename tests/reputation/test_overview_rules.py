"""The overview's pure rules: a counted email's reason for failure, the days of the span, the
chart's bars, a clinic's level and its place in support's list."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from messaging.reputation.figures import Figures, Thresholds
from messaging.reputation.overview import (
    REASONS,
    SERIES,
    chart_of,
    clinic_days_of,
    clinic_level,
    clinic_risks,
    days_of,
    measures_of,
    nice_ceiling,
    reason_of,
    series_of,
    sparkline_of,
    top_reasons,
    unjudged,
)
from messaging.reputation.platform_counts import ClinicSeries
from messaging.reputation.rollups import DayCount
from messaging.status import EmailStatus

TODAY = date(2026, 11, 20)
LIMITS = Thresholds(
    window_days=7,
    min_sends=200,
    min_events=5,
    bounce_warning=4.0,
    bounce_hold=8.0,
    complaint_warning=0.08,
    complaint_hold=0.3,
)


def count(
    status="delivered", cause="", refusal="", handed_over=True, emails=1, day=TODAY, clinic=1
):
    return DayCount(clinic, day, status, cause, refusal, handed_over, emails)


@pytest.mark.parametrize(
    ("counted", "reason"),
    [
        (count("delivered"), None),
        (count("opened"), None),
        (count("processed"), None),
        (count("deferred"), None),
        (count("sending", handed_over=False), None),
        (count("sent"), None),
        (count("failed"), "hard_bounce"),
        (count("failed", handed_over=False), "not_handed_over"),
        (count("failed", cause="temporary"), "temporary"),
        (count("failed", cause="sender"), "sender"),
        (count("failed", cause="sender", handed_over=False), "sender"),
        (count("failed", cause="something new"), "sender"),
        (count("spam_report"), "complaint"),
        (count("held", handed_over=False), "held"),
        (count("failed", refusal="no_address", handed_over=False), "no_address"),
        (count("failed", refusal="suppressed", handed_over=False), "suppressed"),
        (count("failed", refusal="opted_out", handed_over=False), "opted_out"),
    ],
)
def test_each_count_has_the_reason_its_state_says(counted, reason):
    assert reason_of(counted) == reason


def test_every_reason_has_words_and_every_status_a_series():
    for reason in REASONS.values():
        assert reason.label and reason.meaning.endswith(".") and reason.what_to_do.endswith(".")
    codes = {series.code for series in SERIES}
    for status in EmailStatus.values:
        assert series_of(count(status)) in codes
    assert series_of(count("failed", refusal="suppressed")) == "not_sent"


def test_top_reasons_rank_by_emails_with_their_share():
    ranked = top_reasons(
        [
            count("delivered", emails=90),
            count("failed", emails=3),
            count("failed", emails=2, day=date(2026, 11, 1)),
            count("spam_report", emails=1),
            count("failed", refusal="opted_out", handed_over=False, emails=4),
        ]
    )
    assert [(item.reason.code, item.emails) for item in ranked] == [
        ("hard_bounce", 5),
        ("opted_out", 4),
        ("complaint", 1),
    ]
    assert ranked[0].share == pytest.approx(5)
    assert top_reasons([count("delivered")]) == []


def test_days_cover_the_span_oldest_first_with_empty_days():
    days = days_of(
        [
            count("delivered", emails=3),
            count("opened", emails=2),
            count("failed", emails=1, day=date(2026, 10, 22)),
            count("failed", emails=7, day=date(2026, 10, 21)),  # before the span
        ],
        today=TODAY,
    )
    assert len(days) == 30
    assert (days[0].day, days[-1].day) == (date(2026, 10, 22), TODAY)
    assert days[-1].emails == {"delivered": 5} and days[-1].total == 5
    assert days[0].emails == {"failed": 1}
    assert days[1].total == 0
    assert days[-1].cells()[0] == 5 and sum(days[0].cells()) == 1


@pytest.mark.parametrize(
    ("busiest", "top"),
    [(0, 1), (1, 1), (2, 2), (3, 4), (7, 8), (9, 10), (11, 20), (52, 60), (480, 500), (810, 1000)],
)
def test_the_axis_ends_at_a_round_number(busiest, top):
    assert nice_ceiling(busiest) == top


def test_bars_stack_from_the_baseline_in_proportion():
    days = days_of([count("delivered", emails=6), count("failed", emails=4)], today=TODAY)
    chart = chart_of(days, label_day=lambda day: day.isoformat())
    delivered, failed = chart.bars
    assert delivered.y + delivered.height == pytest.approx(chart.baseline, abs=0.01)
    assert failed.y + failed.height == pytest.approx(delivered.y, abs=0.01)
    assert delivered.height / failed.height == pytest.approx(6 / 4, rel=0.01)
    assert delivered.title == "2026-11-20: 6 delivered"
    assert [tick.label for tick in chart.ticks] == ["0", "5", "10"]
    assert chart.labels[-1].label == "2026-11-20" and len(chart.labels) == 5
    assert chart.labels[-1].anchor == "end" and chart.labels[0].anchor == "middle"
    odd = chart_of(days_of([count(emails=1)], today=TODAY), label_day=str)
    assert [tick.label for tick in odd.ticks] == ["0", "1"]


def test_rates_judge_only_on_enough_evidence():
    few = Figures(sends=100, bounces=20, complaints=0)
    enough = Figures(sends=400, bounces=40, complaints=1)
    bounces, complaints = measures_of({7: few, 30: enough}, LIMITS)
    assert [(rate.standing, rate.percent) for rate in bounces.rates] == [
        ("evidence", 20.0),
        ("hold", 10.0),
    ]
    # One complaint in 400 emails is past the warning rate, but one is not five.
    assert complaints.rates[1].standing == "few"
    assert complaints.rates[1].words == "Past the warning rate, on too few to act on"
    assert bounces.rates[0].words == "Not enough emails yet to judge"


def test_a_busy_clinic_with_no_bounces_is_below_the_warning_not_unjudged():
    [bounces, complaints] = measures_of({7: Figures(sends=5000, bounces=0, complaints=0)}, LIMITS)
    assert bounces.rates[0].standing == complaints.rates[0].standing == ""
    assert bounces.rates[0].words == "Below the warning threshold"


def test_a_clinic_is_at_its_worse_measures_level():
    assert clinic_level(Figures(400, 17, 0), LIMITS) == "warning"
    assert clinic_level(Figures(400, 17, 2), LIMITS) == "warning"
    assert clinic_level(Figures(400, 0, 5), LIMITS) == "hold"
    assert clinic_level(Figures(400, 1, 0), LIMITS) == "evidence"
    assert clinic_level(Figures(400, 5, 0), LIMITS) == ""
    assert clinic_level(Figures(10, 5, 5), LIMITS) == "evidence"


def test_support_reads_the_riskiest_clinic_first_each_on_its_own_clock():
    # 02:00 UTC on 21 November: still the 20th in New York (window 14th to 20th), already the
    # 21st in Sydney (window 15th to 21st).
    now = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
    new_york, sydney = ZoneInfo("America/New_York"), ZoneInfo("Australia/Sydney")
    counts = [
        count("delivered", emails=95, clinic=1),
        count("delivered", emails=100, clinic=1, day=date(2026, 11, 14)),
        count("failed", emails=5, clinic=1),  # 2.5% bounces: 0.31 of the hold
        count("delivered", emails=999, clinic=2, day=date(2026, 11, 21)),
        count("spam_report", emails=2, clinic=2),  # 0.2% complaints: 0.67 of the hold
        count("spam_report", emails=50, clinic=2, day=date(2026, 11, 14)),  # before its window
        count("failed", emails=1, clinic=3, day=date(2026, 11, 13)),  # before its window
    ]
    clinics = [(1, "Ann", False, new_york), (2, "Ben", True, sydney), (3, "Cal", False, new_york)]
    series = clinic_days_of(counts, since=date(2026, 10, 21), until=date(2026, 11, 22))
    rows = clinic_risks(clinics, series, now=now, limits=LIMITS)
    assert [row.name for row in rows] == ["Ben", "Ann", "Cal"]
    assert rows[0].figures == Figures(sends=1001, bounces=0, complaints=2)
    assert rows[0].risk == pytest.approx(0.2 / 0.3, rel=0.01)
    assert rows[0].own_smtp and rows[0].trend.sends == 1051
    assert rows[1].figures == Figures(sends=200, bounces=5, complaints=0)
    assert rows[1].level == "" and rows[1].notes == ()
    assert rows[0].notes == ("Spam complaints 0.20%: too few to act on (2 of 5 events)",)
    small = unjudged(Figures(sends=20, bounces=4, complaints=0), LIMITS)
    assert small == ("Hard bounces 20.00%: too few to act on (4 of 5 events, 20 of 200 emails)",)
    assert rows[2].figures == Figures() and rows[2].level == "evidence"
    assert rows[2].trend.failures == 1


def test_clinics_the_guard_acts_on_come_before_a_high_rate_on_a_handful_of_emails():
    now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    london = ZoneInfo("Europe/London")
    counts = [
        count("delivered", emails=8, clinic=1, day=date(2026, 11, 20)),
        count("failed", emails=2, clinic=1, day=date(2026, 11, 20)),  # 20%, on 10 emails
        count("delivered", emails=380, clinic=2, day=date(2026, 11, 20)),
        count("failed", emails=20, clinic=2, day=date(2026, 11, 20)),  # 5%: a warning
        count("delivered", emails=360, clinic=3, day=date(2026, 11, 20)),
        count("failed", emails=40, clinic=3, day=date(2026, 11, 20)),  # 10%: a hold
    ]
    clinics = [(1, "Tiny", False, london), (2, "Warned", False, london), (3, "Held", False, london)]
    series = clinic_days_of(counts, since=date(2026, 10, 21), until=date(2026, 11, 22))
    rows = clinic_risks(clinics, series, now=now, limits=LIMITS)
    assert [(row.name, row.level) for row in rows] == [
        ("Held", "hold"),
        ("Warned", "warning"),
        ("Tiny", "evidence"),
    ]
    assert rows[2].risk > rows[0].risk  # the highest rate, yet after the two acted on


def test_a_sparkline_draws_thirty_days_on_one_scale():
    counts = [count("delivered", emails=10), count("failed", emails=5, day=date(2026, 10, 22))]
    series = clinic_days_of(counts, since=date(2026, 10, 20), until=date(2026, 11, 21))
    line = sparkline_of(series[1], today=TODAY)
    sends = line.sends_points.split()
    failures = line.failures_points.split()
    assert len(sends) == len(failures) == 30
    assert sends[-1] == "120.0,1.0" and sends[0] == "0.0,14.0" and sends[1] == "4.1,27.0"
    assert failures[0] == "0.0,14.0"
    assert (line.sends, line.failures) == (15, 5)
    # A clinic with no counts at all: a flat line of 30 days.
    empty = sparkline_of(ClinicSeries.empty(TODAY, 1), today=TODAY)
    assert empty.sends_points.split()[0] == "0.0,27.0" and len(empty.sends_points.split()) == 30
