"""Small local servers answering anymail's real Postmark, SendGrid and Amazon SES backends as
each ESP documents its sending API, recording every request. (Mailgun's has a simulator of its
own, espsim.)

* Postmark, POST /email: 200 {"To", "SubmittedAt", "MessageID", "ErrorCode": 0, "Message": "OK"};
  422 with ErrorCode 406 for an inactive recipient, 300 for an invalid request.
* SendGrid v3, POST /v3/mail/send: 202 with an empty body and X-Message-Id; 400 with
  {"errors": [{"message", "field"}]}.
* Amazon SES v2, POST /v2/email/outbound-emails: 200 {"MessageId"}; 400 with x-amzn-ErrorType
  MessageRejected and {"message"}.
"""

import base64
import email
import email.policy
import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Sent:
    """What one send request carried, read the way the ESP reads it."""

    esp: str
    path: str
    headers: dict
    body: dict
    message_id: str
    from_name: str = ""
    from_address: str = ""
    to: list = field(default_factory=list)
    subject: str = ""
    text: str = ""
    metadata: dict = field(default_factory=dict)
    tags: list = field(default_factory=list)
    attachments: list = field(default_factory=list)


def _postmark(body: dict, headers: dict, message_id: str) -> Sent:
    parsed = email.message_from_string(
        f"From: {body['From']}\nTo: {body['To']}\n\n", policy=email.policy.default
    )
    [author] = parsed["From"].addresses
    return Sent(
        "postmark",
        "/email",
        headers,
        body,
        message_id,
        from_name=author.display_name,
        from_address=author.addr_spec,
        to=[address.addr_spec for address in parsed["To"].addresses],
        subject=body.get("Subject", ""),
        text=body.get("TextBody", ""),
        metadata=body.get("Metadata", {}),
        tags=[body["Tag"]] if body.get("Tag") else [],
        attachments=[a["Name"] for a in body.get("Attachments", [])],
    )


def _sendgrid(body: dict, headers: dict, message_id: str) -> Sent:
    [personalization] = body["personalizations"]
    custom = {**body.get("custom_args", {}), **personalization.get("custom_args", {})}
    return Sent(
        "sendgrid",
        "/v3/mail/send",
        headers,
        body,
        custom.get("anymail_id", message_id),
        from_name=body["from"].get("name", ""),
        from_address=body["from"]["email"],
        to=[to["email"] for to in personalization["to"]],
        subject=body.get("subject", personalization.get("subject", "")),
        text=next(c["value"] for c in body["content"] if c["type"] == "text/plain"),
        metadata={k: v for k, v in custom.items() if k != "anymail_id"},
        tags=body.get("categories", []),
        attachments=[a["filename"] for a in body.get("attachments", [])],
    )


def _amazon_ses(body: dict, headers: dict, message_id: str) -> Sent:
    raw = base64.b64decode(body["Content"]["Raw"]["Data"])
    mime = email.message_from_bytes(raw, policy=email.policy.default)
    [author] = mime["From"].addresses
    text = mime.get_body(("plain",))
    return Sent(
        "amazon_ses",
        "/v2/email/outbound-emails",
        headers,
        body,
        message_id,
        from_name=author.display_name,
        from_address=author.addr_spec,
        to=[address.addr_spec for address in mime["To"].addresses],
        # Unfolded: the space that starts a folded header's next line is not the subject's.
        subject=str(mime["Subject"]).lstrip(),
        text=text.get_content() if text else "",
        metadata=json.loads(mime["X-Metadata"]) if mime["X-Metadata"] else {},
        tags=mime.get_all("X-Tag", []),
        attachments=[part.get_filename() for part in mime.iter_attachments()],
    )


READERS = {
    "/email": _postmark,
    "/v3/mail/send": _sendgrid,
    "/v2/email/outbound-emails": _amazon_ses,
}


class EspApis:
    """The three APIs on one local port. `refuse` makes the next answers an error, as
    (status, body, headers)."""

    def __init__(self):
        self.sent: list[Sent] = []
        self.requests: list[tuple[str, dict, bytes]] = []
        self.refusals: list[tuple[int, dict, dict]] = []
        apis = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                apis.requests.append((self.path, dict(self.headers), raw))
                status, answer, extra = apis.answer(self.path, dict(self.headers), raw)
                payload = b"" if answer is None else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def refuse(self, status: int, body: dict, headers: dict | None = None) -> None:
        self.refusals.append((status, body, headers or {}))

    def answer(self, path: str, headers: dict, raw: bytes):
        if self.refusals:
            return self.refusals.pop(0)
        body = json.loads(raw)
        message_id = str(uuid.uuid4())
        if path == "/v2/email/outbound-emails":
            message_id = f"0100018f{uuid.uuid4().hex[:8]}-{uuid.uuid4()}-000000"
        sent = READERS[path](body, headers, message_id)
        self.sent.append(sent)
        if path == "/email":
            return (
                200,
                {
                    "To": body["To"],
                    "SubmittedAt": "2026-06-11T14:30:12.1234567Z",
                    "MessageID": message_id,
                    "ErrorCode": 0,
                    "Message": "OK",
                },
                {},
            )
        if path == "/v3/mail/send":
            return 202, None, {"X-Message-Id": uuid.uuid4().hex[:22]}
        return 200, {"MessageId": message_id}, {"x-amzn-RequestId": str(uuid.uuid4())}

    def stop(self) -> None:
        self.server.shutdown()
