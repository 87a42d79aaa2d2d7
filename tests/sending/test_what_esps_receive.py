"""What each ESP receives of an email, read from the request anymail's real backend sent: the
email itself (recipient, From, Reply-To, subject, body) and its id and kind, nothing more of the
client or the clinic; and, for a clinic that switched open and click tracking off, the ESP's own
switch for both. Postmark, SendGrid and Amazon SES answer from local servers
(tests/sending/esp_apis.py); Mailgun from a recorder answering as its sending API does, and from
the ESP simulator."""

import base64
import email.policy
import json
import threading
from email import message_from_bytes

import pytest
from django_scopes import scope, scopes_disabled
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from clinic.models import Membership
from messaging.sending.connections import esp_connection
from messaging.sending.delivery import email_deliver
from messaging.sending.triggers import direct_message_send
from tests.factories import ClientFactory, ClinicFactory, MembershipFactory
from tests.sending.test_every_esp import sending_through

pytestmark = pytest.mark.django_db

ESPS = ["mailgun", "postmark", "sendgrid", "amazon_ses"]
CLINIC = "Ní Bhriain Physiotherapy"
CLIENT = "Aoife O’Brien"
ADDRESS = "aoife.obrien@example.test"
STAFF = "orla.kelly@nibhriain.test"
SUBJECT = "Your exercises – twice a day"


class MailgunRecorder:
    """Answers Mailgun's POST /v3/<domain>/messages as its API documents (200 with the queued
    message's id) and keeps each request's form, every field as sent."""

    def __init__(self):
        self.forms: list[dict[str, list[str]]] = []
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v3"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @Request.application
    def app(self, request: Request) -> Response:
        self.forms.append({key: request.form.getlist(key) for key in request.form})
        answer = {"id": f"<{len(self.forms)}.sent@clinicmail.test>", "message": "Queued"}
        return Response(json.dumps(answer), content_type="application/json")

    def stop(self):
        self.server.shutdown()


@pytest.fixture
def esp(request, settings, esp_simulator):
    with sending_through(request.param, settings, esp_simulator) as the_esp:
        recorder = None
        if the_esp.name == "mailgun":
            recorder = MailgunRecorder()
            settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_API_URL": recorder.url}
            esp_connection.cache_clear()
        the_esp.mailgun = recorder
        yield the_esp
        if recorder is not None:
            recorder.stop()


def sent_by_a_clinic(*, track_engagement: bool = True):
    """A direct message from a named clinic's staff member to a named client, delivered."""
    with scopes_disabled():
        clinic = ClinicFactory(name=CLINIC, track_engagement=track_engagement)
        client = ClientFactory(clinic=clinic, name=CLIENT, email=ADDRESS)
        staff = MembershipFactory(
            clinic=clinic, user__email=STAFF, role=Membership.Role.CLINIC_ADMIN
        ).user  # the clinic's first admin: replies go to them
    with scope(clinic=clinic):
        email_row = direct_message_send(
            client=client, subject=SUBJECT, body="Three sets of ten.", sent_by=staff
        )
        assert email_deliver(email_id=email_row.id).outcome == "sent"
    return email_row


def what_was_sent(esp) -> tuple[dict, dict]:
    """The one request the ESP received, split into the email itself (recipient, From,
    Reply-To, subject, bodies) and everything else that came with it (options, ids, tags,
    headers)."""
    if esp.name == "mailgun":
        [form] = esp.mailgun.forms
        own_keys = ("from", "to", "h:Reply-To", "subject", "text", "html")
        own = {key: form.pop(key) for key in own_keys if key in form}
        return own, form
    [sent] = esp.apis.sent
    body = json.loads(json.dumps(sent.body))  # a copy
    if esp.name == "postmark":
        own_keys = ("From", "To", "ReplyTo", "Subject", "TextBody", "HtmlBody")
        own = {key: body.pop(key) for key in own_keys if key in body}
        return own, body
    if esp.name == "sendgrid":
        own_keys = ("from", "reply_to", "reply_to_list", "subject", "content")
        own = {key: body.pop(key) for key in own_keys if key in body}
        [personalization] = body["personalizations"]
        own["to"] = personalization.pop("to")
        return own, body
    raw = body.pop("Content")["Raw"]["Data"]
    mime = message_from_bytes(base64.b64decode(raw), policy=email.policy.default)
    own = {name: str(mime[name]) for name in ("From", "To", "Reply-To", "Subject") if mime[name]}
    own["envelope"] = body.pop("Destination")
    own["parts"] = [part.get_content() for part in mime.walk() if not part.is_multipart()]
    rest = {name: str(value) for name, value in mime.items() if name not in own}
    return own, {**body, "headers": rest}


@pytest.mark.parametrize("esp", ESPS, indirect=True)
def test_nothing_of_the_client_or_the_clinic_reaches_an_esp_beyond_the_email_itself(esp):
    email_row = sent_by_a_clinic()

    own, rest = what_was_sent(esp)
    everything_else = json.dumps(rest, ensure_ascii=False)
    # The email itself carries them, as it must: the control that they were looked for.
    own_text = json.dumps(own, ensure_ascii=False)
    assert CLINIC in own_text and ADDRESS in own_text and SUBJECT in own_text
    for personal in (CLIENT, "Aoife", "O’Brien", ADDRESS, "aoife", CLINIC, "Bhriain", STAFF):
        assert personal not in everything_else, (personal, everything_else)
    assert SUBJECT not in everything_else
    assert str(email_row.id) in everything_else  # the email's id goes, as metadata
    assert "direct_message" in everything_else  # and its kind, as a tag


def test_the_simulators_record_of_a_mailgun_send_holds_only_its_id_and_kind(
    settings, esp_simulator
):
    settings.EMAIL_ESP = "mailgun"
    esp_connection.cache_clear()
    email_row = sent_by_a_clinic()

    [message] = esp_simulator.messages()
    assert message["user_variables"] == {"email_id": str(email_row.id)}
    assert message["tags"] == ["direct_message"]
    assert message["headers"] == {"Reply-To": f"{CLINIC} <{STAFF}>"}  # the email's own header
    assert message["subject"] == SUBJECT
    assert message["recipient"] == ADDRESS
    esp_connection.cache_clear()


TRACKING_OFF = {
    "mailgun": lambda rest: (
        (rest["o:tracking-opens"], rest["o:tracking-clicks"]) == (["no"], ["no"])
    ),
    "postmark": lambda rest: (rest["TrackOpens"], rest["TrackLinks"]) == (False, "None"),
    "sendgrid": lambda rest: (
        rest["tracking_settings"]
        == {"open_tracking": {"enable": False}, "click_tracking": {"enable": False}}
    ),
    "amazon_ses": lambda rest: (
        rest["ConfigurationOverrides"]
        == {"Tracking": {"OpenTrackingEnabled": "DISABLED", "ClickTrackingEnabled": "DISABLED"}}
    ),
}
TRACKING_FIELDS = {
    "o:tracking",
    "o:tracking-opens",
    "o:tracking-clicks",
    "TrackOpens",
    "TrackLinks",
    "tracking_settings",
    "ConfigurationOverrides",
    "ConfigurationSetName",
}


@pytest.mark.parametrize("esp", ESPS, indirect=True)
def test_a_clinic_with_tracking_off_sends_with_the_esps_tracking_off(esp):
    email_row = sent_by_a_clinic(track_engagement=False)

    _, rest = what_was_sent(esp)
    assert TRACKING_OFF[esp.name](rest), rest
    assert email_row.engagement_tracked is False


@pytest.mark.parametrize("esp", ESPS, indirect=True)
def test_a_clinic_with_tracking_on_leaves_tracking_to_the_esp_account(esp):
    email_row = sent_by_a_clinic(track_engagement=True)

    _, rest = what_was_sent(esp)
    assert not TRACKING_FIELDS & set(rest), rest
    assert email_row.engagement_tracked is True


def test_an_email_through_the_clinics_own_server_is_recorded_untracked(db):
    with scopes_disabled():
        clinic = ClinicFactory(
            sending_connection="own_smtp", smtp_host="smtp.clinic.test", smtp_from_email="a@b.test"
        )
        client = ClientFactory(clinic=clinic)
    with scope(clinic=clinic):
        email_row = direct_message_send(client=client, subject="Hi", body="x", sent_by=None)
    assert (email_row.esp, email_row.engagement_tracked) == ("smtp", False)
