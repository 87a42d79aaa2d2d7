"""The delivery overview a clinic's admins read (/overview/) and the platform overview support
reads in admin: how a clinic's mail did day by day, its bounce and complaint rates against the
guard's thresholds and the email providers' own, and why its emails failed, in words. Figures come
from the per-day counts the database keeps (rollups.day_counts), never from a scan of the email
table. The functions here are pure unless their docstring says they read the database."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q

from messaging.reputation.figures import (
    Figures,
    Level,
    Thresholds,
    bounce_level,
    complaint_level,
    is_bounce,
    is_complaint,
    is_send,
)
from messaging.reputation.platform_counts import ClinicSeries
from messaging.reputation.rollups import DayCount
from messaging.status import EmailStatus
from suppression.models import Refusal

# The overview's span: the email log keeps 30 days, so every count here has its emails behind it.
OVERVIEW_DAYS = 30


# ---------------------------------------------------------------------------------------------
# Days on the clinic's clock


def clinic_today(zone: ZoneInfo, now: datetime) -> date:
    return now.astimezone(zone).date()


def first_day(today: date, days: int) -> date:
    """The first of the last `days` days, today included."""
    return today - timedelta(days=days - 1)


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The moment a day begins on the clinic's clock: emails saved from then on count on it."""
    return datetime.combine(day, time.min, tzinfo=zone)


# ---------------------------------------------------------------------------------------------
# The chart: each day's emails stacked by what became of them


@dataclass(frozen=True)
class Series:
    code: str
    label: str
    meaning: str
    colour: str  # an SVG fill (the CSP forbids inline styles); the table carries it too


# Colours from Okabe and Ito's palette for colour-blind readers, darkened where a bar must stand
# out on white. Order is the stack's, from the baseline up.
SERIES = (
    Series("delivered", "Delivered", "reached the client's mailbox (opened or not)", "#1b7a4a"),
    Series("handed_over", "Sent", "handed over; no news of delivery yet", "#56b4e9"),
    Series("trying", "Still trying", "waiting to go, or the receiving server deferred", "#e69f00"),
    Series("held", "Held", "held while the clinic's mail to new addresses is on hold", "#7a5195"),
    Series(
        "not_sent",
        "Not sent",
        "refused before sending (no address, suppressed, opted out)",
        "#6b6b6b",
    ),
    Series("failed", "Failed", "the email did not arrive", "#c0392b"),
    Series("spam", "Spam report", "the client marked it as spam", "#1d1d1d"),
)
SERIES_OF_STATUS = {
    EmailStatus.DELIVERED: "delivered",
    EmailStatus.OPENED: "delivered",
    EmailStatus.CLICKED: "delivered",
    EmailStatus.PROCESSED: "handed_over",
    EmailStatus.SENT: "handed_over",
    EmailStatus.SENDING: "trying",
    EmailStatus.DEFERRED: "trying",
    EmailStatus.HELD: "held",
    EmailStatus.FAILED: "failed",
    EmailStatus.SPAM_REPORT: "spam",
}


def series_of(count: DayCount) -> str:
    """Which bar segment a count belongs to: a refused email was never sent, whatever else."""
    if count.refusal:
        return "not_sent"
    return SERIES_OF_STATUS[count.status]


@dataclass
class Day:
    day: date
    emails: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.emails.values())

    def cells(self) -> list[int]:
        """The day's emails in the series' order, for the table."""
        return [self.emails.get(series.code, 0) for series in SERIES]


def days_of(counts: Iterable[DayCount], *, today: date, days: int = OVERVIEW_DAYS) -> list[Day]:
    """Every day of the span, oldest first, empty days included (a gap is news too)."""
    first = first_day(today, days)
    by_day = {first + timedelta(days=n): Day(first + timedelta(days=n)) for n in range(days)}
    for count in counts:
        if count.day in by_day:
            emails = by_day[count.day].emails
            key = series_of(count)
            emails[key] = emails.get(key, 0) + count.emails
    return list(by_day.values())


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class DayLabel:
    x: float
    label: str
    anchor: str  # SVG text-anchor: the last day's label ends at its bar, inside the chart


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    baseline: float
    bar_width: float
    bars: list[Bar]
    ticks: list[Tick]
    labels: list[DayLabel]


CHART_WIDTH, CHART_HEIGHT = 760, 260
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 48, 752, 12, 224


def nice_ceiling(value: int) -> int:
    """The axis's top: the smallest 1, 2, 4, 5, 6 or 8 times a power of ten at or above the
    busiest day, so the bars fill most of the height and the gridlines read as round numbers."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for factor in (1, 2, 4, 5, 6, 8):
            if step * factor >= value:
                return step * factor
        step *= 10


def chart_of(days: list[Day], *, label_day) -> Chart:
    """The stacked bars in SVG units, computed here so the template only draws them.
    `label_day` names a day as the clinic reads it (a date format on its clock)."""
    top = nice_ceiling(max((day.total for day in days), default=0))
    plot_height = PLOT_BOTTOM - PLOT_TOP
    slot = (PLOT_RIGHT - PLOT_LEFT) / max(len(days), 1)
    bar_width = round(slot * 0.72, 2)
    bars, labels = [], []
    for index, day in enumerate(days):
        x = round(PLOT_LEFT + index * slot + (slot - bar_width) / 2, 2)
        stacked = 0
        for series in SERIES:
            emails = day.emails.get(series.code, 0)
            if not emails:
                continue
            height = plot_height * emails / top
            y = PLOT_BOTTOM - plot_height * (stacked + emails) / top
            stacked += emails
            title = f"{label_day(day.day)}: {emails} {series.label.lower()}"
            bars.append(Bar(x, round(y, 2), round(height, 2), series.colour, title))
        if index % 7 == (len(days) - 1) % 7:  # today and every week before it
            last = index == len(days) - 1
            labels.append(
                DayLabel(
                    round(x + (bar_width if last else bar_width / 2), 2),
                    label_day(day.day),
                    "end" if last else "middle",
                )
            )
    ticks = [
        Tick(round(PLOT_BOTTOM - plot_height * share, 2), f"{int(top * share):,}")
        for share in (0, 0.5, 1)
        if float(top * share).is_integer()  # no gridline at half of an odd top
    ]
    return Chart(
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        plot_left=PLOT_LEFT,
        plot_right=PLOT_RIGHT,
        baseline=PLOT_BOTTOM,
        bar_width=bar_width,
        bars=bars,
        ticks=ticks,
        labels=labels,
    )


# ---------------------------------------------------------------------------------------------
# Why emails failed, in words


@dataclass(frozen=True)
class Reason:
    code: str
    label: str
    meaning: str
    what_to_do: str


REASONS = {
    reason.code: reason
    for reason in (
        Reason(
            "hard_bounce",
            "Hard bounce",
            "The address does not exist or refuses mail.",
            "Ask the client for their address and correct it on their page.",
        ),
        Reason(
            "complaint",
            "Spam complaint",
            "The client marked the email as spam.",
            "Ask the client whether they still want emails from the clinic.",
        ),
        Reason(
            "temporary",
            "The receiving server kept deferring",
            "Their mail server kept saying “try later” until the email provider gave up. "
            "Nothing is wrong with the address.",
            "Send it again later if it is still needed.",
        ),
        Reason(
            "sender",
            "A problem on our side",
            "The email provider or the platform refused the email for a reason of ours, not the "
            "client's address. Support has been told.",
            "Send it again later; if it keeps happening, contact support.",
        ),
        Reason(
            "not_handed_over",
            "Not handed over",
            "The email provider or the clinic's own mail server refused the email before "
            "sending it.",
            "Read the reason on the client's page; correct the address if it is wrong.",
        ),
        Reason(
            "held",
            "Held",
            "Not sent yet: the clinic's mail to new addresses is on hold.",
            "Correct the addresses that bounced, then ask support to release the hold.",
        ),
        *(
            Reason(
                refusal.value,
                f"Refused: {refusal.label.lower()}",
                {
                    Refusal.NO_ADDRESS: "Not sent: the client has no email address on file.",
                    Refusal.SUPPRESSED: "Not sent: the address bounced or reported spam before.",
                    Refusal.OPTED_OUT: "Not sent: the client opted out of appointment emails.",
                }[refusal],
                {
                    Refusal.NO_ADDRESS: "Add the client's address on their page.",
                    Refusal.SUPPRESSED: "Check the address with the client; support can "
                    "reactivate it once it is right.",
                    Refusal.OPTED_OUT: "Nothing, unless the client asks to get them again.",
                }[refusal],
            )
            for refusal in Refusal
        ),
    )
}


def reason_of(count: DayCount) -> str | None:
    """The reason a counted email did not reach its client, as a code of REASONS, or None when
    nothing went wrong (delivered, on its way). The same rules as `reason_filter`."""
    if count.refusal:
        return count.refusal
    if count.status == EmailStatus.HELD:
        return "held"
    if count.status == EmailStatus.SPAM_REPORT:
        return "complaint"
    if count.status != EmailStatus.FAILED:
        return None
    if count.failure_cause in ("temporary", "sender"):
        return count.failure_cause
    if count.failure_cause:
        return "sender"  # a cause we do not know yet is ours to explain, never the address's
    return "hard_bounce" if count.handed_over else "not_handed_over"


def reason_filter(code: str) -> Q:
    """The emails behind a reason, as a filter on OutboundEmail: exactly those `reason_of`
    puts under it (handed over = the ESP gave it a message id, as the counts say)."""
    not_refused = Q(refusal="")
    if code in Refusal.values:
        return Q(refusal=code)
    if code == "held":
        return not_refused & Q(status=EmailStatus.HELD)
    if code == "complaint":
        return not_refused & Q(status=EmailStatus.SPAM_REPORT)
    failed = not_refused & Q(status=EmailStatus.FAILED)
    if code == "temporary":
        return failed & Q(failure_cause="temporary")
    if code == "sender":
        return failed & ~Q(failure_cause__in=["", "temporary"])
    if code == "hard_bounce":
        return failed & Q(failure_cause="") & ~Q(esp_message_id="")
    if code == "not_handed_over":
        return failed & Q(failure_cause="", esp_message_id="")
    raise KeyError(code)


@dataclass(frozen=True)
class ReasonCount:
    reason: Reason
    emails: int
    share: float  # percent of all the span's emails


def top_reasons(counts: Iterable[DayCount]) -> list[ReasonCount]:
    """Every reason with emails behind it, the most first."""
    counts = list(counts)
    total = sum(count.emails for count in counts)
    emails: dict[str, int] = defaultdict(int)
    for count in counts:
        code = reason_of(count)
        if code:
            emails[code] += count.emails
    ranked = sorted(emails.items(), key=lambda item: (-item[1], item[0]))
    return [
        ReasonCount(REASONS[code], number, 100 * number / total if total else 0.0)
        for code, number in ranked
    ]


# ---------------------------------------------------------------------------------------------
# The rates against the thresholds


@dataclass(frozen=True)
class ProviderLimit:
    who: str
    what: str
    percent: float


# The email providers' own limits (their published policies), which the guard's stay below.
BOUNCE_LIMITS = (
    ProviderLimit("Amazon SES", "reviews the account at", 5.0),
    ProviderLimit("Amazon SES", "may pause sending at", 10.0),
)
COMPLAINT_LIMITS = (
    ProviderLimit("Amazon SES", "reviews the account at", 0.1),
    ProviderLimit("Gmail and Yahoo", "refuse bulk mail above", 0.3),
    ProviderLimit("Amazon SES", "may pause sending at", 0.5),
)

LEVEL_WORDS = {
    "hold": "At the hold threshold",
    "warning": "At the warning threshold",
    "": "Below the warning threshold",
    "evidence": "Not enough emails yet to judge",
    "few": "Past the warning rate, on too few to act on",
}


@dataclass(frozen=True)
class Rate:
    """One measure over one span: its rate, events, and where it stands."""

    span_days: int
    sends: int
    events: int
    percent: float
    level: Level
    evidence: bool
    enough_sends: bool = True
    past_warning: bool = False

    @property
    def standing(self) -> str:
        """Where the rate stands: judged when the evidence is enough; with enough emails but too
        few events, below the warning (a busy clinic with no bounces is fine) or past it on too
        few to act on; with too few emails, not judged at all."""
        if self.evidence:
            return self.level
        if not self.enough_sends:
            return "evidence"
        return "few" if self.past_warning else ""

    @property
    def words(self) -> str:
        return LEVEL_WORDS[self.standing]


@dataclass(frozen=True)
class Measure:
    code: str
    label: str
    event_words: str
    warning: float
    hold: float
    limits: tuple[ProviderLimit, ...]
    rates: list[Rate]


def evidence_met(figures: Figures, events: int, limits: Thresholds) -> bool:
    """The guard acts only on enough emails and enough events (figures._level's rule)."""
    return figures.sends >= limits.min_sends and events >= limits.min_events


def measures_of(spans: dict[int, Figures], limits: Thresholds) -> list[Measure]:
    """Hard bounces and spam complaints over each span (days -> figures), against the guard's
    thresholds and the providers'."""
    bounce_rates, complaint_rates = [], []
    for days, figures in spans.items():
        bounce_rates.append(
            Rate(
                days,
                figures.sends,
                figures.bounces,
                figures.bounce_rate,
                bounce_level(figures, limits),
                evidence_met(figures, figures.bounces, limits),
                figures.sends >= limits.min_sends,
                figures.bounce_rate >= limits.bounce_warning,
            )
        )
        complaint_rates.append(
            Rate(
                days,
                figures.sends,
                figures.complaints,
                figures.complaint_rate,
                complaint_level(figures, limits),
                evidence_met(figures, figures.complaints, limits),
                figures.sends >= limits.min_sends,
                figures.complaint_rate >= limits.complaint_warning,
            )
        )
    return [
        Measure(
            "bounces",
            "Hard bounces",
            "hard bounces",
            limits.bounce_warning,
            limits.bounce_hold,
            BOUNCE_LIMITS,
            bounce_rates,
        ),
        Measure(
            "complaints",
            "Spam complaints",
            "spam complaints",
            limits.complaint_warning,
            limits.complaint_hold,
            COMPLAINT_LIMITS,
            complaint_rates,
        ),
    ]


def since(counts: Iterable[DayCount], first: date) -> list[DayCount]:
    return [count for count in counts if count.day >= first]


# ---------------------------------------------------------------------------------------------
# The platform overview: every clinic, the riskiest first


@dataclass(frozen=True)
class ClinicRisk:
    """One clinic's row in support's overview."""

    clinic_id: int
    name: str
    own_smtp: bool
    figures: Figures
    level: str  # "hold", "warning", "" (fine) or "evidence" (not enough to judge)
    risk: float  # the highest rate / hold threshold across both measures
    trend: "Sparkline"
    notes: tuple[str, ...] = ()  # rates past a threshold on too little evidence to act on


LEVEL_ORDER = {"hold": 3, "warning": 2, "": 1, "evidence": 0}


def clinic_level(figures: Figures, limits: Thresholds) -> str:
    """The worse of the two measures' levels, or "evidence" when neither may be judged."""
    levels = [bounce_level(figures, limits), complaint_level(figures, limits)]
    judged = evidence_met(figures, figures.bounces, limits) or evidence_met(
        figures, figures.complaints, limits
    )
    worst = max(levels, key=lambda level: LEVEL_ORDER[level])
    if worst:
        return worst
    return "" if judged else "evidence"


def unjudged(figures: Figures, limits: Thresholds) -> tuple[str, ...]:
    """Rates at a threshold that the guard may not act on yet (too few emails or events), in
    words: support sees why a clinic high in the list is not held."""
    notes = []
    for label, events, rate, warning in (
        ("Hard bounces", figures.bounces, figures.bounce_rate, limits.bounce_warning),
        ("Spam complaints", figures.complaints, figures.complaint_rate, limits.complaint_warning),
    ):
        if rate >= warning and not evidence_met(figures, events, limits):
            missing = []
            if events < limits.min_events:
                missing.append(f"{events} of {limits.min_events} events")
            if figures.sends < limits.min_sends:
                missing.append(f"{figures.sends} of {limits.min_sends} emails")
            notes.append(f"{label} {rate:.2f}%: too few to act on ({', '.join(missing)})")
    return tuple(notes)


def risk_of(figures: Figures, limits: Thresholds) -> float:
    return max(
        figures.bounce_rate / limits.bounce_hold, figures.complaint_rate / limits.complaint_hold
    )


def clinic_days_of(
    counts: Iterable[DayCount], *, since: date, until: date
) -> dict[int, ClinicSeries]:
    """Counts summed per clinic and day into sends, hard bounces and complaints: what
    `platform_counts.clinic_days` reads from PostgreSQL, here from `day_counts`' rows."""
    days = (until - since).days + 1
    found: dict[int, ClinicSeries] = {}
    for count in counts:
        index = (count.day - since).days
        if not 0 <= index < days:
            continue
        series = found.setdefault(count.clinic_id, ClinicSeries.empty(since, days))
        series.sends[index] += count.emails if is_send(count) else 0
        series.bounces[index] += count.emails if is_bounce(count) else 0
        series.complaints[index] += count.emails if is_complaint(count) else 0
    return found


@dataclass(frozen=True)
class Sparkline:
    width: int
    height: int
    sends_points: str
    failures_points: str
    sends: int
    failures: int


SPARK_WIDTH, SPARK_HEIGHT = 120, 28


def sparkline_of(series: ClinicSeries, *, today: date) -> Sparkline:
    """Daily sends and daily hard bounces plus complaints over the 30 days to `today`, as two
    SVG polylines on one scale (the busiest day's)."""
    first = first_day(today, OVERVIEW_DAYS)
    span = series.span(first, today)
    sends = _padded(series.sends[span], (series.first - first).days)
    failures = _padded(
        [b + c for b, c in zip(series.bounces[span], series.complaints[span], strict=True)],
        (series.first - first).days,
    )
    top = max(max(sends), max(failures), 1)
    step = SPARK_WIDTH / (OVERVIEW_DAYS - 1)

    def points(values: list[int]) -> str:
        return " ".join(
            f"{index * step:.1f},{SPARK_HEIGHT - 1 - (SPARK_HEIGHT - 2) * value / top:.1f}"
            for index, value in enumerate(values)
        )

    return Sparkline(
        SPARK_WIDTH, SPARK_HEIGHT, points(sends), points(failures), sum(sends), sum(failures)
    )


def _padded(values: list[int], missing_before: int) -> list[int]:
    """The span's days, with days before the series began (or after it ended) as zero."""
    values = [0] * max(missing_before, 0) + values
    return (values + [0] * OVERVIEW_DAYS)[:OVERVIEW_DAYS]


def clinic_risks(
    clinics: Iterable[tuple[int, str, bool, ZoneInfo]],
    series: dict[int, ClinicSeries],
    *,
    now: datetime,
    limits: Thresholds,
) -> list[ClinicRisk]:
    """Every clinic's window figures, level and trend, the riskiest first; `clinics` as (id,
    name, sends through its own server, zone), `series` as `platform_counts.clinic_days` reads
    them. Each clinic's days are on its own clock."""
    rows = []
    for clinic_id, name, own_smtp, zone in clinics:
        today = clinic_today(zone, now)
        mine = series.get(clinic_id) or ClinicSeries.empty(today, 1)
        figures = mine.figures(first_day(today, limits.window_days), today)
        rows.append(
            ClinicRisk(
                clinic_id=clinic_id,
                name=name,
                own_smtp=own_smtp,
                figures=figures,
                level=clinic_level(figures, limits),
                risk=risk_of(figures, limits),
                trend=sparkline_of(mine, today=today),
                notes=unjudged(figures, limits),
            )
        )
    rows.sort(key=_riskiest_first)
    return rows


def _riskiest_first(row: ClinicRisk) -> tuple:
    """Clinics the guard acts on (held, then warned) first, then by rate over the hold
    threshold: a small clinic's high rate on a handful of emails comes after them, not before."""
    acted_on = LEVEL_ORDER[row.level] if row.level in ("hold", "warning") else 0
    return (-acted_on, -row.risk, row.name)
