"""The email as sent: what was handed to the ESP (From, Reply-To, the invoice's PDF byte for byte)
is recorded and shown from the log, the HTML in a sandboxed frame under its own policy, a smart
form's link masked for staff; the API reads the same; another clinic gets 404; retention takes
the files with their email."""

import base64
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from django.utils import timezone
from django.utils.html import escape
from django_scopes import scope, scopes_disabled
from knox.models import AuthToken
from rest_framework.test import APIClient

from messaging.log.as_sent import FORM_LINK_MASKED
from messaging.log.retention import log_purge
from messaging.models import EmailAttachment, OutboundEmail
from messaging.sending.delivery import email_deliver
from messaging.sending.triggers import direct_message_send, invoice_send, smart_form_send
from tests.factories import ClientFactory, InvoiceFactory, SmartFormFactory
from tests.sending.test_every_esp import sending_through
from tests.sending.test_own_smtp import own_smtp_clinic, security, smtp_server  # noqa: F401
from tests.sending.tls_smtp import smtp_authority  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

AOIFE = "Aoife O’Brien"


@pytest.fixture
def postmark(settings, esp_simulator):
    """The platform sending through Postmark, whose API (a local server) keeps every request."""
    with sending_through("postmark", settings, esp_simulator) as the_esp:
        yield the_esp


@pytest.fixture
def aoife(cast):
    with scopes_disabled():
        return ClientFactory(clinic=cast.alice_clinic, name=AOIFE, email="aoife@example.test")


def delivered(clinic, send) -> OutboundEmail:
    with scope(clinic=clinic):
        email = send()
        assert email_deliver(email_id=email.id).outcome == "sent"
        return OutboundEmail.objects.get(pk=email.pk)


def invoice_delivered(cast, aoife) -> OutboundEmail:
    with scopes_disabled():
        invoice = InvoiceFactory(client=aoife, number="INV-0042")
    return delivered(cast.alice_clinic, lambda: invoice_send(invoice=invoice, sent_by=cast.alice))


def form_delivered(cast, aoife) -> tuple[OutboundEmail, str]:
    with scopes_disabled():
        form = SmartFormFactory(clinic=cast.alice_clinic, title="Pelvic health questionnaire")
    email = delivered(
        cast.alice_clinic, lambda: smart_form_send(form=form, client=aoife, sent_by=cast.alice)
    )
    with scopes_disabled():
        token = email.form_request.token
    return email, token


def page_url(client_row, email) -> str:
    return f"/clients/{client_row.pk}/emails/{email.id}/"


def test_an_invoice_keeps_its_headers_and_pdf_exactly_as_the_esp_received_them(
    postmark, cast, aoife, client
):
    email = invoice_delivered(cast, aoife)

    [sent] = postmark.apis.sent
    [pdf] = sent.body["Attachments"]
    assert email.from_header == sent.body["From"]
    assert email.reply_to_header == sent.body["ReplyTo"]
    with scopes_disabled():
        [kept] = email.attachments.all()
    assert (kept.filename, kept.content_type) == ("invoice-INV-0042.pdf", "application/pdf")
    assert bytes(kept.content) == base64.b64decode(pdf["Content"])

    client.force_login(cast.alice)
    page = client.get(page_url(aoife, email))
    assert page.status_code == 200
    body = page.content.decode()
    for shown in (email.subject, AOIFE, "invoice-INV-0042.pdf", "Reply-To"):
        assert shown in body
    download = client.get(f"/clients/{aoife.pk}/emails/{email.id}/files/{kept.pk}/")
    assert download.status_code == 200
    assert download.content == base64.b64decode(pdf["Content"])
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")


def test_the_time_sent_is_on_the_clinics_clock(esp_simulator, cast, aoife, client):
    email = delivered(
        cast.alice_clinic,
        lambda: direct_message_send(client=aoife, subject="Łukasz Żółć", body="x", sent_by=None),
    )
    with scopes_disabled():
        OutboundEmail.objects.filter(pk=email.pk).update(
            sent_at=datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
        )
        cast.alice_clinic.time_zone = "Australia/Sydney"
        cast.alice_clinic.save()
    client.force_login(cast.alice)
    body = client.get(page_url(aoife, email)).content.decode()
    assert "30 Nov 2026, 23:00:00 AEDT" in body
    assert email.from_header and escape(email.from_header) in body


def test_a_smart_forms_link_is_masked_in_both_bodies_for_staff(esp_simulator, cast, aoife, client):
    email, token = form_delivered(cast, aoife)
    assert token in email.body_text and token in email.body_html  # the client got the link

    client.force_login(cast.alice)
    page = client.get(page_url(aoife, email)).content.decode()
    assert token not in page
    assert FORM_LINK_MASKED in page
    html = client.get(f"/clients/{aoife.pk}/emails/{email.id}/html/")
    assert html.status_code == 200
    assert token not in html.content.decode()
    assert FORM_LINK_MASKED in html.content.decode()
    assert "Pelvic health questionnaire" in html.content.decode()


def test_the_link_stays_masked_after_the_site_moves(esp_simulator, cast, aoife, client, settings):
    email, token = form_delivered(cast, aoife)
    settings.SITE_URL = "https://new-home.clinicmail.test"

    client.force_login(cast.alice)
    page = client.get(page_url(aoife, email)).content.decode()
    html = client.get(f"/clients/{aoife.pk}/emails/{email.id}/html/").content.decode()
    assert token not in page and token not in html
    assert FORM_LINK_MASKED in html


def test_the_html_is_served_under_its_own_restrictive_policy(esp_simulator, cast, aoife, client):
    email, _ = form_delivered(cast, aoife)
    client.force_login(cast.alice)

    html = client.get(f"/clients/{aoife.pk}/emails/{email.id}/html/")
    policy = html["Content-Security-Policy"]
    for directive in ("default-src 'none'", "sandbox", "frame-ancestors 'self'", "img-src data:"):
        assert directive in policy, policy
    assert "script-src" not in policy  # default-src 'none' forbids every script
    assert html["X-Frame-Options"] == "SAMEORIGIN"
    page = client.get(page_url(aoife, email))
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]  # the site's, unchanged
    assert "script-src 'self'" in page["Content-Security-Policy"]
    assert page["X-Frame-Options"] == "DENY"
    assert 'sandbox src="' in page.content.decode()


def test_another_clinic_gets_404_for_every_part(postmark, cast, aoife, client):
    email = invoice_delivered(cast, aoife)
    with scopes_disabled():
        [kept] = email.attachments.all()
    client.force_login(cast.charlie)
    for own_client in (aoife.pk, cast.dana.pk):  # Alice's client, or Charlie's own with her email
        for url in (
            f"/clients/{own_client}/emails/{email.id}/",
            f"/clients/{own_client}/emails/{email.id}/html/",
            f"/clients/{own_client}/emails/{email.id}/files/{kept.pk}/",
        ):
            assert client.get(url).status_code == 404, url


def test_an_email_of_another_client_is_404_under_this_clients_address(
    esp_simulator, cast, aoife, client
):
    email, _ = form_delivered(cast, aoife)
    client.force_login(cast.alice)
    assert client.get(page_url(cast.bob, email)).status_code == 404


def test_the_log_links_each_email_to_its_page_and_the_legend(esp_simulator, cast, aoife, client):
    email, _ = form_delivered(cast, aoife)
    client.force_login(cast.alice)
    body = client.get(f"/clients/{aoife.pk}/").content.decode()
    assert f'href="/clients/{aoife.pk}/emails/{email.id}/"' in body
    assert 'href="/emails/statuses/"' in body


def test_an_email_not_yet_handed_over_says_so(cast, aoife, client):
    with scope(clinic=cast.alice_clinic):
        email = direct_message_send(client=aoife, subject="Hello", body="x", sent_by=None)
    client.force_login(cast.alice)
    body = client.get(page_url(aoife, email)).content.decode()
    assert "Not handed over to the email service" in body


def test_an_email_sent_before_headers_were_kept_says_so(cast, aoife, client):
    with scope(clinic=cast.alice_clinic):
        email = direct_message_send(client=aoife, subject="Hello", body="x", sent_by=None)
        OutboundEmail.objects.filter(pk=email.pk).update(sent_at=timezone.now())
    client.force_login(cast.alice)
    body = client.get(page_url(aoife, email)).content.decode()
    assert body.count("Not recorded: it was sent before headers were kept") == 2
    assert "Not handed over" not in body


@pytest.fixture
def api(cast):
    api_client = APIClient()
    _, token = AuthToken.objects.create(user=cast.alice)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api_client


def test_the_api_reads_the_email_as_sent_with_the_link_masked(esp_simulator, api, cast, aoife):
    email, token = form_delivered(cast, aoife)

    answer = api.get(f"/api/clients/{aoife.pk}/emails/{email.id}")
    assert answer.status_code == 200
    body = answer.json()
    assert token not in answer.content.decode()
    assert FORM_LINK_MASKED in body["body_text"] and FORM_LINK_MASKED in body["body_html"]
    assert body["subject"] == email.subject
    assert body["from"] == email.from_header and body["from"]
    assert body["reply_to"] == email.reply_to_header
    assert datetime.fromisoformat(body["sent_at"]) == email.sent_at
    assert body["attachments"] == []


def test_the_api_lists_the_invoice_pdf_with_its_download(postmark, api, cast, aoife, client):
    email = invoice_delivered(cast, aoife)
    [item] = api.get(f"/api/clients/{aoife.pk}/emails/{email.id}").json()["attachments"]
    assert item["filename"] == "invoice-INV-0042.pdf"
    client.force_login(cast.alice)
    with scopes_disabled():
        assert client.get(item["url"]).content == bytes(email.attachments.get().content)


def test_the_api_answers_404_for_another_clinics_email(esp_simulator, cast, aoife):
    email, _ = form_delivered(cast, aoife)
    charlie = APIClient()
    _, token = AuthToken.objects.create(user=cast.charlie)
    charlie.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert charlie.get(f"/api/clients/{aoife.pk}/emails/{email.id}").status_code == 404
    assert charlie.get(f"/api/clients/{cast.dana.pk}/emails/{email.id}").status_code == 404


def test_retention_deletes_the_files_with_their_email(postmark, cast, aoife):
    email = invoice_delivered(cast, aoife)
    assert EmailAttachment.objects.filter(email_id=email.pk).exists()

    log_purge(before=timezone.now() + timedelta(seconds=1))

    with scopes_disabled():
        assert not OutboundEmail.objects.filter(pk=email.pk).exists()
    assert not EmailAttachment.objects.filter(email_id=email.pk).exists()


def test_through_the_clinics_own_server_the_pdf_kept_is_the_one_it_took(
    cast,
    aoife,
    own_smtp_clinic,  # noqa: F811  (fixture)
    smtp_server,  # noqa: F811  (fixture)
):
    email = invoice_delivered(cast, aoife)

    [received] = smtp_server.mailbox.messages
    mime = message_from_bytes(received.original_content, policy=default_policy)
    [pdf] = [part for part in mime.walk() if part.get_content_type() == "application/pdf"]
    assert email.from_header == str(mime["From"])
    assert email.reply_to_header == str(mime["Reply-To"])
    with scopes_disabled():
        assert bytes(email.attachments.get().content) == pdf.get_content()
