"""Webhook posts signed as the ESPs sign them, for tests: Mailgun's HMAC over a fresh timestamp
and token, and SNS messages signed with a certificate of the tests' own, served over HTTP from
this machine so that the app fetches it as it would Amazon's."""

import hashlib
import hmac
import threading
import time
import uuid
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from espsim.sns import Signer, signed

TEST_TOPIC = "arn:aws:sns:eu-west-1:123456789012:clinicmail-test"
SNS_SIGNATURE_FIELDS = ("Signature", "SignatureVersion", "SigningCertURL")


def mailgun_signature(key: str, *, timestamp: float | None = None) -> dict:
    stamp = str(int(time.time() if timestamp is None else timestamp))
    token = uuid.uuid4().hex + uuid.uuid4().hex[:18]
    digest = hmac.new(key.encode(), f"{stamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {"timestamp": stamp, "token": token, "signature": digest}


def mailgun_resigned(body: dict, key: str) -> dict:
    """A documented Mailgun post as Mailgun would sign it now."""
    return {**body, "signature": mailgun_signature(key)}


class CertificateServer:
    """Serves the tests' SNS signing certificate, as sns.<region>.amazonaws.com serves Amazon's."""

    def __init__(self) -> None:
        self.signer = Signer("eu-west-1")
        self.requested: list[str] = []  # paths fetched: certificates, subscription confirmations
        pem, requested = self.signer.pem, self.requested

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                requested.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-pem-file")
                self.end_headers()
                self.wfile.write(pem)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.prefix = f"http://127.0.0.1:{self.server.server_port}/sns/"
        self.cert_url = self.prefix + self.signer.file_name

    def sign(self, message: dict, *, topic: str = TEST_TOPIC) -> dict:
        """The message as SNS would post it from `topic`, signed with this certificate."""
        unsigned = {k: v for k, v in message.items() if k not in SNS_SIGNATURE_FIELDS}
        return signed({**unsigned, "TopicArn": topic}, self.signer, self.cert_url)


@cache
def sns_certificates() -> CertificateServer:
    return CertificateServer()
