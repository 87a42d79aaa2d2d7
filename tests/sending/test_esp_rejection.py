"""A recipient the ESP refuses because it already suppresses it: failed, suppressed, told.

Postmark answers a send to an inactive recipient with error 406; anymail's real Postmark backend
turns that into recipient status `rejected`. A local HTTP server gives Postmark's documented answer.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django_scopes import scope, scopes_disabled

from clinic.models import Client
from messaging.models import OutboundEmail
from messaging.sending.tasks import email_send_task
from messaging.sending.triggers import direct_message_send
from messaging.status import EmailStatus
from notifications.models import Notification
from suppression.models import Suppression

INACTIVE = {
    "ErrorCode": 406,
    "Message": (
        "You tried to send to recipient(s) that have been marked as inactive. Found inactive "
        "addresses: bob@example.test. Inactive recipients are ones that have generated a hard "
        "bounce, a spam complaint, or a manual suppression."
    ),
}


class PostmarkInactive(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps(INACTIVE).encode()
        self.send_response(422)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def postmark(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), PostmarkInactive)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.EMAIL_ESP = "postmark"
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "POSTMARK_SERVER_TOKEN": "test-token",
        "POSTMARK_API_URL": f"http://127.0.0.1:{server.server_address[1]}/",
    }
    yield
    server.shutdown()


def test_a_recipient_the_esp_refuses_is_failed_suppressed_and_told(cast, postmark, eager_celery):
    with scope(clinic=cast.alice_clinic):
        email = direct_message_send(client=cast.bob, subject="Hi", body="x", sent_by=cast.alice)
    email_send_task.apply(args=[str(email.id)], kwargs={"clinic_id": email.clinic_id})
    with scopes_disabled():
        email = OutboundEmail.objects.get(pk=email.pk)
        bob = Client.objects.get(pk=cast.bob.pk)
        note = Notification.objects.get(email_id=email.id)
    assert email.status == EmailStatus.FAILED
    assert "refuses this address" in email.reason
    suppression = Suppression.objects.get(address="bob@example.test", stream="postmark")
    assert suppression.reason == "esp_rejected"
    assert suppression.source_email_id == email.id
    assert suppression.history.get().action == "suppressed"
    assert not bob.appointment_comms
    assert "refuses this address" in bob.appointment_comms_reason
    assert note.recipient == cast.alice
