"""The delivery overview for a clinic's admins, the emails behind each reason for failure, and
support's platform overview in admin. The figures are read from the per-day counts
(rollups.day_counts): a fixed number of queries whatever the number of emails or clinics."""

from datetime import timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import F, Value
from django.http import Http404
from django.shortcuts import render
from django.template.defaultfilters import date as date_filter
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from clinic.access import clinic_admin_required
from clinic.models import Clinic
from messaging.models import GuardWarning, MailHold, OutboundEmail
from messaging.reputation import html, overview
from messaging.reputation.figures import figures_of, thresholds
from messaging.reputation.platform_counts import clinic_days
from messaging.reputation.rollups import day_counts

EMAILS_PER_PAGE = 25
DAY_FORMAT = "D j M"


def _label_day(day) -> str:
    return date_filter(day, DAY_FORMAT)


@require_GET
@clinic_admin_required
def delivery_overview(request):
    """How the clinic's mail did over 30 days, its rates against the thresholds, the hold if one
    stands, and the reasons its emails failed: two queries (counts, standing hold)."""
    clinic = request.clinic
    limits = thresholds()
    today = overview.clinic_today(clinic.tzinfo, timezone.now())
    first = overview.first_day(today, overview.OVERVIEW_DAYS)
    counts = day_counts(since=first, clinic_ids=[clinic.pk])
    days = overview.days_of(counts, today=today)
    chart = overview.chart_of(days, label_day=_label_day)
    spans = {
        limits.window_days: figures_of(
            overview.since(counts, overview.first_day(today, limits.window_days))
        ),
        overview.OVERVIEW_DAYS: figures_of(counts),
    }
    context = {
        "days": days,
        "total": sum(day.total for day in days),
        "first": first,
        "today": today,
        "chart": chart,
        "chart_marks": html.chart_marks(chart),
        "day_rows": html.day_rows(days, label_day=_label_day),
        "series": overview.SERIES,
        "measures": overview.measures_of(spans, limits),
        "limits": limits,
        "reasons": overview.top_reasons(counts),
        "hold": MailHold.objects.filter(clinic=clinic, released_at__isnull=True).first(),
        "own_smtp": clinic.uses_own_smtp,
        "span_days": overview.OVERVIEW_DAYS,
        "day_format": DAY_FORMAT,
    }
    return render(request, "reputation/overview.html", context)


@require_GET
@clinic_admin_required
def reason_emails(request):
    """The clinic's emails of the last 30 days behind one reason, newest first, each linking to
    its client's log."""
    reason = overview.REASONS.get(request.GET.get("reason", ""))
    if reason is None:
        raise Http404("No such reason.")
    clinic = request.clinic
    today = overview.clinic_today(clinic.tzinfo, timezone.now())
    start = overview.day_start(overview.first_day(today, overview.OVERVIEW_DAYS), clinic.tzinfo)
    emails = (
        OutboundEmail.objects.filter(clinic=clinic, created_at__gte=start)
        .filter(overview.reason_filter(reason.code))
        .select_related("client")
        .only(
            "id",
            "kind",
            "subject",
            "to_email",
            "status",
            "reason",
            "created_at",
            "client__id",
            "client__name",
        )
        .order_by("-created_at", "-id")
    )
    page = Paginator(emails, EMAILS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "reason": reason,
        "page": page,
        "page_query": urlencode({"reason": reason.code}),
        "span_days": overview.OVERVIEW_DAYS,
    }
    return render(request, "reputation/reason_emails.html", context)


def platform_overview(request):
    """Every clinic's window figures, level, standing hold and 30-day trend, the riskiest first,
    for support (wrapped by the admin site: superusers with their second factor, every clinic,
    UTC). Three queries whatever the number of clinics: clinics, counts, holds and warnings."""
    limits = thresholds()
    now = timezone.now()
    clinics = [
        (
            row["id"],
            row["name"],
            row["sending_connection"] == Clinic.Connection.OWN_SMTP,
            ZoneInfo(row["time_zone"]),
        )
        for row in Clinic.objects.order_by("name").values(
            "id", "name", "sending_connection", "time_zone"
        )
    ]
    # Every clinic's 30 days: from the earliest "30 days ago" of any clock (UTC's day before)
    # to the latest today (UTC's day after).
    utc_today = now.date()
    series = clinic_days(
        since=overview.first_day(utc_today, overview.OVERVIEW_DAYS + 1),
        until=utc_today + timedelta(days=1),
    )
    rows = overview.clinic_risks(clinics, series, now=now, limits=limits)
    standing = _standing_holds_and_warnings()
    context = {
        **admin.site.each_context(request),
        "title": "Platform overview",
        "rows": [
            html.clinic_row(
                row,
                held=row.clinic_id in standing["holds"],
                hold_url=_hold_url(standing["holds"].get(row.clinic_id)),
                warnings=standing["warnings"].get(row.clinic_id, []),
            )
            for row in rows
        ],
        "limits": limits,
        "span_days": overview.OVERVIEW_DAYS,
    }
    return render(request, "reputation/platform_overview.html", context)


def _hold_url(hold_id: int | None) -> str:
    """The standing hold's admin page, when MailHold has one (the guard's admin registers it)."""
    if hold_id is None:
        return ""
    try:
        return reverse("admin:messaging_mailhold_change", args=[hold_id])
    except NoReverseMatch:
        return ""


def _standing_holds_and_warnings() -> dict:
    """Standing holds (clinic -> hold id) and warnings (clinic -> "Hard bounces: warning"), read
    in one query."""
    holds = MailHold.objects.filter(released_at__isnull=True).values_list(
        "clinic_id", "id", Value("hold"), Value("")
    )
    warnings = GuardWarning.objects.filter(ended_at__isnull=True).values_list(
        "clinic_id", Value(0), F("measure"), F("level")
    )
    found: dict = {"holds": {}, "warnings": {}}
    measures = dict(GuardWarning.Measure.choices)
    for clinic_id, hold_id, measure, level in holds.union(warnings, all=True):
        if measure == "hold":
            found["holds"][clinic_id] = hold_id
        else:
            found["warnings"].setdefault(clinic_id, []).append(f"{measures[measure]}: {level}")
    return found
