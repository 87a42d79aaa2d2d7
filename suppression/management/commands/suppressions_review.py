"""A one-off, audited review of the active suppressions under the current rules.

Each active suppression made by an ESP event is re-read from that event, and from the events of
every other email its history says it was suppressed for since it was last reactivated, with the
rules in messaging/tracking/mapping.py (docs/esp-events.md). A suppression none of those events
would make now, and that nothing else backs (a refusal at send time, support), is listed;
with --apply it is lifted through the reactivation service, with the reason recorded in its
history, by the system user, and the admins of each clinic concerned are told. Clients stay opted
out of appointment emails: consent is the clinic's to restore. Suppressions with no source event
(made by hand, or on a refusal at send time) are left alone and counted.

Running it again changes nothing: a lifted suppression is no longer active.
"""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction
from django_scopes import scope, scopes_disabled

from clinic.models import Client, Clinic, User
from notifications.rendering import notification_render
from notifications.services import notification_create_for_admins
from suppression.models import Suppression, SuppressionHistory, SuppressionReason
from suppression.services import Refused, suppression_reactivate
from suppression.streams import ESP_NAMES, suppression_stream

# Who lifts a suppression on review, in its history: a user no one can log in as.
SYSTEM_USER_EMAIL = "suppressions-review@system.invalid"
SYSTEM_USER_NAME = ("Suppressions review", "(system)")

# What an event was that the address did not cause, by its cause (mapping.SENDER, TEMPORARY).
MEANINGS = {
    "sender": "a failure of ours (our sending reputation, policy, content or request), "
    "not of the address",
    "temporary": "a temporary failure after which the provider stopped trying; nothing is "
    "wrong with the address",
}
SUPPRESSED_AT = ("suppressed", "suppressed again")


@dataclass
class Finding:
    suppression: Suppression
    event: Any  # the EmailEvent it was made from
    why: str = ""


@dataclass
class Review:
    to_lift: list[Finding] = field(default_factory=list)
    kept: list[Finding] = field(default_factory=list)
    left_alone: Counter = field(default_factory=Counter)
    renamed: list[tuple[Finding, str]] = field(default_factory=list)


class Command(BaseCommand):
    help = (
        "Re-reads every active suppression's source event with the current rules "
        "(docs/esp-events.md) and lists those the rules would not make now. A dry run unless "
        "--apply, which lifts them with a recorded reason, by the system user, and tells each "
        "clinic concerned. Clients are not opted back in."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--apply",
            action="store_true",
            help="lift the suppressions listed (default: list them only)",
        )

    def handle(self, *args, apply: bool, **options) -> None:
        with scopes_disabled():
            review = suppressions_review()
            self._report(review, applying=apply)
            if apply:
                self._apply(review)

    def _report(self, review: Review, *, applying: bool) -> None:
        total = len(review.to_lift) + len(review.kept) + sum(review.left_alone.values())
        self.stdout.write(f"{total} active suppressions reviewed against the documented rules.")
        verb = "To lift" if applying else "Would lift (dry run: nothing is changed; --apply lifts)"
        self.stdout.write(f"{verb}: {len(review.to_lift)}")
        for finding in review.to_lift:
            suppression = finding.suppression
            self.stdout.write(
                f"  {suppression.address} on {suppression.stream} ({suppression.reason}, "
                f"event {finding.event.pk}): {finding.why}"
            )
        self.stdout.write(f"Kept, the documented rules make them too: {len(review.kept)}")
        for finding, reason in review.renamed:
            suppression = finding.suppression
            self.stdout.write(
                f"  {suppression.address} on {suppression.stream}: kept as {suppression.reason}; "
                f"the rules would now say {reason}"
            )
        left = review.left_alone
        self.stdout.write(
            f"Left alone: {left['no source event']} with no source event (suppressed by hand or "
            f"refused at send time), {left['by support']} suppressed by support, "
            f"{left['event gone']} whose source event is no longer kept, "
            f"{left['other evidence']} also suppressed by a refusal at send time or by hand"
        )

    def _apply(self, review: Review) -> None:
        lifted, refused, notified = 0, [], 0
        actor = None
        for finding in review.to_lift:
            actor = actor or system_user()
            try:
                with transaction.atomic():
                    notified += suppression_lift(finding, actor=actor)
            except Refused as refusal:
                refused.append((finding, str(refusal)))
            else:
                lifted += 1
        self.stdout.write(
            self.style.SUCCESS(
                f"Lifted {lifted}"
                + (
                    f", each by {SYSTEM_USER_EMAIL} with its reason in its history; {notified} "
                    "clinic admin notifications. Clients stay opted out of appointment emails: "
                    "the clinic opts them back in."
                    if lifted
                    else "."
                )
            )
        )
        for finding, why in refused:
            self.stdout.write(
                self.style.WARNING(
                    f"  Not lifted: {finding.suppression.address} on {finding.suppression.stream}:"
                    f" {why}"
                )
            )


def suppressions_review() -> Review:
    """What the current rules make of every active suppression (scopes disabled)."""
    review = Review()
    for suppression in Suppression.objects.filter(active=True).order_by("pk"):
        if suppression.reason == SuppressionReason.MANUAL:
            review.left_alone["by support"] += 1
            continue
        if suppression.source_event_id is None:
            review.left_alone["no source event"] += 1
            continue
        source = _email_events().filter(pk=suppression.source_event_id).first()
        if source is None:
            review.left_alone["event gone"] += 1
            continue
        finding = Finding(suppression, source)
        verdict = _verdict(source)
        if verdict.suppress:
            review.kept.append(finding)
            if verdict.suppress != suppression.reason:
                review.renamed.append((finding, verdict.suppress))
            continue
        backing, otherwise = _evidence(suppression, source)
        if any(_verdict(event).suppress for event in backing):
            review.kept.append(finding)  # another event since still makes it
            continue
        if otherwise:
            review.left_alone["other evidence"] += 1
            continue
        finding.why = _why(source, verdict)
        review.to_lift.append(finding)
    return review


def suppression_lift(finding: Finding, *, actor) -> int:
    """Lifts one suppression through the reactivation service and tells the admins of each
    clinic concerned; how many notifications. Call inside a transaction."""
    suppression = Suppression.objects.select_for_update().get(pk=finding.suppression.pk)
    reviewed = finding.suppression
    if suppression.active and (suppression.times_seen, suppression.source_event_id) != (
        reviewed.times_seen,
        reviewed.source_event_id,
    ):
        raise Refused("suppressed again since it was reviewed: run the review again")
    # Read before the lift, which forgets the suppression's causes.
    caused = set(suppression.caused_by.values_list("pk", flat=True))
    source_email = _outbound_emails().filter(pk=finding.event.email_id).first()
    concerned = _clinics_concerned(suppression, source_email, caused)
    suppression_reactivate(
        suppression=suppression,
        actor=actor,
        reason=f"Reviewed: {finding.why} under the documented rules",
        admins_told_by_caller=True,  # below, with what the review found
    )
    notified = 0
    # Least disclosure: the reason and the event only for the clinics whose emails caused it.
    causes = caused | ({source_email.clinic_id} if source_email else set())
    for clinic in concerned:
        clients = list(Client.objects.filter(clinic=clinic, email=suppression.address))
        opted_out = [client for client in clients if not client.appointment_comms]
        with scope(clinic=clinic.pk):
            notified += len(
                notification_create_for_admins(
                    clinic=clinic,
                    text=notification_render(
                        "suppression_lifted",
                        {
                            "address": suppression.address,
                            "provider": ESP_NAMES.get(suppression.stream, suppression.stream),
                            "disclosed": clinic.pk in causes,
                            "reason": suppression.get_reason_display(),
                            "why": finding.why,
                            "opted_out": [client.name for client in opted_out],
                        },
                        clinic=clinic,
                    ),
                    client=clients[0] if len(clients) == 1 else None,
                    email_id=(
                        source_email.id
                        if source_email and source_email.clinic_id == clinic.pk
                        else None
                    ),
                )
            )
    return notified


def system_user() -> User:
    """The user a review's changes are recorded as: inactive, with no usable password."""
    user, created = User.objects.get_or_create(
        email=SYSTEM_USER_EMAIL,
        defaults={
            "first_name": SYSTEM_USER_NAME[0],
            "last_name": SYSTEM_USER_NAME[1],
            "is_active": False,
        },
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _email_events():
    # messaging sits above suppression (docs/architecture.md): its models are looked up, as the
    # suppression admin does, rather than imported.
    return apps.get_model("messaging", "EmailEvent").objects.all()


def _outbound_emails():
    return apps.get_model("messaging", "OutboundEmail").objects.all()


def _verdict(event):
    # The one rule book; imported here, when the review runs, for the same reason.
    from messaging.tracking.mapping import verdict_for

    return verdict_for(event.esp, event.event_type, event.raw)


def _suppressions_since_reactivated(suppression: Suppression) -> list[SuppressionHistory]:
    """The times it was suppressed since it was last reactivated, from its history."""
    history = SuppressionHistory.objects.filter(suppression=suppression)
    last = history.filter(action="reactivated").order_by("-at").first()
    made = history.filter(action__in=SUPPRESSED_AT)
    return list(made.filter(at__gt=last.at) if last else made)


def _evidence(suppression: Suppression, source) -> tuple[list, bool]:
    """The events that suppressed it since it was last reactivated (each email it was
    suppressed for, in its history, read by its own events), and whether something else did
    too: a refusal at send time (an email with no such event) or support (an actor)."""
    made = _suppressions_since_reactivated(suppression)
    email_ids = {(entry.evidence or {}).get("email_id", "") for entry in made}
    events = (
        _email_events()
        .filter(
            email_id__in=[email_id for email_id in email_ids if email_id] + [source.email_id],
            esp=suppression.stream,
        )
        .exclude(suppress="")
    )
    backing = {event.pk: event for event in events}
    backing[source.pk] = source
    emails_with_events = {str(event.email_id) for event in backing.values()}
    otherwise = any(
        entry.actor_id is not None
        or (entry.evidence or {}).get("email_id", "") not in emails_with_events
        for entry in made
    )
    return sorted(backing.values(), key=lambda event: event.pk), otherwise


def _clinics_concerned(suppression: Suppression, source_email, caused: set[int]) -> list[Clinic]:
    """The clinic whose email the event was about, the clinics whose emails caused the
    suppression, and every clinic with a client at this address whose mail is checked against
    this stream's list."""
    concerned = {source_email.clinic_id} if source_email else set()
    concerned |= caused
    for clinic in Clinic.objects.filter(clients__email=suppression.address).distinct():
        if suppression_stream(clinic) == suppression.stream or clinic.pk in caused:
            concerned.add(clinic.pk)
    return list(Clinic.objects.filter(pk__in=concerned).order_by("pk"))


def _why(event, verdict) -> str:
    """What the event was and what the documented rules make of it, in words."""
    provider = ESP_NAMES.get(event.esp, event.esp)
    if verdict.cause in MEANINGS:
        meaning = MEANINGS[verdict.cause]
    elif verdict.opt_out:
        meaning = (
            "an unsubscribe, which opts the client out of appointment emails without "
            "suppressing the address"
        )
    elif verdict.status == "deferred":
        meaning = "a delay while the provider was still trying"
    elif verdict.status == "failed":
        meaning = "a failure the provider does not put down to the address"
    else:
        meaning = "not a failure of the email"
    return f"{provider}'s {_described(event)} was {meaning}"


def _described(event) -> str:
    """The event as its ESP names it: its type and the fields that classify it."""
    raw = event.raw if isinstance(event.raw, dict) else {}
    if event.esp == "mailgun":
        data = raw.get("event-data", raw) if isinstance(raw.get("event-data", raw), dict) else {}
        status = (
            data.get("delivery-status") if isinstance(data.get("delivery-status"), dict) else {}
        )
        parts = [data.get("severity"), data.get("reason"), status.get("enhanced-code")]
        kind = data.get("event")
    elif event.esp == "postmark":
        parts = [raw.get("Type"), raw.get("SuppressionReason")]
        kind = raw.get("RecordType")
    elif event.esp == "amazon_ses":
        kind = raw.get("eventType") or raw.get("notificationType")
        detail = raw.get(str(kind or "").lower()) if kind in ("Bounce", "Complaint") else None
        detail = detail if isinstance(detail, dict) else {}
        parts = [
            detail.get("bounceType"),
            detail.get("bounceSubType"),
            detail.get("complaintFeedbackType"),
            detail.get("complaintSubType"),
        ]
    elif event.esp == "sendgrid":
        kind = raw.get("event")
        parts = [raw.get("type"), raw.get("bounce_classification")]
        if kind == "dropped":
            parts.append(raw.get("reason"))
    else:
        kind, parts = None, []
    named = ", ".join(str(part) for part in parts if part)
    kind = kind or event.event_type
    return f"{kind} event ({named})" if named else f"{kind} event"
