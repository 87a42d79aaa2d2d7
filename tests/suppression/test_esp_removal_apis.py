"""Removal from each ESP's own lists, against local servers answering as the ESPs document."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import pytest
from botocore.config import Config

from suppression import esp_api
from suppression.esp_api import EspApiError, esp_suppression_remove
from suppression.streams import SMTP


class Recorder(BaseHTTPRequestHandler):
    calls: list = []
    status = 200

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        type(self).calls.append((self.command, self.path, dict(self.headers), body))
        payload = json.dumps(
            {"Suppressions": [{"EmailAddress": "bob@example.test", "Status": "Deleted"}]}
        ).encode()
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_POST = do_DELETE = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def esp_server():
    Recorder.calls, Recorder.status = [], 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", Recorder
    server.shutdown()


def test_postmark_deletes_from_the_message_streams_suppressions(esp_server, settings):
    url, recorder = esp_server
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "POSTMARK_API_URL": url + "/",
        "POSTMARK_SERVER_TOKEN": "server-token",
    }
    esp_suppression_remove(stream="postmark", address="bob@example.test")
    [(method, path, headers, body)] = recorder.calls
    assert (method, path) == ("POST", "/message-streams/outbound/suppressions/delete")
    assert headers["X-Postmark-Server-Token"] == "server-token"
    assert json.loads(body) == {"Suppressions": [{"EmailAddress": "bob@example.test"}]}


def test_sendgrid_deletes_bounces_spam_reports_invalids_and_blocks(esp_server, settings):
    url, recorder = esp_server
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "SENDGRID_API_URL": url + "/v3/",
        "SENDGRID_API_KEY": "sg-key",
    }
    esp_suppression_remove(stream="sendgrid", address="bob@example.test")
    assert [(m, p) for m, p, _, _ in recorder.calls] == [
        ("DELETE", f"/v3/suppression/{kind}/bob%40example.test")
        for kind in ("bounces", "spam_reports", "invalid_emails", "blocks")
    ]
    assert recorder.calls[0][2]["Authorization"] == "Bearer sg-key"


def test_an_esp_error_is_reported_for_a_retry(esp_server, settings):
    url, recorder = esp_server
    recorder.status = 503
    settings.ANYMAIL = {**settings.ANYMAIL, "POSTMARK_API_URL": url + "/"}
    with pytest.raises(EspApiError, match="503"):
        esp_suppression_remove(stream="postmark", address="bob@example.test")


class SesV2(BaseHTTPRequestHandler):
    """Answers as the SES v2 API documents DeleteSuppressedDestination: 200 with an empty JSON
    object, or an error named in the x-amzn-ErrorType header with a JSON message."""

    calls: list = []
    answer: tuple[int, str | None] = (200, None)

    def do_DELETE(self):
        type(self).calls.append((self.command, self.path, dict(self.headers)))
        status, error = type(self).answer
        body = b"{}" if error is None else json.dumps({"message": f"{error} here"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if error is not None:
            self.send_header("x-amzn-ErrorType", f"{error}:")
        self.send_header("x-amzn-RequestId", "3a1b2c4d-0000-4000-8000-000000000001")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def ses_server(settings):
    SesV2.calls, SesV2.answer = [], (200, None)
    server = ThreadingHTTPServer(("127.0.0.1", 0), SesV2)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "AMAZON_SES_CLIENT_PARAMS": {
            "region_name": "eu-west-1",
            "endpoint_url": f"http://127.0.0.1:{server.server_address[1]}",
            "aws_access_key_id": "AKIAEXAMPLEKEY000001",
            "aws_secret_access_key": "example-secret",
        },
    }
    yield SesV2
    server.shutdown()


def test_amazon_ses_deletes_the_suppressed_destination(ses_server):
    esp_suppression_remove(stream="amazon_ses", address="zoë.nuñez@example.test")
    [(method, path, headers)] = ses_server.calls
    assert method == "DELETE"
    assert unquote(path) == "/v2/email/suppression/addresses/zoë.nuñez@example.test"
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIAEXAMPLEKEY000001/")
    assert "/eu-west-1/ses/aws4_request" in headers["Authorization"]


def test_amazon_ses_not_on_the_list_counts_as_removed(ses_server):
    ses_server.answer = (404, "NotFoundException")
    esp_suppression_remove(stream="amazon_ses", address="bob@example.test")  # does not raise
    assert len(ses_server.calls) == 1


def test_amazon_ses_refusing_is_reported_for_a_retry(ses_server):
    ses_server.answer = (400, "BadRequestException")
    with pytest.raises(EspApiError, match="BadRequestException"):
        esp_suppression_remove(stream="amazon_ses", address="bob@example.test")
    assert len(ses_server.calls) == 1


def test_amazon_ses_unreachable_is_reported_for_a_retry(settings):
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "AMAZON_SES_CLIENT_PARAMS": {
            "region_name": "eu-west-1",
            "endpoint_url": "http://127.0.0.1:9",
            "aws_access_key_id": "AKIAEXAMPLEKEY000001",
            "aws_secret_access_key": "example-secret",
            "config": Config(retries={"max_attempts": 1}, connect_timeout=1),
        },
    }
    with pytest.raises(EspApiError):
        esp_suppression_remove(stream="amazon_ses", address="bob@example.test")


def test_a_stream_without_an_esp_list_needs_nothing():
    esp_suppression_remove(stream=SMTP, address="bob@example.test")
    assert SMTP not in esp_api.REMOVERS
