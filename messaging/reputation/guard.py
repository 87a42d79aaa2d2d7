"""The reputation guard: every clinic shares the platform's ESP account and its reputation, so one
clinic's bad addresses (an old list imported, say) must not stop every clinic's mail. Each
minute it reads every clinic's figures over the window, warns a clinic's admins and support once
per crossing of a threshold, and at a hold threshold holds the clinic's mail to addresses it has
never reached until support releases it. The rules on a single email (`mail_held`) and the
release (`hold_release`) live here too, so there is one place for each."""

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.mail import mail_admins
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django_scopes import scopes_disabled

from clinic.audit import audit_record
from clinic.models import AuditEntry, Clinic
from messaging.models import DeliveredAddress, GuardWarning, MailHold, OutboundEmail
from messaging.reputation.figures import (
    NOT_SENT,
    Figures,
    Level,
    Thresholds,
    bounce_level,
    complaint_level,
    figures_of,
    thresholds,
)
from messaging.reputation.rollups import DayCount, day_counts
from messaging.status import EmailStatus
from notifications.rendering import notification_render
from notifications.services import notification_create_for_admins

logger = logging.getLogger(__name__)

# The addresses behind a warning, at most: enough to act on, short enough to read.
ADDRESSES_SHOWN = 50

# Why a held email waits, as the log and the sender read it: what it means, what happens next.
# Stored bare: the status says "Held", and the pages that tell the sender say "held, not sent
# yet" themselves.
HELD_REASON = (
    "Too many of this clinic's recent emails bounced or were reported as "
    "spam, so its email to addresses it has not reached before is paused while support "
    "reviews it. If it is urgent, contact the client another way."
)

# Why a held email too old to send was failed at the release instead.
HELD_TOO_OLD = (
    "Held while the clinic's mail to new addresses was on hold, and not sent: it was more than "
    "{days} days old when the hold was released. Send it again if it is still needed."
)

LEVELS = (GuardWarning.Level.WARNING, GuardWarning.Level.HOLD)


def held_reason() -> str:
    return HELD_REASON


# --- one email ---------------------------------------------------------------------------------


def held_now() -> Q:
    """`mail_held` as a condition on an email's row (its clinic and address), for a query that
    reads the email anyway: delivery's claim asks it in the same statement instead of one more
    query per send."""
    with scopes_disabled():
        standing = MailHold.objects.filter(
            clinic_id=OuterRef("clinic_id"), released_at__isnull=True
        )
        delivered = DeliveredAddress.objects.filter(
            clinic_id=OuterRef("clinic_id"), address=Lower(OuterRef("to_email"))
        )
    return (
        Q(Exists(standing))
        & ~Q(Exists(delivered))
        & ~Q(clinic__sending_connection=Clinic.Connection.OWN_SMTP)
    )


def mail_held(*, clinic: Clinic, address: str) -> bool:
    """Is mail from this clinic to this address held now? Only while a hold stands, never on the
    clinic's own SMTP server (its reputation is its own), and never to an address the clinic's
    mail has reached before (a client it knows is not the risk). One query."""
    if clinic.uses_own_smtp:
        return False
    with scopes_disabled():
        delivered = DeliveredAddress.objects.filter(
            clinic_id=OuterRef("clinic_id"), address=address.strip().lower()
        )
        return (
            MailHold.objects.filter(clinic=clinic, released_at__isnull=True)
            .exclude(Exists(delivered))
            .exists()
        )


# --- evaluation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """One measure of one clinic's figures: its level, rate and the evidence behind them."""

    measure: str
    level: Level
    rate: float
    events: int
    sends: int


def _today(clinic: Clinic, now: datetime) -> date:
    return timezone.localtime(now, clinic.tzinfo).date()


def window_start(clinic: Clinic, now: datetime, limits: Thresholds) -> date:
    """The window's first day on the clinic's clock: the last `window_days` days, today included."""
    return _today(clinic, now) - timedelta(days=limits.window_days - 1)


def measured_of(figures: Figures, limits: Thresholds) -> list[Measured]:
    """Both measures of these figures."""
    return [
        Measured(
            GuardWarning.Measure.BOUNCES,
            bounce_level(figures, limits),
            figures.bounce_rate,
            figures.bounces,
            figures.sends,
        ),
        Measured(
            GuardWarning.Measure.COMPLAINTS,
            complaint_level(figures, limits),
            figures.complaint_rate,
            figures.complaints,
            figures.sends,
        ),
    ]


@dataclass(frozen=True)
class Standing:
    """What stands before an evaluation, read once for every clinic."""

    warnings: set[tuple[int, str, str]]  # (clinic id, measure, level)
    holds: set[int]  # clinic ids
    releases: dict[int, datetime]  # clinic id: its latest release


def guard_evaluate(*, now: datetime) -> dict[str, int]:
    """Reads every clinic's counts over the window once, and for each clinic warns, ends
    warnings and holds as its figures say. A clinic with nothing to change costs no query.
    Returns what it did, for the task's log."""
    limits = thresholds()
    done = {"warned": 0, "ended": 0, "held": 0}
    with scopes_disabled():
        standing = _standing()
        # The earliest first day of any clinic's window: clocks differ by at most a day.
        since = (now - timedelta(days=limits.window_days + 1)).date()
        by_clinic: dict[int, list[DayCount]] = {}
        for count in day_counts(since=since):
            by_clinic.setdefault(count.clinic_id, []).append(count)
        concerned = set(by_clinic) | {clinic_id for clinic_id, _, _ in standing.warnings}
        # A recent release weighs the emails sent after it, whatever day they were written.
        concerned |= {
            clinic_id
            for clinic_id, released_at in standing.releases.items()
            if released_at >= now - timedelta(days=limits.window_days + 1)
        }
        for clinic in Clinic.objects.filter(pk__in=concerned).order_by("pk"):
            _evaluate_clinic(
                clinic,
                by_clinic.get(clinic.pk, []),
                now=now,
                limits=limits,
                standing=standing,
                done=done,
            )
    return done


def _standing() -> Standing:
    releases: dict[int, datetime] = {}
    holds: set[int] = set()
    for clinic_id, released_at in MailHold.objects.values_list("clinic_id", "released_at"):
        if released_at is None:
            holds.add(clinic_id)
        else:
            releases[clinic_id] = max(released_at, releases.get(clinic_id, released_at))
    warnings = set(
        GuardWarning.objects.filter(ended_at__isnull=True).values_list(
            "clinic_id", "measure", "level"
        )
    )
    return Standing(warnings=warnings, holds=holds, releases=releases)


def _evaluate_clinic(clinic, counts, *, now, limits, standing: Standing, done) -> None:
    """Weighs one clinic's counts against what stands, and writes only what changed, in one
    transaction: a hold to start, warnings to end (below their level now, so the next crossing
    is told again) and warnings to give (a crossing not told yet)."""
    first_day = window_start(clinic, now, limits)
    in_window = [count for count in counts if count.day >= first_day]
    measured = measured_of(figures_of(in_window), limits)
    held_now = clinic.pk in standing.holds
    # A clinic's own server risks only its own name: warned, never held.
    over, released_at = [], None
    if not held_now and not clinic.uses_own_smtp:
        over, released_at = _over_hold(clinic, measured, first_day, limits, standing)
    to_hold = bool(over)
    to_warn = [
        (m, level)
        for m in measured
        for level in LEVELS
        if _reaches(m.level, level) and (clinic.pk, m.measure, level) not in standing.warnings
    ]
    to_end = [
        (m.measure, level)
        for m in measured
        for level in LEVELS
        if not _reaches(m.level, level) and (clinic.pk, m.measure, level) in standing.warnings
    ]
    if not (to_hold or to_warn or to_end):
        return  # the usual case: no query at all
    try:
        with transaction.atomic():
            if to_hold:
                _hold_start(clinic, over, limits, released_at=released_at)
            for measure, level in to_end:
                GuardWarning.objects.filter(
                    clinic=clinic, measure=measure, level=level, ended_at__isnull=True
                ).update(ended_at=now)
            for m, level in to_warn:
                _warn(
                    clinic, m, level, first_day=first_day, held=held_now or to_hold, limits=limits
                )
    except IntegrityError:
        # An evaluation beside this one (a slow beat run) warned or held first: the database
        # keeps one standing warning and hold, so nobody is told twice.
        logger.info("Clinic %s was weighed by another evaluation meanwhile", clinic.pk)
        return
    done["held"] += to_hold
    done["ended"] += len(to_end)
    done["warned"] += len(to_warn)


def _over_hold(clinic, measured, first_day, limits, standing: Standing):
    """The measures at the hold level, and the release they were counted from (None for the
    window's figures). While the clinic's last release is within the window, a hold rests only
    on the emails handed over after it: support's release is not undone by the very figures it
    was given, and the emails it sent (to addresses never reached, the riskiest) count toward
    the next hold, whatever day they were written."""
    released_at = standing.releases.get(clinic.pk)
    if released_at is None or _today(clinic, released_at) < first_day:
        return [m for m in measured if m.level == "hold"], None
    since_release = measured_of(figures_since(clinic, released_at), limits)
    return [m for m in since_release if m.level == "hold"], released_at


def figures_since(clinic: Clinic, released_at: datetime) -> Figures:
    """The clinic's figures over the emails handed over after `released_at`, by figures.py's
    rules (a send, a hard bounce, a complaint), read from the email table in one query. Only
    emails written since HELD_EMAIL_MAX_DAYS before the release can have been handed over after
    it (older held ones were failed by it), so the read stays within the clinic's recent rows
    (the (clinic, created_at) index)."""
    written_since = released_at - timedelta(days=settings.HELD_EMAIL_MAX_DAYS + 1)
    handed_over = Q(refusal="") & ~Q(esp_message_id="") & ~Q(status__in=NOT_SENT)
    with scopes_disabled():
        found = OutboundEmail.objects.filter(
            handed_over, clinic=clinic, created_at__gte=written_since, sent_at__gt=released_at
        ).aggregate(
            sends=Count("pk"),
            bounces=Count("pk", filter=Q(status=EmailStatus.FAILED, failure_cause="")),
            complaints=Count("pk", filter=Q(status=EmailStatus.SPAM_REPORT)),
        )
    return Figures(**found)


def _reaches(level: Level, wanted: str) -> bool:
    """A hold level has passed the warning level too."""
    order = {"": 0, "warning": 1, "hold": 2}
    return order[level] >= order[wanted]


def _percent(rate: float) -> str:
    """A rate as people read it: one decimal, or two below 1% (complaint rates are small)."""
    return f"{rate:.1f}%" if rate >= 1 else f"{rate:.2f}%"


MEASURE_WORDS = {
    GuardWarning.Measure.BOUNCES: "Hard bounces",
    GuardWarning.Measure.COMPLAINTS: "Spam complaints",
}


def hold_why(measured: list[Measured], limits: Thresholds, *, clinic=None, released_at=None) -> str:
    """Why a hold began, in words with its figures, e.g. "Hard bounces reached 9.1% of 312
    emails in the last 7 days (hold at 8%).", or "... of 600 emails sent since the last hold
    was released (30 Nov 14:05) ..." when it rests on the emails sent after a release."""
    if released_at is None:
        over = f"in the last {limits.window_days} days"
    else:
        at = timezone.localtime(released_at, clinic.tzinfo)
        over = f"sent since the last hold was released ({at:%-d %b %H:%M})"
    return " ".join(
        f"{MEASURE_WORDS[m.measure]} reached {_percent(m.rate)} of {m.sends} emails {over} "
        f"(hold at {_threshold(m.measure, 'hold', limits):g}%)."
        for m in measured
    )


def _hold_start(clinic: Clinic, measured: list[Measured], limits, *, released_at=None) -> MailHold:
    """Starts a hold (the database allows one standing hold per clinic: a second evaluation
    beside this one fails, and skips the clinic)."""
    figures = {m.measure: m for m in measured}
    bounces = figures.get(GuardWarning.Measure.BOUNCES)
    complaints = figures.get(GuardWarning.Measure.COMPLAINTS)
    hold = MailHold.objects.create(
        clinic=clinic,
        why=hold_why(measured, limits, clinic=clinic, released_at=released_at),
        sends=measured[0].sends,
        bounces=bounces.events if bounces else 0,
        complaints=complaints.events if complaints else 0,
    )
    logger.warning("Mail to new addresses held for clinic %s: %s", clinic.pk, hold.why)
    return hold


def addresses_behind(clinic: Clinic, measure: str, *, first_day: date) -> list[str]:
    """The distinct addresses of the clinic's hard-bounced or complained emails in the window,
    at most ADDRESSES_SHOWN, the newest first."""
    since = timezone.make_aware(datetime.combine(first_day, time.min), clinic.tzinfo)
    if measure == GuardWarning.Measure.BOUNCES:
        which = Q(status=EmailStatus.FAILED, refusal="", failure_cause="") & ~Q(esp_message_id="")
    else:
        which = Q(status=EmailStatus.SPAM_REPORT)
    seen: list[str] = []
    rows = (
        OutboundEmail.objects.filter(which, clinic=clinic, created_at__gte=since)
        .order_by("-created_at")
        .values_list("to_email", flat=True)
    )
    for address in rows.iterator(chunk_size=500):
        address = address.lower()
        if address not in seen:
            seen.append(address)
            if len(seen) == ADDRESSES_SHOWN:
                break
    return seen


def _warn(clinic, m: Measured, level: str, *, first_day, held: bool, limits) -> GuardWarning:
    """Records the crossing and tells the clinic's admins and support, once."""
    warning = GuardWarning.objects.create(
        clinic=clinic,
        measure=m.measure,
        level=level,
        rate=m.rate,
        sends=m.sends,
        events=m.events,
        addresses="\n".join(addresses_behind(clinic, m.measure, first_day=first_day)),
    )
    context = {
        "warning": warning,
        "rate": _percent(m.rate),
        "limits": limits,
        "held": held,
        "own_smtp": clinic.uses_own_smtp,
        "addresses": warning.addresses.splitlines(),
        "level_at": f"{_threshold(m.measure, level, limits):g}",
        "hold_at": f"{_threshold(m.measure, 'hold', limits):g}",
    }
    text = notification_render("guard_warning", context, clinic=clinic)
    notification_create_for_admins(clinic=clinic, text=text)
    _tell_support(
        f"{clinic.name}: {MEASURE_WORDS[m.measure].lower()} at {_percent(m.rate)} "
        f"({warning.get_level_display().lower()})",
        text,
    )
    return warning


def _threshold(measure: str, level: str, limits: Thresholds) -> float:
    """The percentage at which a measure reaches a level."""
    if measure == GuardWarning.Measure.BOUNCES:
        return limits.bounce_hold if level == "hold" else limits.bounce_warning
    return limits.complaint_hold if level == "hold" else limits.complaint_warning


def _tell_support(subject: str, text: str) -> None:
    """Support reads warnings and holds in admin; with ADMINS set, they are emailed too."""
    if settings.ADMINS:
        mail_admins(subject, text, fail_silently=True)


# --- release -----------------------------------------------------------------------------------


class ReleaseRefused(Exception):
    """A release that cannot be done, in words for support."""


@dataclass(frozen=True)
class Released:
    sent: int
    failed: int


def held_emails_counts(*, clinic: Clinic, now: datetime | None = None) -> Released:
    """How many of the clinic's held emails a release now would send, and how many it would fail
    as too old: shown to support before they release."""
    too_old = (now or timezone.now()) - timedelta(days=settings.HELD_EMAIL_MAX_DAYS)
    with scopes_disabled():
        held = OutboundEmail.objects.filter(clinic=clinic, status=EmailStatus.HELD)
        return Released(
            sent=held.filter(created_at__gte=too_old).count(),
            failed=held.filter(created_at__lt=too_old).count(),
        )


def hold_release(*, hold: MailHold, by, reason: str) -> Released:
    """Support lifts a hold, with a reason (recorded and audited). In one transaction the
    clinic's held emails move on: to `sending` and the outbox (once: the UPDATE takes only rows
    still `held`, so a second release sends nothing twice), or, written more than
    HELD_EMAIL_MAX_DAYS ago, `failed` with words. The clinic's admins are told."""
    reason = (reason or "").strip()
    if not reason:
        raise ReleaseRefused("Give a reason for the release: it is kept with the hold.")
    now = timezone.now()
    with transaction.atomic(), scopes_disabled():
        locked = MailHold.objects.select_for_update().get(pk=hold.pk)
        if locked.released_at is not None:
            raise ReleaseRefused("This hold was already released.")
        locked.released_at, locked.released_by, locked.release_reason = now, by, reason
        locked.save(update_fields=["released_at", "released_by", "release_reason"])
        clinic = locked.clinic
        sent_ids, failed_ids = _held_emails_move(clinic, now=now)
        _enqueue(clinic, sent_ids)
        _tell_of_old_ones(failed_ids)
        audit_record(
            actor=by,
            action=AuditEntry.Action.RELEASED_MAIL_HOLD,
            clinic=clinic,
            target=f"mail hold {locked.pk}",
            reason=reason,
            sent=len(sent_ids),
            failed=len(failed_ids),
        )
        released = Released(sent=len(sent_ids), failed=len(failed_ids))
        text = notification_render(
            "mail_hold_released",
            {"released": released, "days": settings.HELD_EMAIL_MAX_DAYS},
            clinic=clinic,
        )
        notification_create_for_admins(clinic=clinic, text=text)
    hold.released_at, hold.released_by, hold.release_reason = now, by, reason
    logger.info("Mail hold %s released: %d sent, %d failed", hold.pk, *released.__dict__.values())
    return released


def held_emails_unheld(*, now: datetime) -> int:
    """The safety net of the beat job: held emails of clinics no hold stands for are moved on as
    a release moves them (sent, or failed as too old with their senders told). An email saved
    `held` while support released the hold (its sender read the hold before the release
    committed) would otherwise wait for ever, as nothing else moves it. Reads the held emails
    only (the `email_held` index), so it costs next to nothing while none waits. Returns how
    many emails it moved."""
    with scopes_disabled():
        standing = MailHold.objects.filter(
            clinic_id=OuterRef("clinic_id"), released_at__isnull=True
        )
        clinic_ids = set(
            OutboundEmail.objects.filter(status=EmailStatus.HELD)
            .exclude(Exists(standing))
            .values_list("clinic_id", flat=True)
            .distinct()
        )
        moved = 0
        for clinic in Clinic.objects.filter(pk__in=clinic_ids).order_by("pk"):
            moved += _unheld(clinic, now=now)
    return moved


def _unheld(clinic: Clinic, *, now: datetime) -> int:
    """Moves one clinic's held emails on, unless a hold began for it meanwhile. A release beside
    this moves each email once: the UPDATE takes only rows still held."""
    with transaction.atomic():
        if MailHold.objects.filter(clinic=clinic, released_at__isnull=True).exists():
            return 0
        sent_ids, failed_ids = _held_emails_move(clinic, now=now)
        _enqueue(clinic, sent_ids)
        _tell_of_old_ones(failed_ids)
    if sent_ids or failed_ids:
        logger.warning(
            "Clinic %s had held emails and no standing hold: %d sent, %d failed as too old",
            clinic.pk,
            len(sent_ids),
            len(failed_ids),
        )
    return len(sent_ids) + len(failed_ids)


def _held_emails_move(clinic: Clinic, *, now: datetime) -> tuple[list, list]:
    """Moves the clinic's held emails on, each only if still held; returns the ids sent and
    failed."""
    too_old = now - timedelta(days=settings.HELD_EMAIL_MAX_DAYS)
    words = HELD_TOO_OLD.format(days=settings.HELD_EMAIL_MAX_DAYS)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE messaging_outboundemail
            SET status = %s, reason = '', status_changed_at = %s, claimed_until = NULL,
                next_attempt_at = NULL
            WHERE clinic_id = %s AND status = %s AND created_at >= %s
            RETURNING id
            """,
            [EmailStatus.SENDING, now, clinic.pk, EmailStatus.HELD, too_old],
        )
        sent = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            """
            UPDATE messaging_outboundemail
            SET status = %s, reason = %s, failure_cause = 'sender', status_changed_at = %s,
                claimed_until = NULL, next_attempt_at = NULL
            WHERE clinic_id = %s AND status = %s AND created_at < %s
            RETURNING id
            """,
            [EmailStatus.FAILED, words, now, clinic.pk, EmailStatus.HELD, too_old],
        )
        failed = [row[0] for row in cursor.fetchall()]
    return sent, failed


def _enqueue(clinic: Clinic, email_ids: list) -> None:
    # Imported here: the outbox imports this module for `mail_held`.
    from messaging.sending.outbox import emails_enqueue

    emails_enqueue(
        emails=[
            OutboundEmail(id=email_id, clinic_id=clinic.pk, status=EmailStatus.SENDING)
            for email_id in email_ids
        ]
    )


def _tell_of_old_ones(email_ids: list) -> None:
    """Whoever waits for a held email that was failed as too old hears of it, as of any
    failure."""
    # Imported here: delivery asks this module whether an email is held.
    from messaging.sending.delivery import email_failure_tell

    emails = OutboundEmail.objects.filter(pk__in=email_ids).select_related(
        "clinic", "client", "sent_by", "appointment__practitioner"
    )
    for email in emails:
        email_failure_tell(email)
