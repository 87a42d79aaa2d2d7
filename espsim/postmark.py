"""Postmark: its sending API as anymail's Postmark backend calls it, its suppressions API, and
its JSON webhooks.

``POSTMARK_API_URL = "http://127.0.0.1:<port>/"``. ``POST /email`` (one message) and ``POST
/email/batch`` (a list) check ``X-Postmark-Server-Token`` (ErrorCode 10, HTTP 401) and answer
``{"To", "SubmittedAt", "MessageID", "ErrorCode": 0, "Message": "OK"}``, or Postmark's error
codes: 300 invalid email request (``Invalid 'To' address: '...'.``), 402 invalid JSON, 406
inactive recipient (every recipient is on the message stream's suppression list; HTTP 422 for
``/email``, a 200 batch item otherwise). Some inactive recipients: the message goes to the
others and the answer says "Message OK, but will not deliver to these inactive addresses".
Suppressions (the app lifts them): ``POST /message-streams/<stream>/suppressions[/delete]``,
``GET .../suppressions/dump``; a spam complaint can not be lifted through the API.

Webhooks: one JSON event per post, basic auth from the URL; ``Metadata`` is what anymail sent as
metadata (Postmark keeps strings). A 403 answer stops retries, as Postmark does.

| step       | Postmark webhook                                                     |
|------------|----------------------------------------------------------------------|
| accepted   | none (the API's answer is all)                                       |
| delivered  | ``Delivery``                                                         |
| bounced    | ``Bounce`` HardBounce (TypeCode 1), Inactive: the address is suppressed |
| deferred   | none: Postmark retries soft failures itself; the Delivery comes later |
| complained | ``SpamComplaint`` (suppressed)                                       |
| opened     | ``Open`` (FirstOpen)                                                 |
| clicked    | ``Click`` (the first link)                                           |
| no_domain  | ``Bounce`` HardBounce, "domain does not exist" (suppressed)          |
| suppressed | none: the API refuses the recipient (406)                            |
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import random
import time
import uuid
from typing import Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request

from . import outcomes as steps
from .addresses import addr_spec, is_valid_addr_spec
from .content import first_link, parse_addresses
from .dialect import Dialect, SimResponse, WebhookPost, iso_time, json_response, read_json
from .faults import ERROR_MESSAGES, Fault
from .outcomes import Moment, Outcome, choose_outcome
from .records import EventRecord, SentMessage, link

SERVER_ID = 4242
DEFAULT_STREAM = "outbound"
SUPPRESSIONS = "suppressions"  # one list per message stream
INACTIVE_NOTE = (
    "Inactive recipients are ones that have generated a hard bounce, a spam complaint, "
    "or a manual suppression."
)
NO_CREDENTIAL = (
    "No Account or Server API tokens were supplied in the HTTP headers. Please add a header "
    "for either X-Postmark-Server-Token or X-Postmark-Account-Token."
)
BAD_CREDENTIAL = (
    "The Server Token you provided in the X-Postmark-Server-Token request header was invalid. "
    "Please verify that you are using a valid token."
)
CANNOT_LIFT = "You do not have the required authority to change this suppression."
HARD_BOUNCE = {
    "Type": "HardBounce",
    "TypeCode": 1,
    "Name": "Hard bounce",
    "Description": (
        "The server was unable to deliver your message (ex: unknown user, mailbox not found)."
    ),
}
SPAM_COMPLAINT = {
    "Type": "SpamComplaint",
    "TypeCode": 512,  # as in Postmark's spam complaint webhook example
    "Name": "Spam complaint",
    "Description": "",
}
CLIENT = {"Name": "Firefox 128.0", "Company": "Mozilla", "Family": "Firefox"}
OS = {"Name": "Linux", "Company": "unknown", "Family": "Linux"}
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
GEO = {
    "CountryISOCode": "US",
    "Country": "United States",
    "RegionISOCode": "CA",
    "Region": "California",
    "City": "San Francisco",
    "Zip": "94107",
    "Coords": "37.7697,-122.3933",
    "IP": "203.0.113.10",
}


class SendRefused(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _result(code: int, message: str) -> dict[str, Any]:
    return {"ErrorCode": code, "Message": message}


class Postmark(Dialect):
    name = "postmark"
    label = "Postmark"

    def __init__(self, sim: Any) -> None:
        super().__init__(sim)
        self._bounce_ids = itertools.count(random.randint(4_000_000_000, 4_100_000_000))

    @property
    def api_url(self) -> str:
        return f"{self.sim.url}/"

    def anymail_settings(self) -> dict[str, Any]:
        settings: dict[str, Any] = {"POSTMARK_API_URL": self.api_url}
        if self.sim.api_key:
            settings["POSTMARK_SERVER_TOKEN"] = self.sim.api_key
        return settings

    def rules(self) -> list[Rule]:
        base = "/message-streams/<stream>/suppressions"
        return [
            Rule("/email", methods=["POST"], endpoint=self.send_one),
            Rule("/email/batch", methods=["POST"], endpoint=self.send_batch),
            Rule(base, methods=["POST"], endpoint=self.suppress),
            Rule(f"{base}/delete", methods=["POST"], endpoint=self.lift),
            Rule(f"{base}/dump", methods=["GET"], endpoint=self.dump),
        ]

    def error(self, status: int, message: str) -> SimResponse:
        return json_response(status, _result(status, message))

    def fault_response(self, fault: Fault) -> SimResponse:
        status = fault.status or 500
        code = {401: 10, 422: 300}.get(status, status)
        message = fault.message or ERROR_MESSAGES.get(status, f"Error {status}")
        return json_response(status, _result(code, message), note="injected fault")

    def _refused_token(self, request: Request) -> SimResponse | None:
        token = request.headers.get("X-Postmark-Server-Token")
        if self.sim.api_key is None:
            return None
        if not token:
            return json_response(401, _result(10, NO_CREDENTIAL))
        if token != self.sim.api_key:
            return json_response(401, _result(10, BAD_CREDENTIAL))
        return None

    # -- sending --------------------------------------------------------------

    def send_one(self, request: Request) -> SimResponse:
        refused = self.take_fault() or self._refused_token(request)
        if refused is not None:
            return refused
        try:
            message = read_json(request)
        except ValueError:
            return json_response(422, _result(402, "Received invalid JSON input."))
        result = self._send(message)
        status = 200 if result["ErrorCode"] == 0 else 422
        return json_response(status, result, note=_note(result))

    def send_batch(self, request: Request) -> SimResponse:
        refused = self.take_fault() or self._refused_token(request)
        if refused is not None:
            return refused
        try:
            messages = read_json(request)
        except ValueError:
            return json_response(422, _result(402, "Received invalid JSON input."))
        if not isinstance(messages, list):
            return json_response(422, _result(402, "Received invalid JSON input."))
        if len(messages) > 500:
            return json_response(422, _result(300, "Too many batch messages (max 500)."))
        results = [self._send(message) for message in messages]
        accepted = sum(1 for result in results if result["ErrorCode"] == 0)
        return json_response(200, results, note=f"batch={len(results)} accepted={accepted}")

    def _send(self, message: Any) -> dict[str, Any]:
        try:
            return self._accept(message)
        except SendRefused as refused:
            return _result(refused.code, refused.message)

    def _accept(self, message: Any) -> dict[str, Any]:
        if not isinstance(message, dict):
            raise SendRefused(402, "Received invalid JSON input.")
        from_ = str(message.get("From") or "")
        senders, bad = parse_addresses(from_)
        if bad is not None or not senders:
            raise SendRefused(300, f"Invalid 'From' address: '{from_}'.")
        recipients: list[tuple[str, str, str]] = []
        for field in ("To", "Cc", "Bcc"):
            pairs, bad = parse_addresses(str(message.get(field) or ""))
            if bad is not None:
                raise SendRefused(300, f"Invalid '{field}' address: '{bad}'.")
            recipients += [(field.lower(), display, addr) for display, addr in pairs]
        if not recipients:
            raise SendRefused(300, "Zero recipients specified")
        if len(recipients) > 50:
            raise SendRefused(300, "Maximum of 50 recipients allowed per message.")
        templated = "TemplateId" in message or "TemplateAlias" in message
        if not (message.get("TextBody") or message.get("HtmlBody") or templated):
            raise SendRefused(300, "Provide either email TextBody or HtmlBody or both.")
        stream = str(message.get("MessageStream") or DEFAULT_STREAM)
        inactive = [
            addr.lower()
            for _kind, _display, addr in recipients
            if self.sim.suppressions.get(SUPPRESSIONS, stream, addr)
        ]
        if len(inactive) == len(recipients):
            raise SendRefused(
                406,
                "You tried to send to a recipient that has been marked as inactive.\n"
                f"Found inactive addresses: {', '.join(inactive)}.\n{INACTIVE_NOTE}",
            )
        message_id = str(uuid.uuid4())
        messages = [
            self._message(message, message_id, stream, kind, display, addr)
            for kind, display, addr in recipients
            if addr.lower() not in inactive
        ]
        self.sim.accept(messages, [choose_outcome(m.recipient) for m in messages])
        result: dict[str, Any] = {}
        if message.get("To"):
            result["To"] = message["To"]
        result["SubmittedAt"] = iso_time(messages[0].accepted_at, 7)
        result["MessageID"] = message_id
        result["ErrorCode"] = 0
        result["Message"] = "OK"
        if inactive:
            result["Message"] = (
                "Message OK, but will not deliver to these inactive addresses: "
                f"{', '.join(inactive)}. {INACTIVE_NOTE}"
            )
        return result

    def _message(
        self, message: dict, message_id: str, stream: str, kind: str, display: str, addr: str
    ) -> SentMessage:
        text, html = str(message.get("TextBody") or ""), str(message.get("HtmlBody") or "")
        attachments = [_attachment(item) for item in message.get("Attachments") or []]
        metadata = message.get("Metadata") or {}
        headers = {
            str(item.get("Name")): str(item.get("Value"))
            for item in message.get("Headers") or []
            if isinstance(item, dict)
        }
        subject = str(message.get("Subject") or "")
        return SentMessage(
            message_id=message_id,
            domain=stream,
            recipient=addr,
            recipient_type=kind,
            to=str(message.get("To") or ""),
            sender=addr_spec(str(message["From"]).split(",")[0]),
            from_=str(message["From"]),
            subject=subject,
            tags=[str(message["Tag"])] if message.get("Tag") else [],
            metadata={str(k): str(v) for k, v in metadata.items()},
            headers=headers,
            has_text=bool(text),
            has_html=bool(html),
            template=str(message.get("TemplateAlias") or message.get("TemplateId") or "") or None,
            attachments=attachments,
            size=500 + len(subject) + len(text) + len(html) + sum(a["size"] for a in attachments),
            outcome=choose_outcome(addr).name,
            click_url=first_link(html, text, "https://example.com/"),
            esp={"stream": stream, "server_id": SERVER_ID},
        )

    # -- suppressions ---------------------------------------------------------

    def _addresses(self, request: Request) -> list[str] | SimResponse:
        refused = self._refused_token(request)
        if refused is not None:
            return refused
        try:
            body = read_json(request)
            items = body["Suppressions"]
            return [str(item["EmailAddress"]) for item in items]
        except (ValueError, KeyError, TypeError):
            return json_response(422, _result(402, "Received invalid JSON input."))

    def suppress(self, request: Request, stream: str) -> SimResponse:
        addresses = self._addresses(request)
        if isinstance(addresses, SimResponse):
            return addresses
        results = []
        for address in addresses:
            if not is_valid_addr_spec(address):
                message = "An invalid email address was provided."
                results.append({"EmailAddress": address, "Status": "Failed", "Message": message})
                continue
            self._suppress(stream, address, "ManualSuppression", "Customer")
            results.append({"EmailAddress": address, "Status": "Suppressed", "Message": None})
        return json_response(200, {"Suppressions": results})

    def lift(self, request: Request, stream: str) -> SimResponse:
        addresses = self._addresses(request)
        if isinstance(addresses, SimResponse):
            return addresses
        results = []
        for address in addresses:
            entry = self.sim.suppressions.get(SUPPRESSIONS, stream, address)
            if entry and entry["reason"] == "SpamComplaint":
                results.append(
                    {"EmailAddress": address, "Status": "Failed", "Message": CANNOT_LIFT}
                )
                continue
            self.sim.suppressions.remove(SUPPRESSIONS, stream, address)
            results.append({"EmailAddress": address, "Status": "Deleted", "Message": None})
        return json_response(200, {"Suppressions": results})

    def dump(self, request: Request, stream: str) -> SimResponse:
        refused = self._refused_token(request)
        if refused is not None:
            return refused
        found = self.sim.suppressions.items(SUPPRESSIONS, stream)
        wanted = {
            "address": request.args.get("EmailAddress"),
            "reason": request.args.get("SuppressionReason"),
            "origin": request.args.get("Origin"),
        }
        for key, value in wanted.items():
            if value:
                found = [e for e in found if str(e[key]).lower() == value.lower()]
        items = [
            {
                "EmailAddress": e["address"],
                "SuppressionReason": e["reason"],
                "Origin": e["origin"],
                "CreatedAt": e["created_at"],
            }
            for e in found
        ]
        return json_response(200, {"Suppressions": items})

    def _suppress(self, stream: str, address: str, reason: str, origin: str) -> None:
        entry = {
            "address": address,
            "reason": reason,
            "origin": origin,
            "created_at": iso_time(time.time(), 7),
        }
        self.sim.suppressions.add(SUPPRESSIONS, stream, entry)

    # -- events ---------------------------------------------------------------

    def chain(
        self, message: SentMessage, outcome: Outcome, moments: list[Moment]
    ) -> list[EventRecord]:
        records = []
        for moment in moments:
            built = self._event(message, moment)
            if built is None:
                continue
            data, event, reason = built
            records.append(
                EventRecord(
                    data=data,
                    due=moment.due,
                    message=message,
                    kind=moment.step,
                    event=event,
                    id=str(data.get("ID") or uuid.uuid4()),
                    timestamp=moment.timestamp,
                    severity="permanent" if event == "Bounce" else None,
                    reason=reason,
                )
            )
        return link(records)

    def _event(self, msg: SentMessage, moment: Moment) -> tuple[dict, str, str | None] | None:
        step, when = moment.step, iso_time(moment.timestamp, 7)
        common = {"MessageStream": msg.domain, "MessageID": msg.message_id}
        if msg.tags:
            common["Tag"] = msg.tags[0]
        common["Metadata"] = dict(msg.metadata)
        if step == steps.DELIVERED:
            data = {"RecordType": "Delivery", "ServerID": SERVER_ID, **common}
            data |= {"Recipient": msg.recipient, "DeliveredAt": when}
            data["Details"] = "smtp;250 2.0.0 OK"
            return data, "Delivery", None
        if step in (steps.BOUNCED, steps.NO_DOMAIN):
            details = "smtp;550 5.1.1 The email account that you tried to reach does not exist."
            if step == steps.NO_DOMAIN:
                domain = msg.recipient.rpartition("@")[2]
                details = f"smtp;550 5.1.2 Host or domain name not found ({domain}): no MX record"
            data = self._bounce("Bounce", HARD_BOUNCE, msg, common, when, details)
            return data, "Bounce", "HardBounce"
        if step == steps.COMPLAINED:
            details = "The recipient marked this message as spam."
            data = self._bounce("SpamComplaint", SPAM_COMPLAINT, msg, common, when, details)
            data["CanActivate"] = False
            return data, "SpamComplaint", "SpamComplaint"
        if step == steps.OPENED:
            data = {"RecordType": "Open", **common, "FirstOpen": True}
            data |= _client() | {"Platform": "Desktop", "ReadSeconds": random.randint(2, 30)}
            data |= {"ReceivedAt": when, "Recipient": msg.recipient}
            return data, "Open", None
        if step == steps.CLICKED:
            data = {"RecordType": "Click", **common, "ClickLocation": "HTML"}
            data |= _client() | {"Platform": "Desktop", "OriginalLink": msg.click_url}
            data |= {"ReceivedAt": when, "Recipient": msg.recipient}
            return data, "Click", None
        return None  # accepted, deferred: Postmark posts nothing

    def _bounce(
        self, record_type: str, kind: dict, msg: SentMessage, common: dict, when: str, details: str
    ) -> dict[str, Any]:
        data = {"RecordType": record_type, "MessageStream": common["MessageStream"]}
        data |= {"ID": next(self._bounce_ids), **kind}
        data |= {k: common[k] for k in ("Tag", "MessageID", "Metadata") if k in common}
        data |= {"ServerID": SERVER_ID, "Details": details, "Email": msg.recipient}
        data |= {"From": msg.sender, "BouncedAt": when, "DumpAvailable": True}
        data |= {"Inactive": True, "CanActivate": True, "Subject": msg.subject}
        return data

    def on_fire(self, record: EventRecord) -> None:
        """Postmark deactivates an address that hard-bounced or complained, in its stream."""
        message = record.message
        if message is None or record.event not in ("Bounce", "SpamComplaint"):
            return
        if record.data.get("Inactive"):
            reason = "SpamComplaint" if record.event == "SpamComplaint" else "HardBounce"
            self._suppress(message.domain, record.recipient, reason, "Recipient")

    # -- webhooks -------------------------------------------------------------

    def webhook_post(self, records: list[EventRecord], now: float) -> WebhookPost:
        [record] = records
        headers = {"Content-Type": "application/json", "User-Agent": "Postmark"}
        return WebhookPost(json.dumps(record.data).encode(), headers)

    def verdict(self, status: int) -> str:
        if status == 403:
            return "refused"
        return super().verdict(status)


def _client() -> dict[str, Any]:
    return {"Client": dict(CLIENT), "OS": dict(OS), "UserAgent": USER_AGENT, "Geo": dict(GEO)}


def _attachment(item: Any) -> dict[str, Any]:
    item = item if isinstance(item, dict) else {}
    try:
        size = len(base64.b64decode(str(item.get("Content") or ""), validate=False))
    except (binascii.Error, ValueError):
        size = 0
    name = str(item.get("Name") or "")
    content_type = str(item.get("ContentType") or "application/octet-stream")
    return {"filename": name, "content-type": content_type, "size": size}


def _note(result: dict[str, Any]) -> str:
    if result.get("ErrorCode"):
        return f"ErrorCode={result['ErrorCode']}"
    return f"id={result.get('MessageID')}"
