"""A clinic's email counts are by day on its clock: when its time zone changes, on its settings
page or in support's admin, its counts are counted again on the new clock once the change
commits, and no other clinic's are touched."""

from datetime import UTC, date, datetime

import pytest
from django_scopes import scopes_disabled

from messaging.models import EmailDayCount, OutboundEmail
from messaging.reputation.rollups import counts_fold, day_counts, day_counts_recounted
from tests.factories import ClientFactory, OutboundEmailFactory
from tests.otp import support_login

pytestmark = pytest.mark.django_db
# 20:00 in London on 1 November is 05:00 on 2 November in Tokyo.
EVENING = datetime(2026, 11, 1, 20, 0, tzinfo=UTC)
SETTINGS = {
    "time_zone": "Asia/Tokyo",
    "reminder_lead_hours": 24,
    "from_name": "",
    "sending_connection": "platform_esp",
    "smtp_host": "",
    "smtp_port": 587,
    "smtp_username": "",
    "smtp_password": "",
    "smtp_security": "starttls",
    "smtp_from_email": "",
    "track_engagement": "on",
}


def folded_days(clinic) -> set[date]:
    """The days of the clinic's folded counts (not the changes waiting to be folded)."""
    with scopes_disabled():
        return set(EmailDayCount.objects.filter(clinic=clinic).values_list("day", flat=True))


@pytest.fixture
def evening_emails(cast):
    """Two of Alice's emails and one of Charlie's, written on a London evening, counts folded."""
    with scopes_disabled():
        for clinic in (cast.alice_clinic, cast.alice_clinic, cast.charlie_clinic):
            email = OutboundEmailFactory(client=ClientFactory(clinic=clinic))
            OutboundEmail.objects.filter(pk=email.pk).update(created_at=EVENING)
    counts_fold()
    assert folded_days(cast.alice_clinic) == {date(2026, 11, 1)}
    with scopes_disabled():
        return sorted(EmailDayCount.objects.filter(clinic=cast.charlie_clinic).values_list())


def test_a_new_time_zone_on_the_settings_page_counts_the_clinics_emails_on_its_new_clock(
    client, cast, evening_emails, django_capture_on_commit_callbacks
):
    client.force_login(cast.alice_admin)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert client.post("/settings/", SETTINGS).status_code == 302
    assert callbacks
    assert folded_days(cast.alice_clinic) == {date(2026, 11, 2)}
    ids = [cast.alice_clinic.pk]
    assert sorted(day_counts(since=date(2026, 1, 1), clinic_ids=ids), key=repr) == sorted(
        day_counts_recounted(clinic_ids=ids), key=repr
    )
    assert sum(c.emails for c in day_counts(since=date(2026, 1, 1), clinic_ids=ids)) == 2
    with scopes_disabled():  # Charlie's counts are not touched, row for row
        charlie = sorted(EmailDayCount.objects.filter(clinic=cast.charlie_clinic).values_list())
    assert charlie == evening_emails


def test_a_new_time_zone_in_support_admin_counts_again_too(
    client, cast, evening_emails, django_capture_on_commit_callbacks
):
    support_login(client, cast.support)
    form = {
        **SETTINGS,
        "name": "Alice Physio",
        "slug": "alice-physio",
        "memberships-TOTAL_FORMS": 0,
        "memberships-INITIAL_FORMS": 0,
    }
    url = f"/admin/clinic/clinic/{cast.alice_clinic.pk}/change/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert folded_days(cast.alice_clinic) == {date(2026, 11, 2)}


def test_the_counts_wait_for_the_commit_and_other_settings_never_count_again(
    client, cast, evening_emails, django_capture_on_commit_callbacks
):
    client.force_login(cast.alice_admin)
    unchanged_zone = {**SETTINGS, "time_zone": "Europe/London", "reminder_lead_hours": 48}
    with django_capture_on_commit_callbacks() as callbacks:
        assert client.post("/settings/", unchanged_zone).status_code == 302
    assert callbacks == []
    with django_capture_on_commit_callbacks() as callbacks:
        assert client.post("/settings/", SETTINGS).status_code == 302
    assert folded_days(cast.alice_clinic) == {date(2026, 11, 1)}  # not before the commit
    assert len(callbacks) == 1
    callbacks[0]()
    assert folded_days(cast.alice_clinic) == {date(2026, 11, 2)}
