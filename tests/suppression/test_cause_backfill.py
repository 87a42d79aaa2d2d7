"""Suppressions made before each clinic's part was kept get their causes from their history: the
clinic of every email they were suppressed for since they were last lifted, a complaint kept over
a later bounce; a lifted suppression gets none."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from suppression.models import Suppression, SuppressionCause, SuppressionHistory
from tests.factories import ClientFactory, ClinicFactory, OutboundEmailFactory
from tests.migration_steps import latest_schema_after, migrate  # noqa: F401  (fixture)

BEFORE = [("suppression", "0003_removal_verification")]
AFTER = [("suppression", "0004_suppression_causes")]

pytestmark = pytest.mark.usefixtures("latest_schema_after")


def suppressed_for(suppression, email, reason: str, at, action="suppressed again") -> None:
    entry = SuppressionHistory.objects.create(
        suppression=suppression,
        action=action,
        why=reason,
        evidence={"diagnostic": f"{reason} words", "email_id": str(email.id)},
    )
    SuppressionHistory.objects.filter(pk=entry.pk).update(at=at)


@pytest.mark.django_db(transaction=True)
def test_causes_are_rebuilt_from_the_history_since_the_last_lift():
    now = timezone.now()
    migrate(BEFORE)
    try:
        with scopes_disabled():
            alice, charlie, dora = (ClinicFactory() for _ in range(3))
            emails = {
                clinic: OutboundEmailFactory(
                    client=ClientFactory(clinic=clinic, email="kim@example.test")
                )
                for clinic in (alice, charlie, dora)
            }
            standing = Suppression.objects.create(
                address="kim@example.test", stream="mailgun", reason="spam_complaint"
            )
            # Dora's bounce was before support lifted it: not a cause of what stands now.
            suppressed_for(standing, emails[dora], "hard_bounce", now - timedelta(days=9))
            SuppressionHistory.objects.filter(
                pk=SuppressionHistory.objects.create(
                    suppression=standing, action="reactivated", why="typo fixed"
                ).pk
            ).update(at=now - timedelta(days=8))
            suppressed_for(standing, emails[alice], "spam_complaint", now - timedelta(days=5))
            suppressed_for(standing, emails[alice], "hard_bounce", now - timedelta(days=4))
            suppressed_for(standing, emails[charlie], "hard_bounce", now - timedelta(days=3))
            lifted = Suppression.objects.create(
                address="kim@example.test", stream="postmark", reason="hard_bounce", active=False
            )
            suppressed_for(lifted, emails[alice], "hard_bounce", now - timedelta(days=2))
    finally:
        migrate(AFTER)

    with scopes_disabled():
        causes = {
            (cause.suppression_id, cause.clinic_id): cause
            for cause in SuppressionCause.objects.all()
        }
    assert set(causes) == {(standing.pk, alice.pk), (standing.pk, charlie.pk)}
    assert causes[standing.pk, alice.pk].reason == "spam_complaint"  # not the later bounce
    assert causes[standing.pk, alice.pk].diagnostic == "spam_complaint words"
    assert causes[standing.pk, charlie.pk].reason == "hard_bounce"
    assert causes[standing.pk, alice.pk].first_seen < causes[standing.pk, charlie.pk].first_seen
