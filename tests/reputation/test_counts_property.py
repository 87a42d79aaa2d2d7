"""For any sequence of sends and events, the per-day counts the database keeps (EmailDayCount and
the changes not folded yet) equal a recount of the email table. Each step takes the product's own
path: emails prepared by the outbox (some refused), handed over as delivery records it, failed as
delivery fails them, ESP events kept and drained as a webhook's are, held and released, deleted
by retention, a clinic's clock changed; the fold runs at any point, and once while another
connection writes."""

import threading
import uuid
from datetime import UTC, datetime

import psycopg
import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_scopes import scopes_disabled
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from messaging.log.retention import log_purge
from messaging.models import EmailCountChange, EmailDayCount, EmailKind, OutboundEmail
from messaging.reputation.rollups import (
    counts_fold,
    counts_rebuild,
    day_counts,
    day_counts_recounted,
)
from messaging.sending.delivery import _claim, _record_sent, email_fail
from messaging.sending.outbox import email_prepare
from messaging.status import EmailStatus
from messaging.tracking.drain import inbox_drain
from messaging.tracking.receive import events_receive
from messaging.tracking.rows import EventRow
from tests.factories import AppointmentFactory, ClientFactory, ClinicFactory, OutboundEmailFactory

EPOCH = datetime(2000, 1, 1).date()
ZONES = ["Europe/London", "America/New_York", "Australia/Sydney", "Asia/Tokyo", "UTC"]
# Moments either side of midnight and of the clocks' changes of 2026 in these zones: London
# (29 March, 25 October), New York (8 March, 1 November), Sydney (5 April, 4 October).
MOMENTS = [
    datetime(2026, 3, 8, 4, 30, tzinfo=UTC),
    datetime(2026, 3, 8, 7, 30, tzinfo=UTC),
    datetime(2026, 3, 28, 23, 30, tzinfo=UTC),
    datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
    datetime(2026, 4, 4, 13, 30, tzinfo=UTC),
    datetime(2026, 4, 4, 15, 30, tzinfo=UTC),
    datetime(2026, 10, 3, 13, 30, tzinfo=UTC),
    datetime(2026, 10, 3, 14, 30, tzinfo=UTC),
    datetime(2026, 10, 24, 23, 30, tzinfo=UTC),
    datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
    datetime(2026, 11, 1, 4, 30, tzinfo=UTC),
    datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
]
# What an ESP may report of an email: (anymail's event type, status, suppress, cause).
EVENTS = {
    "accepted": ("queued", "processed", "", ""),
    "deferred": ("deferred", "deferred", "", ""),
    "delivered": ("delivered", "delivered", "", ""),
    "opened": ("opened", "opened", "", ""),
    "clicked": ("clicked", "clicked", "", ""),
    "bounced": ("bounced", "failed", "hard_bounce", ""),
    "complained": ("complained", "spam_report", "spam_complaint", ""),
    "gave_up": ("failed", "failed", "", "temporary"),
    "ours": ("rejected", "failed", "", "sender"),
}
# A client of a clinic: an address (or none), and whether they take appointment emails.
CLIENTS = [("address", True), ("address", True), ("address", False), ("none", True)]

index = st.integers(min_value=0, max_value=40)
prepare = st.tuples(
    st.just("prepare"),
    index,
    st.integers(0, len(CLIENTS) - 1),
    st.sampled_from([EmailKind.DIRECT_MESSAGE, EmailKind.APPOINTMENT_CONFIRMATION]),
)
steps = st.one_of(
    prepare,
    st.tuples(st.just("hand_over"), index),
    st.tuples(st.just("send_failed"), index),
    st.tuples(st.just("event"), index, st.sampled_from(sorted(EVENTS)), st.booleans()),
    st.tuples(st.just("event"), index, st.sampled_from(sorted(EVENTS)), st.booleans()),
    st.tuples(st.just("drain")),
    st.tuples(st.just("hold"), index),
    st.tuples(st.just("release"), index),
    st.tuples(st.just("age"), index, st.sampled_from(MOMENTS)),
    st.tuples(st.just("retention"), st.sampled_from(MOMENTS)),
    st.tuples(st.just("clock"), index, st.sampled_from(ZONES)),
    st.tuples(st.just("fold")),
)


def read(clinic_ids=None):
    return sorted(day_counts(since=EPOCH, clinic_ids=clinic_ids), key=repr)


def recount(clinic_ids=None):
    return sorted(day_counts_recounted(clinic_ids=clinic_ids), key=repr)


class Platform:
    """The clinics, clients and emails of one example, and each step as the product takes it."""

    def __init__(self, clinics):
        self.clinics = clinics
        self.clients = [
            [
                ClientFactory(
                    clinic=clinic,
                    email=f"c{uuid.uuid4().hex[:10]}@example.test" if kind == "address" else "",
                    appointment_comms=comms,
                )
                for kind, comms in CLIENTS
            ]
            for clinic in clinics
        ]
        self.emails: list[OutboundEmail] = []

    def email(self, at: int) -> OutboundEmail | None:
        if not self.emails:
            return None
        return OutboundEmail.objects.filter(pk=self.emails[at % len(self.emails)].pk).first()

    def prepare(self, at, client_at, kind):
        client = self.clients[at % len(self.clinics)][client_at]
        appointment = None
        if kind == EmailKind.APPOINTMENT_CONFIRMATION:
            appointment = AppointmentFactory(client=client)
        self.emails.append(email_prepare(client=client, kind=kind, appointment=appointment))

    def hand_over(self, at):
        email = self.email(at)
        if email is not None and _claim(email.pk, only_if_due=False) is not None:
            _record_sent(email, f"<{uuid.uuid4().hex}@mail.test>", None)

    def send_failed(self, at):
        email = self.email(at)
        if email is not None and _claim(email.pk, only_if_due=False) is not None:
            email_fail(email=email, reason="The email provider refused it: no such domain.")

    def event(self, at, kind, drained):
        email = self.email(at)
        if email is None or email.refusal:  # the ESP never heard of a refused email
            return
        event_type, status, suppress, cause = EVENTS[kind]
        row = EventRow(
            esp=email.esp,
            event_type=event_type,
            status=status,
            suppress=suppress,
            occurred_at=timezone.now(),
            reject_reason="",
            description="",
            mta_response="",
            click_url="",
            user_agent="",
            recipient=email.to_email,
            message_id=email.esp_message_id,
            email_id_hint=email.pk,
            dedup_key=uuid.uuid4().hex,
            raw={},
            cause=cause,
        )
        events_receive(esp=email.esp, rows=[row])
        if drained:  # else it waits for a later drain, with whatever comes meanwhile
            inbox_drain()

    def drain(self):
        inbox_drain()

    def hold(self, at):
        """As the guard holds an email it may not send yet (its service is its own)."""
        if (email := self.email(at)) is not None:
            OutboundEmail.objects.filter(
                pk=email.pk, status=EmailStatus.SENDING, esp_message_id=""
            ).update(status=EmailStatus.HELD, status_changed_at=timezone.now())

    def release(self, at):
        if (email := self.email(at)) is not None:
            OutboundEmail.objects.filter(pk=email.pk, status=EmailStatus.HELD).update(
                status=EmailStatus.SENDING, status_changed_at=timezone.now()
            )

    def age(self, at, moment):
        if (email := self.email(at)) is not None:
            OutboundEmail.objects.filter(pk=email.pk).update(created_at=moment)

    def retention(self, moment):
        log_purge(before=moment, batch_size=3)

    def clock(self, at, zone):
        clinic = self.clinics[at % len(self.clinics)]
        clinic.time_zone = zone
        clinic.save(update_fields=["time_zone"])
        counts_rebuild(clinic_id=clinic.pk)

    def fold(self):
        counts_fold()


@settings(
    max_examples=80,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    sends=st.lists(prepare, min_size=1, max_size=8),
    plan=st.lists(steps, min_size=1, max_size=40),
)
@pytest.mark.django_db
def test_the_counts_read_always_equal_the_recount(cast, sends, plan):
    with scopes_disabled():
        platform = Platform([cast.alice_clinic, cast.charlie_clinic, ClinicFactory()])
        for name, *args in sends + plan:
            getattr(platform, name)(*args)
            assert read() == recount(), (name, args)
        counts_fold()
        for shape in OutboundEmail.objects.values_list(
            "status", "failure_cause", "refusal"
        ).distinct():
            event(f"an email ended {'/'.join(filter(None, shape))}")
        assert not EmailCountChange.objects.exists()
        assert not EmailDayCount.objects.filter(emails=0).exists()
        assert read() == recount()
        ids = [platform.clinics[0].pk]
        assert read(ids) == recount(ids)


def _other_connection():
    """A second session on the test database, as another worker's would be."""
    params = connection.get_connection_params()
    return psycopg.connect(
        host=params.get("host"),
        port=params.get("port"),
        user=params.get("user"),
        password=params.get("password"),
        dbname=params["dbname"],
    )


@pytest.mark.django_db(transaction=True)
def test_a_fold_beside_a_write_in_another_connection_loses_and_doubles_nothing(cast):
    """A fold never waits for a writer and never takes what a writer has not committed: changes
    written while it runs stay for the next fold, whichever commits first."""
    with scopes_disabled():
        client = ClientFactory(clinic=cast.alice_clinic)
        emails = OutboundEmailFactory.create_batch(6, client=client)
    counts_fold()
    ids = [str(email.pk) for email in emails]
    with _other_connection() as writer:
        # The writer's change is uncommitted while a fold runs and commits.
        writer.execute(
            "UPDATE messaging_outboundemail SET status = 'processed', esp_message_id = 'm'"
            " WHERE id = ANY(%s::uuid[])",
            [ids[:3]],
        )
        assert counts_fold() == 0
        writer.commit()
        assert read() == recount()
        # Now the fold is the one left open while the writer commits beside it.
        folding = threading.Event()
        done = threading.Event()

        def fold_held_open():
            """In its own thread, so on its own connection (Django's are per thread)."""
            with transaction.atomic():
                counts_fold()  # inside the open transaction: its work waits to commit
                folding.set()
                done.wait(10)
            connection.close()

        writer.execute("SET lock_timeout = '5s'")  # a writer made to wait on the fold fails
        thread = threading.Thread(target=fold_held_open)
        thread.start()
        assert folding.wait(10)
        writer.execute(
            "UPDATE messaging_outboundemail SET status = 'delivered' WHERE id = ANY(%s::uuid[])",
            [ids[1:5]],
        )
        writer.execute("DELETE FROM messaging_outboundemail WHERE id = %s::uuid", [ids[5]])
        writer.commit()  # committed while the fold's transaction is still open
        done.set()
        thread.join(10)
    assert read() == recount()
    counts_fold()
    assert not EmailCountChange.objects.exists()
    assert read() == recount()
    with scopes_disabled():
        delivered = OutboundEmail.objects.filter(status="delivered").count()
    assert delivered == 4
    assert sum(c.emails for c in read() if c.status == "delivered") == 4
