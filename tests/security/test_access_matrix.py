"""Every URL of the project, for every role, with the status it must answer."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django_scopes import scopes_disabled
from knox.models import AuthToken

from notifications.services import notification_create
from tests.factories import AppointmentFactory, OutboundEmailFactory, SmartFormFactory
from tests.otp import support_login

ROLES = ["anonymous", "alice", "alice_admin", "charlie", "support"]
#        anonymous  practitioner A  admin A  practitioner B  support
STAFF_PAGE = (302, 200, 200, 200, 403)
ALICE_OBJECT = (302, 200, 200, 404, 403)
ADMINS_ONLY = (302, 403, 200, 403, 403)

MATRIX = [
    ("GET", "/", (302, 302, 302, 302, 302)),
    ("GET", "/accounts/login/", (200, 200, 200, 200, 200)),
    ("GET", "/clients/", STAFF_PAGE),
    ("GET", "/attention/", STAFF_PAGE),
    ("GET", "/clients/{bob}/", ALICE_OBJECT),
    ("GET", "/clients/{bob}/edit/", ALICE_OBJECT),
    ("POST", "/clients/{bob}/edit/", (302, 200, 200, 404, 403)),
    ("GET", "/clients/{bob}/emails/log/", ALICE_OBJECT),
    ("GET", "/clients/{bob}/emails/{email}/", ALICE_OBJECT),
    ("GET", "/clients/{bob}/emails/{email}/html/", ALICE_OBJECT),
    ("GET", "/clients/{bob}/emails/{email}/files/{attachment}/", ALICE_OBJECT),
    ("GET", "/clients/{bob}/forms/{form_request}/", ALICE_OBJECT),
    ("GET", "/emails/statuses/", STAFF_PAGE),
    ("POST", "/clients/{bob}/emails/send/", (302, 400, 400, 404, 403)),
    ("POST", "/clients/{bob}/appointments/book/", (302, 400, 400, 404, 403)),  # empty form
    ("GET", "/clients/{bob}/emails/{email}/resend/", ALICE_OBJECT),
    ("POST", "/clients/{bob}/emails/{email}/resend/", (302, 400, 400, 404, 403)),  # not failed
    ("GET", "/clients/{bob}/emails/send/", (405, 405, 405, 405, 405)),
    ("POST", "/clients/{bob}/opt-in/", (302, 302, 302, 404, 403)),
    ("GET", "/clients/{bob}/ask-reactivation/", ALICE_OBJECT),
    ("POST", "/clients/{bob}/ask-reactivation/", (302, 200, 200, 404, 403)),  # no note
    ("GET", "/settings/", ADMINS_ONLY),
    ("GET", "/overview/", ADMINS_ONLY),
    ("GET", "/overview/emails/?reason=hard_bounce", ADMINS_ONLY),
    ("POST", "/settings/smtp-test/", (302, 403, 302, 403, 403)),
    ("GET", "/settings/api-tokens/", ADMINS_ONLY),
    ("POST", "/settings/api-tokens/", (302, 403, 200, 403, 403)),  # issues one of one's own
    ("POST", "/settings/api-tokens/{alice_token}/revoke/", (302, 302, 404, 404, 403)),
    ("GET", "/notifications/", STAFF_PAGE),
    ("GET", "/notifications/bell/", STAFF_PAGE),
    ("POST", "/notifications/{note}/read/", (302, 302, 302, 302, 403)),
    ("POST", "/notifications/read-all/", (302, 302, 302, 302, 403)),
    ("GET", "/forms/{token}/", (200, 200, 200, 200, 200)),
    ("GET", "/forms/not-a-token/", (404, 404, 404, 404, 404)),
    ("GET", "/api/clients", (401, 200, 200, 200, 403)),
    ("GET", "/api/clients/{bob}/emails", (401, 200, 200, 404, 403)),
    ("GET", "/api/clients/{bob}/emails/{email}", (401, 200, 200, 404, 403)),
    ("POST", "/api/clients/{bob}/emails", (401, 415, 415, 404, 403)),  # form-encoded body
    ("POST", "/api/clients/{bob}/appointments", (401, 415, 415, 404, 403)),
    ("POST", "/api/appointments/{appointment}", (401, 405, 405, 405, 403)),  # PATCH, DELETE
    ("POST", "/api/clients/{bob}/emails/{email}/resend", (401, 415, 415, 404, 403)),
    ("GET", "/admin/", (302, 302, 302, 302, 200)),
    ("GET", "/admin/overview/", (302, 302, 302, 302, 200)),
    ("GET", "/admin/suppression/suppression/", (302, 302, 302, 302, 200)),
    ("GET", "/admin/suppression/reactivationask/", (302, 302, 302, 302, 200)),
    ("GET", "/admin/clinic/client/{bob}/change/", (302, 302, 302, 302, 200)),
    ("POST", "/anymail/mailgun/tracking/", (400, 400, 400, 400, 400)),
    ("POST", "/anymail/postmark/tracking/", (400, 400, 400, 400, 400)),
    ("POST", "/anymail/sendgrid/tracking/", (400, 400, 400, 400, 400)),
    ("POST", "/anymail/amazon_ses/tracking/", (401, 401, 401, 401, 401)),
    ("GET", "/anymail/mailgun/tracking/", (405, 405, 405, 405, 405)),
    ("POST", "/anymail/mailgun/inbound/", (400, 400, 400, 400, 400)),
]

# Route names this matrix must cover; a new URL without a row here fails the test below.
COVERED = {
    "home",
    "login",
    "logout",
    "client-list",
    "needs-attention",
    "client-detail",
    "client-edit",
    "client-email-log",
    "client-email-as-sent",
    "client-email-html",
    "client-email-attachment",
    "client-form-answers",
    "email-status-legend",
    "api-email-as-sent",
    "client-send",
    "client-appointment-book",
    "api-client-appointments",
    "api-appointment",
    "email-resend",
    "api-email-resend",
    "client-opt-in",
    "client-reactivation-ask",
    "clinic-settings",
    "delivery-overview",
    "delivery-overview-emails",
    "platform-overview",
    "clinic-smtp-test",
    "api-tokens",
    "api-token-revoke",
    "notification-list",
    "notification-bell",
    "notification-read",
    "notification-read-all",
    "smart-form-fill",
    "api-clients",
    "api-emails",
    "mailgun_tracking_webhook",
    "postmark_tracking_webhook",
    "sendgrid_tracking_webhook",
    "amazon_ses_tracking_webhook",
}


@pytest.fixture
def world(cast):
    with scopes_disabled():
        form_request = SmartFormFactory(clinic=cast.alice_clinic).requests.create(
            clinic=cast.alice_clinic, client=cast.bob
        )
        token = form_request.token
        email = OutboundEmailFactory(client=cast.bob)
        attachment = email.attachments.create(
            filename="invoice-INV-0001.pdf", content_type="application/pdf", content=b"%PDF-1.4"
        )
        appointment = AppointmentFactory(client=cast.bob, practitioner=cast.alice)
    note = notification_create(clinic=cast.alice_clinic, recipient=cast.alice, text="x")
    alice_token, _ = AuthToken.objects.create(user=cast.alice)
    return {
        "bob": cast.bob.pk,
        "token": token,
        "note": note.pk,
        "alice_token": alice_token.token_key,
        "appointment": appointment.pk,
        "email": email.pk,
        "attachment": attachment.pk,
        "form_request": form_request.pk,
    }


def as_role(client, cast, role: str):
    if role == "support":
        support_login(client, cast.support)
    elif role != "anonymous":
        client.force_login(getattr(cast, role))
    return client


@pytest.mark.parametrize(("method", "path", "expected"), MATRIX)
@pytest.mark.parametrize("role", ROLES)
def test_every_url_answers_every_role_as_it_should(
    client, cast, world, settings, method, path, expected, role
):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": ["webhook:test-webhook-secret"]}
    as_role(client, cast, role)
    url = path.format(**world)
    response = client.get(url) if method == "GET" else client.post(url)
    assert response.status_code == expected[ROLES.index(role)], (method, url, role)


def test_a_token_reaches_only_its_own_clinic(client, cast, world):
    _, token = AuthToken.objects.create(user=cast.charlie)
    auth = {"HTTP_AUTHORIZATION": f"Token {token}"}
    assert client.get(f"/api/clients/{cast.bob.pk}/emails", **auth).status_code == 404
    assert client.get(f"/api/clients/{cast.dana.pk}/emails", **auth).status_code == 200


def named_routes(patterns, prefix="") -> set[str]:
    names = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name == "admin":
                continue
            names |= named_routes(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(pattern.name)
    return names


def test_the_matrix_covers_every_url_of_ours():
    ours = {
        name
        for name in named_routes(get_resolver().url_patterns)
        if not name.endswith(("_inbound_webhook", "_tracking_webhook", "_webhook"))
        or name in COVERED
    }
    assert ours - COVERED == set()
