"""The audit trail: who viewed a client's email log (page and API), who reactivated a suppressed
address (admin and service), who changed a clinic's settings (page and admin, field names only);
and support reads it in admin, where nobody can add, change or delete an entry."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from clinic.models import AuditEntry, Clinic
from suppression.models import SuppressionReason
from suppression.services import suppression_reactivate, suppression_record
from tests.factories import AuditEntryFactory
from tests.otp import support_login

pytestmark = pytest.mark.usefixtures("unscoped")

VIEWED, REACTIVATED, CHANGED = (
    AuditEntry.Action.VIEWED_EMAIL_LOG,
    AuditEntry.Action.REACTIVATED_ADDRESS,
    AuditEntry.Action.CHANGED_CLINIC_SETTINGS,
)


def entries(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("at", "pk"))


def test_each_view_of_a_clients_summary_is_one_entry_naming_the_client_by_id(client, cast):
    client.force_login(cast.alice)
    assert entries(VIEWED) == []
    for _ in range(2):
        assert client.get(f"/clients/{cast.bob.pk}/").status_code == 200

    first, second = entries(VIEWED)
    assert (first.actor, first.actor_email, first.clinic) == (
        cast.alice,
        "alice@alice.test",
        cast.alice_clinic,
    )
    assert first.target == second.target == f"client {cast.bob.pk}"
    assert "Bob" not in first.target and "bob@" not in str(first.detail)


def test_the_logs_own_refresh_is_not_another_view(client, cast):
    client.force_login(cast.alice)
    assert client.get(f"/clients/{cast.bob.pk}/emails/log/").status_code == 200
    assert entries(VIEWED) == []


def test_another_clinics_client_is_not_shown_and_not_recorded(client, cast):
    client.force_login(cast.charlie)
    assert client.get(f"/clients/{cast.bob.pk}/").status_code == 404
    assert entries(VIEWED) == []


def test_each_read_of_the_apis_log_is_one_entry(cast):
    api = APIClient()
    api.force_login(cast.alice)

    assert api.get(f"/api/clients/{cast.bob.pk}/emails").status_code == 200

    [entry] = entries(VIEWED)
    assert (entry.actor, entry.clinic, entry.target) == (
        cast.alice,
        cast.alice_clinic,
        f"client {cast.bob.pk}",
    )


@pytest.fixture
def bounced_bob(cast):
    return suppression_record(
        address="bob@example.test", stream="mailgun", reason=SuppressionReason.HARD_BOUNCE
    )


def test_reactivating_through_the_service_is_recorded_by_suppression_id(cast, bounced_bob):
    suppression_reactivate(suppression=bounced_bob, actor=cast.support, reason="Typo fixed")

    [entry] = entries(REACTIVATED)
    assert (entry.actor, entry.actor_email) == (cast.support, "support@platform.test")
    assert entry.target == f"suppression {bounced_bob.pk}"
    assert entry.detail == {"stream": "mailgun", "reason": "hard_bounce"}
    assert "bob@example.test" not in f"{entry.target} {entry.detail}"


def test_a_refused_reactivation_records_nothing(cast, bounced_bob):
    suppression_reactivate(suppression=bounced_bob, actor=cast.support, reason="Typo fixed")
    with pytest.raises(Exception, match="is not suppressed"):
        suppression_reactivate(suppression=bounced_bob, actor=cast.support, reason="Again")
    assert len(entries(REACTIVATED)) == 1


def test_reactivating_in_admin_records_who_did_it(client, cast, bounced_bob):
    support_login(client, cast.support)
    page = client.post(
        "/admin/suppression/suppression/",
        {
            "action": "reactivate",
            "_selected_action": [bounced_bob.pk],
            "apply": "1",
            "reason": "The client corrected a typo",
        },
        follow=True,
    )
    assert page.status_code == 200
    bounced_bob.refresh_from_db()
    assert not bounced_bob.active
    [entry] = entries(REACTIVATED)
    assert (entry.actor, entry.target) == (cast.support, f"suppression {bounced_bob.pk}")


SETTINGS = {
    "time_zone": "Europe/London",
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


def test_changing_clinic_settings_records_the_fields_changed_and_no_value(client, cast):
    client.force_login(cast.alice_admin)
    changed = {**SETTINGS, "reminder_lead_hours": 48, "track_engagement": ""}
    assert client.post("/settings/", changed).status_code == 302

    [entry] = entries(CHANGED)
    assert (entry.actor, entry.clinic, entry.target) == (
        cast.alice_admin,
        cast.alice_clinic,
        f"clinic {cast.alice_clinic.pk}",
    )
    assert entry.detail == {
        "fields": ["reminder_lead_hours", "track_engagement"],
        "via": "clinic settings page",
    }
    assert "48" not in str(entry.detail)
    assert not Clinic.objects.get(pk=cast.alice_clinic.pk).track_engagement


def test_a_new_smtp_password_is_recorded_by_name_and_an_empty_box_is_no_change(
    client, cast, settings
):
    settings.SMTP_PRIVATE_HOSTS_ALLOWED = ["127.0.0.1"]
    own_server = {
        **SETTINGS,
        "sending_connection": "own_smtp",
        "smtp_host": "127.0.0.1",
        "smtp_username": "desk",
        "smtp_from_email": "desk@alice.test",
    }
    client.force_login(cast.alice_admin)
    assert (
        client.post("/settings/", {**own_server, "smtp_password": "s3cret-one"}).status_code == 302
    )
    assert client.post("/settings/", own_server).status_code == 302  # the box left empty
    assert (
        client.post("/settings/", {**own_server, "smtp_password": "s3cret-two"}).status_code == 302
    )

    # Three saves, two changes: the empty box kept the password.
    first, new = (entry.detail["fields"] for entry in entries(CHANGED))
    assert {"sending_connection", "smtp_password"} <= set(first)
    assert new == ["smtp_password"]
    trail = str([entry.detail for entry in entries(CHANGED)])
    assert "s3cret" not in trail
    assert Clinic.objects.get(pk=cast.alice_clinic.pk).smtp_password == "s3cret-two"


def test_saving_clinic_settings_unchanged_records_nothing(client, cast):
    client.force_login(cast.alice_admin)
    assert client.post("/settings/", SETTINGS).status_code == 302
    assert entries(CHANGED) == []


def test_changing_a_clinic_in_admin_is_recorded(client, cast):
    support_login(client, cast.support)
    url = f"/admin/clinic/clinic/{cast.alice_clinic.pk}/change/"
    form = {
        **SETTINGS,
        "name": "Alice Physio",
        "slug": "alice-physio",
        "reminder_lead_hours": 12,
        "memberships-TOTAL_FORMS": 0,
        "memberships-INITIAL_FORMS": 0,
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:3000]

    [entry] = entries(CHANGED)
    assert entry.actor == cast.support
    assert entry.detail == {"fields": ["reminder_lead_hours"], "via": "support admin"}


def test_support_reads_the_trail_in_admin_filtered_and_searched(client, cast):
    AuditEntryFactory(clinic=cast.alice_clinic, actor=cast.alice, target="client 7")
    AuditEntryFactory(
        clinic=cast.charlie_clinic, actor=cast.charlie, action=REACTIVATED, target="suppression 3"
    )
    support_login(client, cast.support)
    url = "/admin/clinic/auditentry/"

    everything = client.get(url).content.decode()
    assert "client 7" in everything and "suppression 3" in everything
    by_action = client.get(url, {"action__exact": REACTIVATED}).content.decode()
    assert "suppression 3" in by_action and "client 7" not in by_action
    by_clinic = client.get(url, {"clinic__id__exact": cast.alice_clinic.pk}).content.decode()
    assert "client 7" in by_clinic and "suppression 3" not in by_clinic
    by_actor = client.get(url, {"q": "charlie@charlie"}).content.decode()
    assert "suppression 3" in by_actor and "client 7" not in by_actor
    by_target = client.get(url, {"q": "client 7"}).content.decode()
    assert "client 7" in by_target and "suppression 3" not in by_target
    year = timezone.now().year
    assert "client 7" in client.get(url, {"at__year": year}).content.decode()  # by date
    assert "client 7" not in client.get(url, {"at__year": year - 1}).content.decode()


def test_nobody_adds_changes_or_deletes_an_entry_in_admin_not_even_a_superuser(client, cast):
    entry = AuditEntryFactory(clinic=cast.alice_clinic, actor=cast.alice, target="client 7")
    support_login(client, cast.support)
    base = "/admin/clinic/auditentry/"

    assert client.get(f"{base}add/").status_code == 403
    page = client.get(f"{base}{entry.pk}/change/")
    assert page.status_code == 200  # shown, read-only
    assert 'name="target"' not in page.content.decode()
    assert client.post(f"{base}{entry.pk}/change/", {"target": "client 8"}).status_code == 403
    assert client.post(f"{base}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    client.post(base, {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"})
    entry.refresh_from_db()
    assert entry.target == "client 7"
    assert AuditEntry.objects.count() == 1


def test_the_trail_outlives_the_clinic_and_the_account_it_names(cast):
    from clinic.audit import audit_record

    entry = audit_record(
        actor=cast.charlie,
        action=VIEWED,
        clinic=cast.charlie_clinic,
        target=f"client {cast.dana.pk}",
    )
    cast.charlie.delete()
    cast.charlie_clinic.delete()
    entry.refresh_from_db()
    assert (entry.clinic, entry.actor) == (None, None)
    assert (entry.clinic_name, entry.actor_email) == ("Charlie Osteo", "charlie@charlie.test")
