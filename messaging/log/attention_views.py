"""The clinic's "Needs attention" page."""

from django.conf import settings
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from clinic.access import clinic_staff_required
from clinic.models import Membership
from messaging.log.attention import (
    NO_REMINDER_WORDS,
    PROBLEM_WORDS,
    Problem,
    attention_emails,
    attention_filter,
    clinic_practitioners,
    unremindable_appointments,
)

PROBLEM_LABELS = dict(Problem.CHOICES)
EMAILS_PER_PAGE = 25
APPOINTMENTS_SHOWN = 25


@require_GET
@clinic_staff_required
def needs_attention(request):
    """Failed, spam-reported, stuck and deferred emails, and upcoming appointments that will get
    no reminder: a practitioner's own, or the clinic's for admins and receptionists. A fixed
    number of queries whatever the number of rows: each row's client and sender are joined."""
    membership = request.membership
    wanted = attention_filter(
        membership=membership,
        practitioner_id=request.GET.get("practitioner", ""),
        problem=request.GET.get("problem", ""),
    )
    emails = Paginator(attention_emails(clinic=request.clinic, wanted=wanted), EMAILS_PER_PAGE)
    page = emails.get_page(request.GET.get("page"))
    rows = list(page.object_list)
    for email in rows:
        email.problem_label = PROBLEM_LABELS[email.problem]
        email.what_to_do = PROBLEM_WORDS[email.problem]
    appointments = unremindable_appointments(clinic=request.clinic, wanted=wanted)
    shown = list(appointments[: APPOINTMENTS_SHOWN + 1])
    for appointment in shown:
        appointment.what_to_do = NO_REMINDER_WORDS[appointment.why]
    everyone = membership.role != Membership.Role.PRACTITIONER
    context = {
        "wanted": wanted,
        "page": page,
        "rows": rows,
        "page_query": _query_without_page(request),
        "appointments": shown[:APPOINTMENTS_SHOWN],
        "more_appointments": len(shown) > APPOINTMENTS_SHOWN,
        "problems": Problem.CHOICES,
        "practitioners": clinic_practitioners() if everyone else [],
        "everyone": everyone,
        "retention_days": settings.EMAIL_LOG_RETENTION_DAYS,
    }
    return render(request, "messaging/needs_attention.html", context)


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()
