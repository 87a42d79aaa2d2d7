"""The email table keeps its own per-day counts (EmailDayCount, by a trigger and a fold): after
sends, status changes, refusals and deletions, the counts read equal a recount of the table."""

from datetime import UTC, datetime

import pytest
from django_scopes import scopes_disabled

from messaging.models import EmailCountChange, EmailDayCount, OutboundEmail
from messaging.reputation.rollups import (
    counts_fold,
    counts_rebuild,
    day_counts,
    day_counts_recounted,
)
from tests.factories import ClientFactory, OutboundEmailFactory

pytestmark = pytest.mark.django_db
EPOCH = datetime(2020, 1, 1).date()


def read(clinic_ids=None):
    return sorted(day_counts(since=EPOCH, clinic_ids=clinic_ids), key=repr)


def recount(clinic_ids=None):
    return sorted(day_counts_recounted(clinic_ids=clinic_ids), key=repr)


@scopes_disabled()
def test_counts_follow_sends_changes_and_deletions_before_and_after_the_fold(cast):
    client = ClientFactory(clinic=cast.alice_clinic, email="Aoife.OBrien@example.test")
    emails = OutboundEmailFactory.create_batch(3, client=client)
    OutboundEmailFactory(client=ClientFactory(clinic=cast.charlie_clinic))
    assert read() == recount() != []
    OutboundEmail.objects.filter(pk=emails[0].pk).update(status="processed", esp_message_id="m1")
    OutboundEmail.objects.filter(pk__in=[e.pk for e in emails[:2]]).update(claimed_until=None)
    assert read() == recount()
    counts_fold()
    assert not EmailCountChange.objects.exists()
    assert read() == recount()
    OutboundEmail.objects.filter(pk=emails[0].pk).update(status="delivered")
    OutboundEmail.objects.filter(pk=emails[1].pk).delete()
    assert read() == recount()
    counts_fold()
    assert read() == recount()
    assert not EmailDayCount.objects.filter(emails=0).exists()
    assert read([cast.charlie_clinic.pk]) == recount([cast.charlie_clinic.pk])


@scopes_disabled()
def test_a_day_is_the_clinics_own(cast):
    """23:30 in New York on 1 November is 2 November in UTC: counted on the 1st."""
    cast.alice_clinic.time_zone = "America/New_York"
    cast.alice_clinic.save()
    email = OutboundEmailFactory(client=ClientFactory(clinic=cast.alice_clinic))
    OutboundEmail.objects.filter(pk=email.pk).update(
        created_at=datetime(2026, 11, 2, 4, 30, tzinfo=UTC)
    )
    days = {count.day for count in read([cast.alice_clinic.pk])}
    assert days == {datetime(2026, 11, 1).date()}
    cast.alice_clinic.time_zone = "Asia/Tokyo"
    cast.alice_clinic.save()
    counts_rebuild(clinic_id=cast.alice_clinic.pk)
    assert read([cast.alice_clinic.pk]) == recount([cast.alice_clinic.pk])
    assert {count.day for count in read([cast.alice_clinic.pk])} == {datetime(2026, 11, 2).date()}


@scopes_disabled()
def test_an_address_delivered_to_is_remembered(cast):
    from messaging.models import DeliveredAddress

    email = OutboundEmailFactory(client=ClientFactory(clinic=cast.alice_clinic, email="Ana@X.test"))
    OutboundEmail.objects.filter(pk=email.pk).update(status="processed", esp_message_id="m")
    assert not DeliveredAddress.objects.exists()
    OutboundEmail.objects.filter(pk=email.pk).update(status="opened")
    assert list(DeliveredAddress.objects.values_list("clinic_id", "address")) == [
        (cast.alice_clinic.pk, "ana@x.test")
    ]
