"""SendGrid: its v3 mail send API as anymail's SendGrid backend calls it, its suppression
lists, and its Event Webhook.

``SENDGRID_API_URL = "http://127.0.0.1:<port>/v3/"``. ``POST /v3/mail/send`` checks ``Authorization:
Bearer <key>`` and answers 202 with an empty body and ``X-Message-Id``, or 400 with SendGrid's
``{"errors": [{"message", "field", "help"}]}``. Anymail does not read the answer: it gives
each personalization an ``anymail_id`` custom arg, and its webhook view takes the message id
from the events' ``anymail_id`` (custom args come back as top-level keys of every event, which
is also where it finds the metadata).

Suppression lists of the account: ``bounces``, ``spam_reports``, ``invalid_emails``, ``blocks``
(``GET /v3/suppression/<list>[/<email>]``, ``DELETE /v3/suppression/<list>/<email>``) and global
unsubscribes (``/v3/asm/suppressions/global[/<email>]``). A send to a listed address is
``dropped`` (blocks do not suppress).

Event Webhook: JSON arrays of events, batched (events due within ``batch_window`` seconds go
in one post), basic auth from the URL. With ``signed`` (``--sendgrid-signed``) every post is
also signed as SendGrid's Signed Event Webhook does: ECDSA P-256/SHA-256 over timestamp +
body, base64 in ``X-Twilio-Email-Event-Webhook-Signature`` with the timestamp in
``X-Twilio-Email-Event-Webhook-Timestamp``, by the simulator's own key pair (new at start, or
``key_file``); its public key -- the value of ``SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY`` --
is printed at start and served at ``GET /sim/sendgrid/verification-key``. Every non-2xx
answer is retried.

| step       | SendGrid event                                                       |
|------------|----------------------------------------------------------------------|
| accepted   | ``processed``                                                        |
| delivered  | ``delivered`` (250)                                                  |
| bounced    | ``bounce``, type ``bounce`` (550 5.1.1); on the bounces list         |
| deferred   | ``deferred`` (451 4.7.1, attempt 1)                                  |
| complained | ``spamreport``; on the spam_reports list                             |
| opened     | ``open``                                                             |
| clicked    | ``click`` (the first link)                                           |
| no_domain  | ``bounce``, type ``bounce`` (550 5.1.2); on the invalid_emails list  |
| suppressed | ``dropped``: Bounced Address, Spam Reporting Address, Invalid, Unsubscribed Address |
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from werkzeug.routing import Rule
from werkzeug.wrappers import Request

from . import outcomes as steps
from .addresses import addr_spec, is_valid_addr_spec
from .content import first_link
from .dialect import Dialect, SimResponse, WebhookPost, json_response, read_json, text_response
from .faults import ERROR_MESSAGES, Fault
from .outcomes import Moment, Outcome, choose_outcome
from .records import EventRecord, SentMessage, link

LISTS = ("bounces", "spam_reports", "invalid_emails", "blocks")
GLOBAL_UNSUBSCRIBES = "unsubscribes"
# The lists that stop a send, in order, with why the outcome says it is suppressed.
SUPPRESSING = {
    "bounces": "bounce",
    "spam_reports": "complaint",
    "invalid_emails": "invalid",
    GLOBAL_UNSUBSCRIBES: "unsubscribe",
}
DROP_REASONS = {
    "bounce": "Bounced Address",
    "complaint": "Spam Reporting Address",
    "invalid": "Invalid",
    "unsubscribe": "Unsubscribed Address",
}
SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
SMTP_HOST = "ismtpd0001p1lon1.sendgrid.net"
SENDING_IP = "149.72.154.232"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
BAD_KEY = "The provided authorization grant is invalid, expired, or revoked"
HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"


def _error(message: str, field: str | None = None, help_: str | None = None) -> dict[str, Any]:
    return {"message": message, "field": field, "help": help_}


def _errors(status: int, *errors: dict[str, Any], note: str = "") -> SimResponse:
    return json_response(status, {"errors": list(errors)}, note=note)


def _short_id() -> str:
    """A SendGrid-style id: 16 random bytes, base64url without padding (22 characters)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")


def load_signing_key(key_file: str | None) -> ec.EllipticCurvePrivateKey:
    """The webhook signing key: from ``key_file`` (created there if missing) or a new one."""
    if key_file and Path(key_file).exists():
        key = serialization.load_pem_private_key(Path(key_file).read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{key_file} does not hold an EC private key")
        return key
    key = ec.generate_private_key(ec.SECP256R1())
    if key_file:
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
    return key


def verification_key(key: ec.EllipticCurvePrivateKey) -> str:
    """The public key as SendGrid shows it (base64 DER, what anymail's setting takes)."""
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def sign(key: ec.EllipticCurvePrivateKey, timestamp: str, body: bytes) -> str:
    signature = key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(signature).decode()


class SendGrid(Dialect):
    name = "sendgrid"
    label = "SendGrid"
    batch_size = 100
    options = ("signed",)

    def __init__(self, sim: Any, signed: bool = False, key_file: str | None = None) -> None:
        super().__init__(sim)
        self.signed = bool(signed)
        self.signing_key = load_signing_key(key_file)
        self.verification_key = verification_key(self.signing_key)

    @property
    def api_url(self) -> str:
        return f"{self.sim.url}/v3/"

    def anymail_settings(self) -> dict[str, Any]:
        settings: dict[str, Any] = {"SENDGRID_API_URL": self.api_url}
        if self.sim.api_key:
            settings["SENDGRID_API_KEY"] = self.sim.api_key
        if self.signed:
            settings["SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY"] = self.verification_key
        return settings

    def rules(self) -> list[Rule]:
        lists = ",".join(LISTS)
        unsubscribes = "/v3/asm/suppressions/global"
        return [
            Rule("/v3/mail/send", methods=["POST"], endpoint=self.send),
            Rule(f"/v3/suppression/<any({lists}):kind>", methods=["GET"], endpoint=self.listing),
            Rule(
                f"/v3/suppression/<any({lists}):kind>/<email>",
                methods=["GET", "DELETE"],
                endpoint=self.entry,
            ),
            Rule("/v3/suppression/unsubscribes", methods=["GET"], endpoint=self.unsubscribes),
            Rule(unsubscribes, methods=["POST"], endpoint=self.unsubscribe),
            Rule(f"{unsubscribes}/<email>", methods=["GET", "DELETE"], endpoint=self.unsubscribed),
            Rule("/sim/sendgrid/verification-key", methods=["GET"], endpoint=self.public_key),
        ]

    def error(self, status: int, message: str) -> SimResponse:
        return _errors(status, _error(message))

    def fault_response(self, fault: Fault) -> SimResponse:
        status = fault.status or 500
        message = fault.message or ERROR_MESSAGES.get(status, f"Error {status}")
        return _errors(status, _error(message), note="injected fault")

    def _refused_key(self, request: Request) -> SimResponse | None:
        if self.sim.api_key is None:
            return None
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key:
            return _errors(401, _error("authorization required"))
        if key != self.sim.api_key:
            return _errors(401, _error(BAD_KEY))
        return None

    def public_key(self, request: Request) -> SimResponse:
        return text_response(200, self.verification_key)

    # -- sending --------------------------------------------------------------

    def send(self, request: Request) -> SimResponse:
        refused = self.take_fault() or self._refused_key(request)
        if refused is not None:
            return refused
        try:
            body = read_json(request)
        except ValueError:
            return _errors(400, _error("Bad Request"))
        if not isinstance(body, dict):
            return _errors(400, _error("Bad Request"))
        errors = _validate(body)
        if errors:
            return _errors(400, *errors, note=f"errors={len(errors)}")
        x_message_id = _short_id()
        now = time.time()
        send_at = body.get("send_at")
        start = max(now, float(send_at)) if isinstance(send_at, int | float) else now
        messages, outcomes = self._messages(body, x_message_id, now)
        self.sim.accept(messages, outcomes, start)
        response = SimResponse(b"", status=202, headers={"X-Message-Id": x_message_id})
        response.note = f"id={x_message_id} recipients={len(messages)}"
        return response

    def _messages(
        self, body: dict, x_message_id: str, now: float
    ) -> tuple[list[SentMessage], list[Outcome]]:
        messages: list[SentMessage] = []
        outcomes: list[Outcome] = []
        contents = {
            item.get("type"): str(item.get("value") or "") for item in body.get("content") or []
        }
        text, html = contents.get("text/plain", ""), contents.get("text/html", "")
        sender = body["from"]
        from_ = _format(sender)
        categories = body.get("categories")
        for index, personalization in enumerate(body["personalizations"]):
            custom = {
                **(body.get("custom_args") or {}),
                **(personalization.get("custom_args") or {}),
            }
            headers = {**(body.get("headers") or {}), **(personalization.get("headers") or {})}
            subject = str(personalization.get("subject") or body.get("subject") or "")
            to_header = ", ".join(_format(item) for item in personalization["to"])
            for kind in ("to", "cc", "bcc"):
                for item in personalization.get(kind) or []:
                    addr = str(item["email"])
                    listed = self.sim.suppressions.find(SUPPRESSING, "", addr)
                    outcome = choose_outcome(addr, SUPPRESSING.get(listed or ""))
                    sg_message_id = (
                        f"{x_message_id}.filterdrecv-espsim-1-{int(now):X}-{len(messages)}.0"
                    )
                    ids = [sg_message_id] + (
                        [custom["anymail_id"]] if "anymail_id" in custom else []
                    )
                    attachments = [_attachment(a) for a in body.get("attachments") or []]
                    messages.append(
                        SentMessage(
                            message_id=x_message_id,
                            domain="",
                            recipient=addr,
                            recipient_type=kind,
                            to=to_header,
                            sender=addr_spec(str(sender["email"])),
                            from_=from_,
                            subject=subject,
                            tags=list(categories) if isinstance(categories, list) else [],
                            metadata=dict(custom),
                            headers={str(k): str(v) for k, v in headers.items()},
                            has_text=bool(text),
                            has_html=bool(html),
                            template=body.get("template_id"),
                            attachments=attachments,
                            size=500
                            + len(subject)
                            + len(text)
                            + len(html)
                            + sum(a["size"] for a in attachments),
                            outcome=outcome.name,
                            click_url=first_link(html, text, "https://example.com/"),
                            esp={
                                "ids": ids,
                                "sg_message_id": sg_message_id,
                                "smtp_id": f"<{x_message_id}@{SMTP_HOST}>",
                                "categories": categories,
                                "personalization": index,
                            },
                        )
                    )
                    outcomes.append(outcome)
        return messages, outcomes

    # -- suppression lists ----------------------------------------------------

    def listing(self, request: Request, kind: str) -> SimResponse:
        refused = self._refused_key(request)
        if refused is not None:
            return refused
        entries = self.sim.suppressions.items(kind, "")
        return json_response(200, [_render(kind, entry) for entry in entries])

    def entry(self, request: Request, kind: str, email: str) -> SimResponse:
        refused = self._refused_key(request)
        if refused is not None:
            return refused
        if request.method == "GET":
            entry = self.sim.suppressions.get(kind, "", email)
            return json_response(200, [_render(kind, entry)] if entry else [])
        if self.sim.suppressions.remove(kind, "", email):
            return SimResponse(b"", status=204)
        return _errors(404, _error("resource not found"))

    def unsubscribes(self, request: Request) -> SimResponse:
        return self.listing(request, GLOBAL_UNSUBSCRIBES)

    def unsubscribe(self, request: Request) -> SimResponse:
        refused = self._refused_key(request)
        if refused is not None:
            return refused
        try:
            emails = [str(email) for email in read_json(request)["recipient_emails"]]
        except (ValueError, KeyError, TypeError):
            return _errors(400, _error("Bad Request"))
        for email in emails:
            entry = {"address": email, "created": int(time.time())}
            self.sim.suppressions.add(GLOBAL_UNSUBSCRIBES, "", entry)
        return json_response(201, {"recipient_emails": emails})

    def unsubscribed(self, request: Request, email: str) -> SimResponse:
        refused = self._refused_key(request)
        if refused is not None:
            return refused
        if request.method == "GET":
            found = self.sim.suppressions.get(GLOBAL_UNSUBSCRIBES, "", email)
            return json_response(200, {"recipient_email": email} if found else {})
        if self.sim.suppressions.remove(GLOBAL_UNSUBSCRIBES, "", email):
            return SimResponse(b"", status=204)
        return _errors(404, _error("resource not found"))

    # -- events ---------------------------------------------------------------

    def chain(
        self, message: SentMessage, outcome: Outcome, moments: list[Moment]
    ) -> list[EventRecord]:
        records = []
        for moment in moments:
            data, reason = self._event(message, outcome, moment)
            severity = {"bounce": "permanent", "dropped": "permanent", "deferred": "temporary"}
            records.append(
                EventRecord(
                    data=data,
                    due=moment.due,
                    message=message,
                    kind=moment.step,
                    event=data["event"],
                    id=data["sg_event_id"],
                    timestamp=data["timestamp"],
                    severity=severity.get(data["event"]),
                    reason=reason,
                )
            )
        return link(records)

    def _event(
        self, msg: SentMessage, outcome: Outcome, moment: Moment
    ) -> tuple[dict[str, Any], str | None]:
        step = moment.step
        data: dict[str, Any] = {"email": msg.recipient, "timestamp": int(moment.timestamp)}
        if step not in (steps.OPENED, steps.CLICKED, steps.COMPLAINED):
            data["smtp-id"] = msg.esp["smtp_id"]
        reason = None
        name, fields = _EVENTS[step]
        data["event"] = name
        if msg.esp.get("categories") is not None:
            data["category"] = msg.esp["categories"]
        data["sg_event_id"] = _short_id()
        data["sg_message_id"] = msg.esp["sg_message_id"]
        data.update(fields)
        if step == steps.BOUNCED or step == steps.NO_DOMAIN:
            reason = "bounce"
        if step == steps.NO_DOMAIN:
            domain = msg.recipient.rpartition("@")[2]
            data["reason"] = f"550 5.1.2 Host or domain name not found: {domain} (no MX record)"
            data["status"] = "5.1.2"
        if step == steps.SUPPRESSED:
            reason = DROP_REASONS[outcome.suppressed or "bounce"]
            data["reason"] = reason
        if step == steps.CLICKED:
            data["url"] = msg.click_url
        for key, value in msg.metadata.items():
            data.setdefault(key, value)  # custom args come back as top-level keys
        return data, reason

    def on_fire(self, record: EventRecord) -> None:
        """SendGrid's automatic suppressions."""
        data = record.data
        kind = None
        if data["event"] == "bounce":
            kind = "invalid_emails" if data.get("status") == "5.1.2" else "bounces"
        elif data["event"] == "spamreport":
            kind = "spam_reports"
        if kind:
            entry = {"address": record.recipient, "created": int(time.time())}
            entry |= {"reason": data.get("reason", ""), "status": data.get("status", "")}
            self.sim.suppressions.add(kind, "", entry)

    # -- webhooks -------------------------------------------------------------

    def webhook_post(self, records: list[EventRecord], now: float) -> WebhookPost:
        body = json.dumps([record.data for record in records]).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "SendGrid Event API"}
        if self.signed:
            timestamp = str(int(now))
            headers[SIGNATURE_HEADER] = sign(self.signing_key, timestamp, body)
            headers[TIMESTAMP_HEADER] = timestamp
        return WebhookPost(body, headers)

    # -- settings -------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        return {"signed": self.signed, "verification_key": self.verification_key}

    def configure(self, changes: dict[str, Any]) -> None:
        if "signed" in changes:
            self.signed = bool(changes["signed"])

    def start_lines(self) -> list[str]:
        if not self.signed:
            return ["SendGrid webhooks: not signed (basic auth from the URL only)"]
        return [
            "SendGrid webhooks signed; SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY="
            + self.verification_key
        ]


_ENGAGEMENT = {"useragent": USER_AGENT, "ip": "203.0.113.10"}
_EVENTS: dict[str, tuple[str, dict[str, Any]]] = {
    steps.ACCEPTED: ("processed", {}),
    steps.DELIVERED: (
        "delivered",
        {"response": "250 2.0.0 OK 1700000000 espsim - gsmtp", "ip": SENDING_IP, "tls": 1},
    ),
    steps.BOUNCED: (
        "bounce",
        {
            "reason": "550 5.1.1 The email account that you tried to reach does not exist.",
            "status": "5.1.1",
            "type": "bounce",
            "bounce_classification": "Invalid Address",
            "ip": SENDING_IP,
            "tls": 1,
        },
    ),
    steps.NO_DOMAIN: (
        "bounce",
        {"type": "bounce", "bounce_classification": "Invalid Address", "ip": SENDING_IP},
    ),
    steps.DEFERRED: (
        "deferred",
        {
            "response": "451 4.7.1 Greylisted, please try again later",
            "attempt": "1",
            "ip": SENDING_IP,
            "tls": 1,
        },
    ),
    steps.COMPLAINED: ("spamreport", {}),
    steps.OPENED: ("open", {**_ENGAGEMENT, "sg_machine_open": False}),
    steps.CLICKED: ("click", {**_ENGAGEMENT, "url_offset": {"index": 0, "type": "html"}}),
    steps.SUPPRESSED: ("dropped", {"status": "5.0.0"}),
}


def _format(item: dict[str, Any]) -> str:
    name, email = item.get("name"), str(item.get("email") or "")
    return f"{name} <{email}>" if name else email


def _attachment(item: Any) -> dict[str, Any]:
    item = item if isinstance(item, dict) else {}
    content = str(item.get("content") or "")
    size = len(base64.b64decode(content + "=" * (-len(content) % 4), validate=False))
    return {
        "filename": str(item.get("filename") or ""),
        "content-type": item.get("type"),
        "size": size,
    }


def _render(kind: str, entry: dict[str, Any]) -> dict[str, Any]:
    rendered: dict[str, Any] = {"created": entry.get("created"), "email": entry["address"]}
    if kind in ("bounces", "blocks"):
        rendered |= {"reason": entry.get("reason", ""), "status": entry.get("status", "")}
    elif kind == "invalid_emails":
        rendered["reason"] = entry.get("reason", "")
    elif kind == "spam_reports":
        rendered["ip"] = "203.0.113.10"
    return rendered


def _validate(body: dict[str, Any]) -> list[dict[str, Any]]:
    """SendGrid's 400 errors for a mail send body (empty when it is acceptable)."""
    errors = []
    personalizations = body.get("personalizations")
    if not isinstance(personalizations, list) or not personalizations:
        message = (
            "The personalizations field is required and must have at least one personalization."
        )
        return [_error(message, "personalizations", f"{HELP}#-Personalizations-Errors")]
    sender = body.get("from")
    if not isinstance(sender, dict) or not sender.get("email"):
        message = (
            "The from object must be provided for every email send. It is an object that "
            "requires the email parameter, but may also contain a name parameter."
        )
        errors.append(_error(message, "from", f"{HELP}#message.from"))
    elif not is_valid_addr_spec(str(sender["email"])):
        errors.append(_error("The from email does not contain a valid address.", "from.email"))
    templated = bool(body.get("template_id"))
    for index, personalization in enumerate(personalizations):
        errors += _personalization_errors(index, personalization)
    subjects = [p.get("subject") for p in personalizations if isinstance(p, dict)]
    if not (body.get("subject") or templated or (subjects and all(subjects))):
        message = (
            "The subject is required. You can get around this requirement if you use a "
            "template with a subject defined or if every personalization has a subject defined."
        )
        errors.append(_error(message, "subject", f"{HELP}#message.subject"))
    content = body.get("content")
    has_content = isinstance(content, list) and any(
        isinstance(item, dict) and item.get("value") for item in content
    )
    if not (has_content or templated):
        message = (
            "Unless a valid template_id is provided, the content parameter is required. There "
            "must be at least one defined content block. We typically suggest both text/plain "
            "and text/html blocks are included, but only one block is required."
        )
        errors.append(_error(message, "content", f"{HELP}#message.content"))
    args = [body.get("custom_args")] + [
        p.get("custom_args") for p in personalizations if isinstance(p, dict)
    ]
    if any(isinstance(a, dict) and any(not isinstance(v, str) for v in a.values()) for a in args):
        errors.append(_error("Bad Request"))  # SendGrid's words for a non-string custom arg
    return errors


def _personalization_errors(index: int, personalization: Any) -> list[dict[str, Any]]:
    where = f"personalizations.{index}"
    to = personalization.get("to") if isinstance(personalization, dict) else None
    if not isinstance(to, list) or not to:
        message = (
            "The to array is required for all personalization objects, and must have at "
            "least one email object with a valid email address."
        )
        return [_error(message, f"{where}.to", f"{HELP}#message.personalizations.to")]
    errors = []
    seen: set[str] = set()
    for kind in ("to", "cc", "bcc"):
        for number, item in enumerate(personalization.get(kind) or []):
            email = str(item.get("email") or "") if isinstance(item, dict) else ""
            if not is_valid_addr_spec(email):
                field = f"{where}.{kind}.{number}.email"
                errors.append(_error("Does not contain a valid address.", field))
            elif email.lower() in seen:
                message = (
                    "Each email address in the personalization block should be unique between "
                    "to, cc, and bcc. We found the first duplicate instance of "
                    f"[{email}] in the personalizations.{index}.{kind} field."
                )
                errors.append(_error(message, f"{where}.{kind}"))
            seen.add(email.lower())
    return errors
