"""Retention of every table that holds patient data: past its period a row goes (or its personal
fields are emptied), and a row just inside it stays as it was. Run as the nightly task runs it."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.utils import timezone

from clinic.models import AuditEntry, SmartFormRequest
from messaging.log.retention import (
    audit_entries_purge,
    day_counts_purge,
    delivered_addresses_purge,
    guard_records_purge,
    log_purge,
    notifications_purge,
    reactivation_asks_purge,
    received_batches_purge,
    removal_requests_purge,
    smart_form_answers_clear,
    suppression_evidence_clear,
)
from messaging.log.tasks import retention_purge_task
from messaging.models import (
    DeliveredAddress,
    EmailCountChange,
    EmailDayCount,
    GuardWarning,
    MailHold,
    OutboundEmail,
    ReceivedBatch,
)
from messaging.reputation.rollups import day_counts, day_counts_recounted
from notifications.models import Notification
from suppression.models import (
    EspRemoval,
    ReactivationAsk,
    RemovalRequest,
    Suppression,
    SuppressionHistory,
)
from tests.factories import (
    AuditEntryFactory,
    ClientFactory,
    DeliveredAddressFactory,
    EmailDayCountFactory,
    GuardWarningFactory,
    MailHoldFactory,
    NotificationFactory,
    OutboundEmailFactory,
    ReactivationAskFactory,
    SmartFormRequestFactory,
)

pytestmark = pytest.mark.usefixtures("unscoped")


def ago(days: float):
    return timezone.now() - timedelta(days=days)


def batch(received_days_ago: float, *, failed: bool) -> ReceivedBatch:
    return ReceivedBatch.objects.create(
        esp="postmark",
        received_at=ago(received_days_ago),
        event_count=1,
        payload=[{"recipient": "bob@example.test", "description": "Mailbox full"}],
        failed_at=ago(received_days_ago) if failed else None,
        error="could not apply" if failed else "",
    )


def test_received_batches_older_than_their_period_go_and_recent_ones_stay(db, settings):
    settings.RECEIVED_BATCH_RETENTION_DAYS = 30
    old_failed, old_waiting = batch(31, failed=True), batch(31, failed=False)
    recent_failed, recent_waiting = batch(29, failed=True), batch(0, failed=False)

    assert received_batches_purge(before=ago(30)) == 2

    kept = set(ReceivedBatch.objects.values_list("pk", flat=True))
    assert kept == {recent_failed.pk, recent_waiting.pk}
    assert not {old_failed.pk, old_waiting.pk} & kept


def test_notifications_older_than_their_period_go_and_recent_ones_stay(cast):
    old = NotificationFactory(clinic=cast.alice_clinic, recipient=cast.alice, text="Bob Brown")
    recent = NotificationFactory(clinic=cast.alice_clinic, recipient=cast.alice, text="Bob")
    read_recently = NotificationFactory(
        clinic=cast.charlie_clinic, recipient=cast.charlie, read_at=timezone.now()
    )
    Notification.objects.filter(pk=old.pk).update(created_at=ago(91))
    Notification.objects.filter(pk=recent.pk).update(created_at=ago(89))

    assert notifications_purge(before=ago(90)) == 1

    assert set(Notification.objects.values_list("pk", flat=True)) == {recent.pk, read_recently.pk}


def suppression(address: str, *, active: bool = True, **fields) -> Suppression:
    return Suppression.objects.create(
        address=address, stream="postmark", reason="hard_bounce", active=active, **fields
    )


def removal_request(on: Suppression, *, received_days_ago: float, decided_days_ago=None):
    request = RemovalRequest.objects.create(
        suppression=on,
        from_address=on.address,
        subject="Please email me again",
        text="I am Bob Brown, my mailbox works again.",
        message_id=f"<{received_days_ago}-{decided_days_ago}@example.test>",
        esp="postmark",
    )
    fields = {"received_at": ago(received_days_ago)}
    if decided_days_ago is not None:
        fields |= {"state": RemovalRequest.State.DECLINED, "decided_at": ago(decided_days_ago)}
    RemovalRequest.objects.filter(pk=request.pk).update(**fields)
    return request


def test_decided_removal_requests_go_after_their_period_and_pending_ones_after_a_longer_one(
    db, settings
):
    on = suppression("bob@example.test")
    decided_long_ago = removal_request(on, received_days_ago=100, decided_days_ago=91)
    decided_recently = removal_request(on, received_days_ago=100, decided_days_ago=89)
    pending_for_ever = removal_request(on, received_days_ago=366)
    pending_for_months = removal_request(on, received_days_ago=200)

    assert removal_requests_purge(decided_before=ago(90), received_before=ago(365)) == 2

    kept = set(RemovalRequest.objects.values_list("pk", flat=True))
    assert kept == {decided_recently.pk, pending_for_months.pk}
    assert not {decided_long_ago.pk, pending_for_ever.pk} & kept


def answered_ask(clinic, days_ago: float | None) -> ReactivationAsk:
    """An ask answered `days_ago`, or still open."""
    ask = ReactivationAskFactory(clinic=clinic, note="Spoke to Aoife O’Brien: typo fixed")
    if days_ago is not None:
        ReactivationAsk.objects.filter(pk=ask.pk).update(
            state=ReactivationAsk.State.DECLINED, answered_at=ago(days_ago), answer="No"
        )
    return ask


def test_answered_reactivation_asks_go_after_their_period_and_open_ones_stay(cast):
    old, recent = answered_ask(cast.alice_clinic, 91), answered_ask(cast.alice_clinic, 89)
    open_for_long = answered_ask(cast.charlie_clinic, None)
    ReactivationAsk.objects.filter(pk=open_for_long.pk).update(asked_at=ago(400))
    assert reactivation_asks_purge(answered_before=ago(90)) == 1
    kept = set(ReactivationAsk.objects.values_list("pk", flat=True))
    assert kept == {recent.pk, open_for_long.pk}
    assert old.pk not in kept


def test_smart_form_answers_are_emptied_after_their_period_and_the_request_stays(cast):
    answers = {"reason": "Lower back pain since March", "consent": "True"}
    old = SmartFormRequestFactory(client=cast.bob, state="completed", responses=answers)
    recent = SmartFormRequestFactory(client=cast.bob, state="completed", responses=answers)
    pending = SmartFormRequestFactory(client=cast.bob)
    SmartFormRequest.objects.filter(pk=old.pk).update(completed_at=ago(31))
    SmartFormRequest.objects.filter(pk=recent.pk).update(completed_at=ago(29))

    assert smart_form_answers_clear(completed_before=ago(30)) == 1

    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.responses == {}
    assert old.state == "completed" and old.completed_at is not None
    assert recent.responses == answers
    assert SmartFormRequest.objects.filter(pk=pending.pk).exists()


def lifted(address: str, *, days_ago: float, **fields) -> Suppression:
    """A suppression reactivated `days_ago`, with the ESP's words and the evidence of both."""
    lifted_one = suppression(
        address, active=False, diagnostic=f"550 5.1.1 <{address}>: no such user", **fields
    )
    for action, evidence in (
        ("suppressed", {"diagnostic": f"550 <{address}>", "email_id": "e1"}),
        ("reactivated", {"client_request": {"from_address": address, "reference": "r1"}}),
    ):
        entry = SuppressionHistory.objects.create(
            suppression=lifted_one, action=action, evidence=evidence
        )
        SuppressionHistory.objects.filter(pk=entry.pk).update(at=ago(days_ago))
    return lifted_one


def test_suppression_evidence_is_emptied_once_lifted_for_its_period_and_kept_while_active(db):
    long_lifted = lifted("old@example.test", days_ago=91, esp_removal=EspRemoval.DONE)
    recently_lifted = lifted("recent@example.test", days_ago=89, esp_removal=EspRemoval.DONE)
    removal_under_way = lifted("pending@example.test", days_ago=91, esp_removal="pending")
    active = suppression("active@example.test", diagnostic="550 5.1.1 no such user")
    SuppressionHistory.objects.create(
        suppression=active, action="suppressed", evidence={"diagnostic": "550"}
    )
    SuppressionHistory.objects.filter(suppression=active).update(at=ago(400))

    assert suppression_evidence_clear(inactive_before=ago(90)) == 3  # a diagnostic, 2 evidences

    long_lifted.refresh_from_db()
    assert long_lifted.diagnostic == ""
    assert long_lifted.address == "old@example.test"  # a new bounce finds the same row
    assert [h.evidence for h in long_lifted.history.all()] == [{}, {}]
    assert sorted(h.action for h in long_lifted.history.all()) == ["reactivated", "suppressed"]
    for kept in (recently_lifted, removal_under_way, active):
        kept.refresh_from_db()
        assert kept.diagnostic
        assert all(h.evidence for h in kept.history.all())


def test_audit_entries_are_kept_longest_and_go_after_their_period(cast):
    old = AuditEntryFactory(clinic=cast.alice_clinic, actor=cast.alice)
    recent = AuditEntryFactory(clinic=cast.alice_clinic, actor=cast.alice)
    AuditEntry.objects.filter(pk=old.pk).update(at=ago(401))
    AuditEntry.objects.filter(pk=recent.pk).update(at=ago(399))

    assert audit_entries_purge(before=ago(400)) == 1

    assert list(AuditEntry.objects.values_list("pk", flat=True)) == [recent.pk]


def test_day_counts_go_a_day_after_their_emails_and_the_changes_are_folded_not_kept(cast):
    """The log purge takes the emails off the counts (the email table's trigger); what is left
    of days before the period and a day more goes; the changes are folded, never kept."""
    bob_emails = OutboundEmailFactory.create_batch(3, client=cast.bob)
    OutboundEmail.objects.filter(pk__in=[e.pk for e in bob_emails[:2]]).update(created_at=ago(30.5))
    assert log_purge(before=ago(30)) == 2
    lingering = EmailDayCountFactory(clinic=cast.alice_clinic, day=ago(32).date())
    edge = EmailDayCountFactory(clinic=cast.charlie_clinic, day=ago(31).date())

    assert day_counts_purge(before=ago(31).date()) == 1

    assert not EmailCountChange.objects.exists()
    assert set(EmailDayCount.objects.values_list("pk", flat=True)) > {edge.pk}
    assert not EmailDayCount.objects.filter(pk=lingering.pk).exists()
    edge.delete()
    since = ago(400).date()
    assert sorted(day_counts(since=since), key=repr) == sorted(day_counts_recounted(), key=repr)
    assert sum(count.emails for count in day_counts(since=since)) == 1  # Bob's one recent email


def test_a_delivered_address_is_kept_while_one_of_the_clinics_clients_has_it(cast):
    kept = DeliveredAddressFactory(clinic=cast.alice_clinic, address="bob@example.test")
    ClientFactory(clinic=cast.alice_clinic, email="Erin.Eve@Example.test")
    kept_any_case = DeliveredAddressFactory(
        clinic=cast.alice_clinic, address="erin.eve@example.test"
    )
    # Dana is Charlie's client: her address delivered for Alice's clinic is not Alice's to keep.
    others = DeliveredAddressFactory(clinic=cast.alice_clinic, address="dana@example.test")
    changed = DeliveredAddressFactory(clinic=cast.charlie_clinic, address="dana.old@example.test")

    assert delivered_addresses_purge() == 2

    assert set(DeliveredAddress.objects.values_list("pk", flat=True)) == {kept.pk, kept_any_case.pk}
    assert not {others.pk, changed.pk} & set(DeliveredAddress.objects.values_list("pk", flat=True))


def test_holds_and_warnings_are_kept_as_long_as_the_audit_trail_and_while_in_force(cast):
    released_long_ago = MailHoldFactory(clinic=cast.alice_clinic, released_at=ago(401))
    released_lately = MailHoldFactory(clinic=cast.alice_clinic, released_at=ago(399))
    in_force = MailHoldFactory(clinic=cast.charlie_clinic)
    MailHold.objects.filter(pk=in_force.pk).update(started_at=ago(900))
    ended_long_ago = GuardWarningFactory(clinic=cast.alice_clinic, ended_at=ago(401))
    ended_lately = GuardWarningFactory(
        clinic=cast.alice_clinic, ended_at=ago(399), level=GuardWarning.Level.HOLD
    )
    standing = GuardWarningFactory(clinic=cast.charlie_clinic, created_at=ago(900))

    assert guard_records_purge(before=ago(400)) == 2

    assert set(MailHold.objects.values_list("pk", flat=True)) == {released_lately.pk, in_force.pk}
    assert set(GuardWarning.objects.values_list("pk", flat=True)) == {ended_lately.pk, standing.pk}
    assert not MailHold.objects.filter(pk=released_long_ago.pk).exists()
    assert not GuardWarning.objects.filter(pk=ended_long_ago.pk).exists()


def test_the_nightly_task_applies_every_period_from_its_setting(cast, settings):
    """One row past its period in each table, and its twin just inside it: the task takes the
    first of each, with the periods read from the settings."""
    settings.RECEIVED_BATCH_RETENTION_DAYS = 5
    settings.NOTIFICATION_RETENTION_DAYS = 6
    settings.REMOVAL_REQUEST_RETENTION_DAYS = 7
    settings.REMOVAL_REQUEST_PENDING_RETENTION_DAYS = 8
    settings.SMART_FORM_ANSWERS_RETENTION_DAYS = 9
    settings.SUPPRESSION_EVIDENCE_RETENTION_DAYS = 10
    settings.AUDIT_RETENTION_DAYS = 11
    settings.EMAIL_LOG_RETENTION_DAYS = 4
    batch(5.5, failed=True), batch(4.5, failed=True)
    for days in (6.5, 5.5):
        note = NotificationFactory(clinic=cast.alice_clinic, recipient=cast.alice)
        Notification.objects.filter(pk=note.pk).update(created_at=ago(days))
    on = suppression("bob@example.test")
    removal_request(on, received_days_ago=20, decided_days_ago=7.5)
    removal_request(on, received_days_ago=20, decided_days_ago=6.5)
    removal_request(on, received_days_ago=8.5)
    removal_request(on, received_days_ago=7.5)
    for days in (9.5, 8.5):
        form_request = SmartFormRequestFactory(client=cast.bob, responses={"reason": "Back pain"})
        SmartFormRequest.objects.filter(pk=form_request.pk).update(completed_at=ago(days))
    lifted("old@example.test", days_ago=10.5, esp_removal=EspRemoval.DONE)
    lifted("recent@example.test", days_ago=9.5, esp_removal=EspRemoval.DONE)
    for days in (11.5, 10.5):
        entry = AuditEntryFactory(clinic=cast.alice_clinic, actor=cast.alice)
        AuditEntry.objects.filter(pk=entry.pk).update(at=ago(days))
        MailHoldFactory(clinic=cast.alice_clinic, released_at=ago(days))
        GuardWarningFactory(clinic=cast.alice_clinic, ended_at=ago(days))
    for days in (5.5, 4.5):  # counts of days a day older than the log's period, and not
        EmailDayCountFactory(clinic=cast.alice_clinic, day=ago(days + 1).date())
    DeliveredAddressFactory(clinic=cast.alice_clinic, address=cast.bob.email)
    DeliveredAddressFactory(clinic=cast.alice_clinic, address="no.client@example.test")
    answered_ask(cast.alice_clinic, 7.5), answered_ask(cast.alice_clinic, 6.5)

    # 1 batch, 1 notification, 2 removal requests, 1 form's answers, 1 diagnostic and 2
    # evidences, 1 audit entry, 1 day count, 1 delivered address, 1 hold and 1 warning, 1 ask.
    assert retention_purge_task() == 14
    assert ReactivationAsk.objects.count() == 1

    assert ReceivedBatch.objects.count() == 1
    assert Notification.objects.count() == 1
    assert RemovalRequest.objects.count() == 2
    assert SmartFormRequest.objects.exclude(responses={}).count() == 1
    assert Suppression.objects.exclude(diagnostic="").count() == 1
    assert SuppressionHistory.objects.exclude(evidence={}).count() == 2
    assert AuditEntry.objects.count() == 1
    assert EmailDayCount.objects.count() == 1
    assert list(DeliveredAddress.objects.values_list("address", flat=True)) == [cast.bob.email]
    assert MailHold.objects.count() == GuardWarning.objects.count() == 1


# Rows that go with the row they belong to, so they need no rule of their own.
GO_WITH_THEIR_ROW = {"EmailAttachment": "deleted with its email"}


def test_every_table_of_the_email_log_has_its_row_in_the_retention_table():
    """A new model of the email module (messaging, suppression, notifications) must say how long
    it is kept: its row in docs/operations.md's retention table, or the row it goes with."""
    doc = (Path(__file__).resolve().parent.parent / "docs" / "operations.md").read_text()
    table = doc.split("## Retention: how long patient data is kept", 1)[1].split("\n## ", 1)[0]
    named = {line.split("|")[1] for line in table.splitlines() if line.startswith("| `")}
    missing = [
        model.__name__
        for app in ("messaging", "suppression", "notifications")
        for model in apps.get_app_config(app).get_models()
        if model.__name__ not in GO_WITH_THEIR_ROW
        and not any(f"`{model.__name__}`" in cell for cell in named)
    ]
    assert missing == []
