"""The overviews' repeated fragments (the chart's bars, the table of days, support's row per
clinic) as HTML built here with format_html, which escapes every value as a template would. At
platform size the template loops over these thousands of values took most of each page's time
(every number passed through Django's localisation); the templates keep the rest."""

from collections.abc import Callable
from datetime import date

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from messaging.reputation.overview import OVERVIEW_DAYS, Chart, ClinicRisk, Day

LEVEL_HTML = {
    "hold": "<strong>Hold</strong>",
    "warning": "<strong>Warning</strong>",
    "": "Fine",
    "evidence": "Not enough evidence",
}


def chart_marks(chart: Chart) -> SafeString:
    """The chart's gridlines with their figures, its stacked bars (each titled with its day and
    figure) and its day labels, in SVG."""
    ticks = format_html_join(
        "",
        '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#d8dde5" stroke-width="1"/>'
        '<text x="{}" y="{}" text-anchor="end" dominant-baseline="middle" font-size="12" '
        'fill="#5b6575">{}</text>',
        (
            (chart.plot_left, chart.plot_right, t.y, t.y, chart.plot_left - 6, t.y, t.label)
            for t in chart.ticks
        ),
    )
    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="#ffffff" '
        'stroke-width="0.5"><title>{}</title></rect>',
        ((b.x, b.y, chart.bar_width, b.height, b.colour, b.title) for b in chart.bars),
    )
    labels = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="{}" font-size="12" fill="#1d2430">{}</text>',
        ((label.x, chart.baseline + 20, label.anchor, label.label) for label in chart.labels),
    )
    return ticks + bars + labels


def day_rows(days: list[Day], *, label_day: Callable[[date], str]) -> SafeString:
    """One table row per day: its label on the clinic's clock, its emails per series, in all."""
    return format_html_join(
        "",
        '<tr><th scope="row"><time datetime="{}">{}</time></th>{}<td>{}</td></tr>',
        (
            (
                day.day.isoformat(),
                label_day(day.day),
                format_html_join("", "<td>{}</td>", ((cell,) for cell in day.cells())),
                day.total,
            )
            for day in days
        ),
    )


def clinic_row(risk: ClinicRisk, *, hold_url: str, held: bool, warnings: list[str]) -> SafeString:
    """Support's row for one clinic: figures, connection, level with its warnings and notes,
    standing hold, and the 30-day trend."""
    notes = format_html_join(
        "",
        '<br><span class="help">{}</span>',
        [(f"Standing warning: {warning}",) for warning in warnings] + [(n,) for n in risk.notes],
    )
    if hold_url:
        hold = format_html('<a href="{}">On hold: open it</a>', hold_url)
    else:
        hold = "On hold" if held else "None"
    figures, trend = risk.figures, risk.trend
    return format_html(
        '<tr data-clinic="{}" data-level="{}"><th scope="row">{}</th><td>{}</td><td>{}</td>'
        "<td>{}%</td><td>{}</td><td>{}%</td><td>{}</td><td>{}{}</td><td>{}</td>"
        '<td><svg width="{}" height="{}" viewBox="0 0 {} {}" role="img" aria-label="{} sent and '
        '{} hard bounces or complaints in {} days"><polyline points="{}" fill="none" '
        'stroke="#1f5fbf" stroke-width="1.5"/><polyline points="{}" fill="none" stroke="#c0392b" '
        'stroke-width="1.5"/></svg></td></tr>',
        risk.clinic_id,
        risk.level or "fine",
        risk.name,
        figures.sends,
        figures.bounces,
        f"{figures.bounce_rate:.2f}",
        figures.complaints,
        f"{figures.complaint_rate:.2f}",
        "Own SMTP: never held" if risk.own_smtp else "Platform",
        mark_safe(LEVEL_HTML[risk.level]),  # noqa: S308 (this module's constants)
        notes,
        hold,
        trend.width,
        trend.height,
        trend.width,
        trend.height,
        trend.sends,
        trend.failures,
        OVERVIEW_DAYS,
        trend.sends_points,
        trend.failures_points,
    )
