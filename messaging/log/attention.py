"""What needs a clinic's attention today: emails that failed, were reported as spam, are stuck,
still deferred or held (by the reputation guard) within the log's retention, and upcoming
appointments whose client cannot be sent a reminder (the address is suppressed for this clinic,
or the client opted out).

A practitioner sees their own part (emails they sent, appointments they hold, and those
appointments' emails); clinic admins and receptionists see the whole clinic and may narrow it to
one practitioner. Whether an address is suppressed is asked of suppression.selectors for this
clinic only, so nothing of another clinic's suppressions is read or shown."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.db.models.fields import CharField
from django.utils import timezone

from clinic.models import Appointment, Client, Clinic, Membership, User
from messaging.models import OutboundEmail
from messaging.status import EmailStatus
from suppression.selectors import applicable_suppressions


class Problem:
    """The kinds of row the page lists, as its filter names them."""

    FAILED = "failed"
    SPAM = "spam_report"
    STUCK = "stuck"
    DEFERRED = "deferred"
    HELD = "held"
    NO_REMINDER = "no_reminder"

    CHOICES = [
        (FAILED, "Failed"),
        (SPAM, "Reported as spam"),
        (STUCK, "Stuck"),
        (DEFERRED, "Still deferred"),
        (HELD, "Held"),
        (NO_REMINDER, "No reminder will go out"),
    ]
    EMAIL_PROBLEMS = frozenset({FAILED, SPAM, STUCK, DEFERRED, HELD})


# A stuck email is one support was told of that has had no outcome since.
UNSETTLED = [EmailStatus.SENDING, EmailStatus.PROCESSED]

PROBLEM_FILTERS: dict[str, Q] = {
    Problem.FAILED: Q(status=EmailStatus.FAILED),
    Problem.SPAM: Q(status=EmailStatus.SPAM_REPORT),
    Problem.STUCK: Q(flagged_stuck_at__isnull=False, status__in=UNSETTLED),
    Problem.DEFERRED: Q(status=EmailStatus.DEFERRED),
    Problem.HELD: Q(status=EmailStatus.HELD),
}

# What each row asks of staff.
PROBLEM_WORDS: dict[str, str] = {
    Problem.FAILED: "Check the address with the client; the email log says why it failed.",
    Problem.SPAM: (
        "The client reported it as spam; only their own request can lift it. The client's page "
        "says what they must do."
    ),
    Problem.STUCK: "No news from the email provider; support has been told.",
    Problem.DEFERRED: "The client's provider turned it away for now; it is still being retried.",
    Problem.HELD: (
        "Not sent yet: the clinic's email to new addresses is paused while support reviews its "
        "bounces and spam reports. It goes out when the pause is lifted; if it is urgent, contact "
        "the client another way."
    ),
}
NO_REMINDER_WORDS = {
    "opted_out": "Opted out of appointment emails: no reminder will go out.",
    "suppressed": "The address cannot be emailed: no reminder will go out.",
}


@dataclass(frozen=True)
class AttentionFilter:
    """Whose rows, and which kind: `practitioner` is None for the whole clinic."""

    practitioner: User | None = None
    problem: str = ""

    def wants(self, problem: str) -> bool:
        return not self.problem or self.problem == problem


def attention_filter(*, membership: Membership, practitioner_id: str, problem: str):
    """The filter a user may apply: a practitioner is held to their own rows whatever they ask
    for; admins and receptionists choose among the clinic's staff (an unknown id: everyone)."""
    problem = problem if problem in dict(Problem.CHOICES) else ""
    if membership.role == Membership.Role.PRACTITIONER:
        return AttentionFilter(practitioner=membership.user, problem=problem)
    chosen = None
    if practitioner_id.isdigit():
        chosen = next(
            (user for user in clinic_practitioners() if user.pk == int(practitioner_id)), None
        )
    return AttentionFilter(practitioner=chosen, problem=problem)


def clinic_practitioners() -> list[User]:
    """The clinic's staff who see clients (the filter's choices), in the current clinic's scope."""
    return [
        membership.user
        for membership in Membership.objects.filter(
            role__in=[Membership.Role.PRACTITIONER, Membership.Role.CLINIC_ADMIN],
            user__is_active=True,
        )
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "user__email")
    ]


def _problem_case() -> Case:
    return Case(
        *(When(condition, then=Value(problem)) for problem, condition in PROBLEM_FILTERS.items()),
        output_field=CharField(),
    )


def attention_emails(*, clinic: Clinic, wanted: AttentionFilter) -> QuerySet[OutboundEmail]:
    """The emails within the log's retention that need attention, newest first, each with
    `problem` (a Problem) and its client."""
    problems = [p for p in PROBLEM_FILTERS if wanted.wants(p)]
    if not problems:
        return OutboundEmail.objects.none()
    condition = Q()
    for problem in problems:
        condition |= PROBLEM_FILTERS[problem]
    since = timezone.now() - timedelta(days=settings.EMAIL_LOG_RETENTION_DAYS)
    emails = OutboundEmail.objects.filter(condition, clinic=clinic, created_at__gte=since)
    if wanted.practitioner is not None:
        # Their appointments by id, not by a join: a join to every appointment of the clinic
        # under an OR made PostgreSQL hash the whole appointment table (docs/benchmarks.md).
        held = Appointment.objects.filter(clinic=clinic, practitioner=wanted.practitioner)
        emails = emails.filter(
            Q(sent_by=wanted.practitioner) | Q(appointment_id__in=held.values("pk"))
        )
    return (
        emails.annotate(problem=_problem_case())
        .select_related("client", "sent_by")
        .only(
            "id",
            "clinic_id",
            "kind",
            "subject",
            "to_email",
            "status",
            "reason",
            "created_at",
            "flagged_stuck_at",
            "client__id",
            "client__name",
            "sent_by__first_name",
            "sent_by__last_name",
            "sent_by__email",
        )
        .order_by("-created_at", "-id")
    )


def unremindable_appointments(*, clinic: Clinic, wanted: AttentionFilter) -> QuerySet:
    """Upcoming booked appointments whose client will get no reminder from this clinic, soonest
    first, each with `why`: "opted_out", or "suppressed" (the address is suppressed for this
    clinic; what the clinic may know of why is on the client's page)."""
    if not wanted.wants(Problem.NO_REMINDER):
        return Appointment.objects.none()
    # The clinic's few unreachable clients first, then their appointments by client: read from
    # the appointments' side, the clinic's every upcoming appointment was scanned.
    suppressed = Exists(applicable_suppressions(clinic=clinic).filter(address=OuterRef("email")))
    unreachable = Client.objects.filter(clinic=clinic).filter(
        Q(appointment_comms=False) | Q(suppressed)
    )
    appointments = Appointment.objects.filter(
        clinic=clinic,
        client_id__in=unreachable.values("pk"),
        status=Appointment.Status.BOOKED,
        start__gte=timezone.now(),
    )
    if wanted.practitioner is not None:
        appointments = appointments.filter(practitioner=wanted.practitioner)
    return (
        appointments.annotate(
            why=Case(
                When(client__appointment_comms=False, then=Value("opted_out")),
                default=Value("suppressed"),
                output_field=CharField(),
            )
        )
        .select_related("client", "practitioner")
        .order_by("start", "pk")
    )
