"""API tokens are stored hashed, shown once, expire, and are revoked by their owner alone."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django_scopes import scopes_disabled
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework.test import APIClient

from clinic.models import AuditEntry, Membership
from tests.factories import MembershipFactory
from tests.otp import support_login


def issue(client, user) -> tuple[str, object]:
    """Issues a token on a clinic admin's page; returns it as shown, and the page."""
    client.force_login(user)
    page = client.post("/settings/api-tokens/")
    assert page.status_code == 200
    [shown] = re.findall(r'id="issued-token"[^>]*value="([0-9a-f]{64})"', page.content.decode())
    return shown, page


def api_status(token: str) -> int:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api.get("/api/clients").status_code


def stored_text() -> str:
    """Every row of the token table and of the audit trail, as the database holds them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(string_agg(row_to_json(t)::text, ' '), '') FROM knox_authtoken t"
        )
        tokens = cursor.fetchone()[0]
        cursor.execute(
            "SELECT coalesce(string_agg(row_to_json(a)::text, ' '), '') FROM clinic_auditentry a"
        )
        audit = cursor.fetchone()[0]
    return tokens + audit


def test_the_database_never_holds_the_token(client, cast):
    token, _ = issue(client, cast.alice_admin)
    assert api_status(token) == 200
    stored = stored_text()
    assert stored  # the control: the token's row is read
    assert token not in stored
    assert token[15:] not in stored  # not even the part after the lookup prefix
    [row] = AuthToken.objects.filter(user=cast.alice_admin)
    assert row.digest == hash_token(token)
    assert row.token_key == token[:15]


def test_the_token_is_shown_once_and_never_cached(client, cast):
    token, page = issue(client, cast.alice_admin)
    assert "it will not be shown again" in page.content.decode()
    assert "no-store" in page["Cache-Control"]
    listing = client.get("/settings/api-tokens/")
    body = listing.content.decode()
    assert token not in body
    assert token[:15] in body  # the list shows its prefix
    assert "no-store" in listing["Cache-Control"]


def test_a_token_expires_after_api_token_days(client, cast, clock, settings):
    assert settings.REST_KNOX["TOKEN_TTL"] == timedelta(days=90)
    token, _ = issue(client, cast.alice_admin)
    clock.move_by(timedelta(days=89, hours=23))
    assert api_status(token) == 200
    clock.move_by(timedelta(hours=1, seconds=1))
    assert api_status(token) == 401
    clock.move_by(-timedelta(days=1))  # gone for good, not only out of date
    assert api_status(token) == 401


def test_no_use_renews_a_token(client, cast, clock):
    token, _ = issue(client, cast.alice_admin)
    [before] = AuthToken.objects.filter(user=cast.alice_admin).values_list("expiry", flat=True)
    clock.move_by(timedelta(days=60))
    assert api_status(token) == 200
    [after] = AuthToken.objects.filter(user=cast.alice_admin).values_list("expiry", flat=True)
    assert after == before


def test_a_revoked_token_is_refused_and_both_are_audited(client, cast):
    token, _ = issue(client, cast.alice_admin)
    assert api_status(token) == 200
    page = client.post(f"/settings/api-tokens/{token[:15]}/revoke/", follow=True)
    assert "is revoked" in page.content.decode()
    assert api_status(token) == 401
    with scopes_disabled():
        trail = list(
            AuditEntry.objects.filter(actor=cast.alice_admin)
            .order_by("at")
            .values_list("action", "clinic", "target")
        )
    assert trail == [
        (AuditEntry.Action.ISSUED_API_TOKEN, cast.alice_clinic.pk, f"API token {token[:15]}…"),
        (AuditEntry.Action.REVOKED_API_TOKEN, cast.alice_clinic.pk, f"API token {token[:15]}…"),
    ]


@pytest.mark.parametrize("other", ["charlie", "alice"])
def test_nobody_else_revokes_a_token(client, cast, other):
    token, _ = issue(client, cast.alice_admin)
    client.force_login(getattr(cast, other))
    assert client.post(f"/settings/api-tokens/{token[:15]}/revoke/").status_code == 404
    assert api_status(token) == 200
    assert token[:15] not in client.get("/settings/api-tokens/").content.decode()


def test_support_sees_a_tokens_prefix_and_owner_never_the_token_or_its_digest(client, cast):
    token, _ = issue(client, cast.alice_admin)
    digest = hash_token(token)
    client.logout()
    support_login(client, cast.support)
    listing = client.get("/admin/knox/authtoken/")
    assert listing.status_code == 200
    body = listing.content.decode()
    assert token[:15] in body and "boss@alice.test" in body
    shown = re.sub(r'<input[^>]*name="_selected_action"[^>]*>', "", body)
    assert token not in shown and digest not in shown
    assert client.get("/admin/knox/authtoken/add/").status_code == 403
    # A token's own page would be titled with its digest: there is none.
    assert client.get(f"/admin/knox/authtoken/{digest}/change/").status_code == 403
    assert client.get(f"/admin/knox/authtoken/{digest}/history/").status_code == 403


def test_support_revokes_a_leaked_token(client, cast):
    token, _ = issue(client, cast.alice_admin)
    client.logout()
    support_login(client, cast.support)
    client.post(
        "/admin/knox/authtoken/",
        {"action": "revoke", "_selected_action": [hash_token(token)]},
    )
    assert api_status(token) == 401
    with scopes_disabled():
        revoked = AuditEntry.objects.get(action=AuditEntry.Action.REVOKED_API_TOKEN)
    assert revoked.actor == cast.support
    assert revoked.clinic == cast.alice_clinic


@pytest.mark.parametrize("role", ["alice", "receptionist"])
def test_only_clinic_admins_issue_tokens_or_see_the_page(client, cast, role):
    with scopes_disabled():
        user = (
            MembershipFactory(
                clinic=cast.alice_clinic,
                user__email="desk@alice.test",
                role=Membership.Role.RECEPTIONIST,
            ).user
            if role == "receptionist"
            else cast.alice
        )
    client.force_login(user)
    assert client.get("/settings/api-tokens/").status_code == 403
    assert client.post("/settings/api-tokens/").status_code == 403
    assert 'href="/settings/api-tokens/"' not in client.get("/clients/").content.decode()
    assert not AuthToken.objects.filter(user=user).exists()
    client.force_login(cast.alice_admin)
    assert 'href="/settings/api-tokens/"' in client.get("/clients/").content.decode()
