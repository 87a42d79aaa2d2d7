"""Removal from each ESP's own lists, against local servers answering as the ESPs document."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from botocore.stub import Stubber

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


def test_amazon_ses_deletes_the_suppressed_destination(monkeypatch, settings):
    client = boto3.client(
        "sesv2", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stub:
        stub.add_response("delete_suppressed_destination", {}, {"EmailAddress": "bob@example.test"})
        monkeypatch.setattr(boto3, "client", lambda *args, **kwargs: client)
        esp_suppression_remove(stream="amazon_ses", address="bob@example.test")
        stub.assert_no_pending_responses()


def test_amazon_ses_not_on_the_list_counts_as_removed(monkeypatch):
    client = boto3.client(
        "sesv2", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stub:
        stub.add_client_error("delete_suppressed_destination", "NotFoundException")
        monkeypatch.setattr(boto3, "client", lambda *args, **kwargs: client)
        esp_suppression_remove(stream="amazon_ses", address="bob@example.test")


def test_a_stream_without_an_esp_list_needs_nothing():
    esp_suppression_remove(stream=SMTP, address="bob@example.test")
    assert SMTP not in esp_api.REMOVERS
