"""Amazon SES: the SES v2 API as anymail's backend calls it through boto3, the account's
suppression list, and event publishing to an SNS topic whose HTTPS subscription is the app.

``AMAZON_SES_CLIENT_PARAMS = {"endpoint_url": "http://127.0.0.1:<port>", ...}`` (anymail passes
the client params to ``boto3.session.Session().client("sesv2", ...)``, and to the SNS client
its webhook view confirms subscriptions with). ``POST /v2/email/outbound-emails`` (SendEmail;
``Content.Raw``, or ``Simple``) answers ``{"MessageId": ...}``; the Authorization header's
access key id is checked (the SigV4 signature itself is not). Errors are SES's: a status,
``x-amzn-ErrorType`` and ``{"message": ...}``. Suppression list: ``PUT|GET
/v2/email/suppression/addresses``, ``GET|DELETE .../addresses/<email>``.

Anymail sends metadata in an ``X-Metadata`` header and tags in ``X-Tag`` headers of the raw
message (SES message tags are too restricted for them), and its webhook view reads them back
from the event's ``mail.headers``: every event carries the original headers, as SES event
publishing does.

Events are SES event-publishing records (``eventType``), posted as SNS HTTPS notifications:
the SNS envelope (Type, MessageId, TopicArn, Subject, Message = the event as a JSON string,
Timestamp, SignatureVersion 2, Signature, SigningCertURL, UnsubscribeURL) signed with the
simulator's own certificate (``espsim.sns``), with SNS's ``x-amz-sns-*`` headers. As SNS does,
a post is first made without credentials and repeated with the URL's basic auth after a 401
challenge; any answer from 200 to 499 ends the delivery (a 4xx is "refused"), others are
retried. At start (and when the webhook URL changes) the endpoint gets a
SubscriptionConfirmation whose SubscribeURL points at the simulator; fetching it, or calling
SNS's ConfirmSubscription on the simulator (what anymail's view does), confirms the
subscription (``config()["sns"]["subscriptions"]``). Notifications are posted whether or not it
is confirmed. The topic ARN and certificate URL are options (printed at start). In
``/sim/events`` an event's ``event_data`` is the SES event; its SNS envelope is built, and
signed, for each post.

| step       | SES event                                                            |
|------------|----------------------------------------------------------------------|
| accepted   | ``Send`` (once per message, for all its destinations)                |
| delivered  | ``Delivery``                                                         |
| bounced    | ``Bounce`` Permanent/General (5.1.1); on the suppression list (BOUNCE) |
| deferred   | ``DeliveryDelay`` (RecipientServerError, 4.7.1)                      |
| complained | ``Complaint`` (abuse); on the suppression list (COMPLAINT)           |
| opened     | ``Open``                                                             |
| clicked    | ``Click`` (the first link)                                           |
| no_domain  | ``Bounce`` Permanent/General (5.1.2)                                 |
| suppressed | ``Bounce`` Permanent/OnAccountSuppressionList                        |

A message whose raw content holds the EICAR anti-virus test string gets ``Send`` then ``Reject``
("Bad content"), as SES does for a virus.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import json
import re
import secrets
import time
import uuid
from email.utils import getaddresses
from typing import Any
from urllib.parse import quote, urlsplit

from werkzeug.routing import Rule
from werkzeug.wrappers import Request

from . import outcomes as steps
from .addresses import addr_spec, domain_of, is_valid_addr_spec
from .content import first_link
from .dialect import Dialect, SimResponse, WebhookPost, iso_time, json_response, read_json
from .faults import ERROR_MESSAGES, Fault
from .outcomes import Moment, Outcome, choose_outcome
from .records import EventRecord, SentMessage, link
from .sns import Signer, signed, xml_error, xml_response
from .sns import headers as sns_headers
from .webhooks import redact_url

ACCOUNT_ID = "123456789012"
SUPPRESSED = "suppressed"  # the account-level suppression list
SUBJECT = "Amazon SES Email Event Notification"
SOURCE_IP = "192.0.2.10"
OUTGOING_IP = "198.51.100.25"
REPORTING_MTA = "a8-12.smtp-out.amazonses.com"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
ON_SUPPRESSION_LIST = (
    "Amazon SES did not send the message to this address because it is on the suppression "
    "list for your account. For more information about removing addresses from the "
    "suppression list, see the Amazon SES Developer Guide at "
    "https://docs.aws.amazon.com/ses/latest/DeveloperGuide/sending-email-suppression-list.html"
)
ERROR_TYPES = {
    400: "BadRequestException",
    403: "AccessDeniedException",
    404: "NotFoundException",
    429: "TooManyRequestsException",
    500: "InternalFailure",
    503: "ServiceUnavailable",
}
_UNFOLD = re.compile(r"\r?\n(?=[ \t])")


def ses_error(status: int, error_type: str, message: str, note: str = "") -> SimResponse:
    headers = {"x-amzn-ErrorType": f"{error_type}:", "x-amzn-RequestId": str(uuid.uuid4())}
    return json_response(status, {"message": message}, headers=headers, note=note)


def _ses_id(now: float) -> str:
    """An SES-style id: ``0102`` + 12 hex digits of milliseconds, a UUID, ``-000000``."""
    return f"0102{int(now * 1000) & 0xFFFFFFFFFFFF:012x}-{uuid.uuid4()}-000000"


class SendRefused(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type, self.message = error_type, message


class AmazonSES(Dialect):
    name = "amazon_ses"
    label = "Amazon SES"
    options = ("topic_arn", "cert_url")

    def __init__(
        self,
        sim: Any,
        region: str | None = None,
        topic_arn: str | None = None,
        cert_url: str | None = None,
        configuration_set: str = "espsim",
    ) -> None:
        super().__init__(sim)
        self.region = region or "eu-west-1"
        self.topic_arn = topic_arn or f"arn:aws:sns:{self.region}:{ACCOUNT_ID}:espsim-ses-events"
        self.signer = Signer(self.region)
        self.cert_url = cert_url or f"{sim.url}/sns/{self.signer.file_name}"
        self.configuration_set = configuration_set
        self.subscriptions: list[dict[str, Any]] = []

    @property
    def api_url(self) -> str:
        return self.sim.url

    def anymail_settings(self) -> dict[str, Any]:
        params = {
            "endpoint_url": self.api_url,
            "region_name": self.region,
            "aws_access_key_id": self.sim.api_key or "espsim-access-key",
            "aws_secret_access_key": "espsim-secret-key",
        }
        return {"AMAZON_SES_CLIENT_PARAMS": params}

    def rules(self) -> list[Rule]:
        suppression = "/v2/email/suppression/addresses"
        return [
            Rule("/v2/email/outbound-emails", methods=["POST"], endpoint=self.send_email),
            Rule(suppression, methods=["PUT"], endpoint=self.put_suppressed),
            Rule(suppression, methods=["GET"], endpoint=self.list_suppressed),
            Rule(f"{suppression}/<email>", methods=["GET", "DELETE"], endpoint=self.suppressed),
            Rule("/", methods=["GET", "POST"], endpoint=self.sns_action),
            Rule("/sns/<name>", methods=["GET"], endpoint=self.certificate),
        ]

    def error(self, status: int, message: str) -> SimResponse:
        return ses_error(status, ERROR_TYPES.get(status, "BadRequestException"), message)

    def fault_response(self, fault: Fault) -> SimResponse:
        status = fault.status or 500
        message = fault.message or ERROR_MESSAGES.get(status, f"Error {status}")
        error_type = ERROR_TYPES.get(status, "InternalFailure")
        return ses_error(status, error_type, message, note="injected fault")

    def _refused_credentials(self, request: Request) -> SimResponse | None:
        authorization = request.headers.get("Authorization", "")
        if not authorization:
            missing = "Missing Authentication Token"
            return ses_error(403, "MissingAuthenticationTokenException", missing)
        if self.sim.api_key is None:
            return None
        match = re.search(r"Credential=([^/,\s]+)/", authorization)
        if not match or match.group(1) != self.sim.api_key:
            message = "The security token included in the request is invalid."
            return ses_error(403, "UnrecognizedClientException", message)
        return None

    # -- sending --------------------------------------------------------------

    def send_email(self, request: Request) -> SimResponse:
        refused = self.take_fault() or self._refused_credentials(request)
        if refused is not None:
            return refused
        try:
            params = read_json(request)
            if not isinstance(params, dict):
                raise ValueError
        except ValueError:
            return ses_error(400, "BadRequestException", "Invalid request body")
        try:
            message_id, count = self._accept(params)
        except SendRefused as refused_send:
            return ses_error(400, refused_send.error_type, refused_send.message)
        note = f"id={message_id} recipients={count}"
        return json_response(200, {"MessageId": message_id}, note=note)

    def _accept(self, params: dict[str, Any]) -> tuple[str, int]:
        raw = _raw_message(params.get("Content"))
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        source = str(params.get("FromEmailAddress") or parsed.get("From") or "")
        if not source:
            raise SendRefused("BadRequestException", "Missing required header 'From'.")
        if not is_valid_addr_spec(addr_spec(source)):
            raise SendRefused("BadRequestException", f"Illegal address: {source}")
        destination = params.get("Destination") or {}
        recipients: list[tuple[str, str]] = []
        for key, kind in (("ToAddresses", "to"), ("CcAddresses", "cc"), ("BccAddresses", "bcc")):
            values = destination.get(key) or []
            if not destination:  # SES reads them from the headers
                values = [a for _, a in getaddresses(parsed.get_all(kind.capitalize()) or [])]
            for value in values:
                address = addr_spec(str(value))
                if "@" not in address:
                    raise SendRefused("BadRequestException", "Missing final '@domain'")
                if not is_valid_addr_spec(address):
                    raise SendRefused("BadRequestException", f"Illegal address: {address}")
                recipients.append((kind, address))
        if not recipients:
            raise SendRefused("BadRequestException", "Missing required field Destination")
        if len(recipients) > 50:
            raise SendRefused("BadRequestException", "Recipient count exceeds 50.")
        now = time.time()
        message_id = _ses_id(now)
        mail = self._mail_object(params, parsed, raw, source, message_id, recipients, now)
        messages, outcomes = [], []
        virus = EICAR in raw
        for kind, address in recipients:
            listed = self.sim.suppressions.get(SUPPRESSED, "", address)
            outcome = choose_outcome(address, (listed or {}).get("outcome"))
            if virus:
                outcome = Outcome("reject", (steps.ACCEPTED,))
            messages.append(self._message(parsed, mail, message_id, kind, address, outcome, raw))
            outcomes.append(outcome)
        self.sim.accept(messages, outcomes, now)
        return message_id, len(recipients)

    def _mail_object(
        self,
        params: dict[str, Any],
        parsed: email.message.EmailMessage,
        raw: bytes,
        source: str,
        message_id: str,
        recipients: list[tuple[str, str]],
        now: float,
    ) -> dict[str, Any]:
        raw_headers = email.message_from_bytes(raw, policy=email.policy.compat32)
        headers = [{"name": k, "value": _UNFOLD.sub("", str(v))} for k, v in raw_headers.items()]
        common: dict[str, Any] = {}
        for name, key in (("From", "from"), ("Reply-To", "replyTo"), ("To", "to"), ("Cc", "cc")):
            if parsed.get(name):
                common[key] = [_decoded(a) for a in getaddresses([str(parsed[name])])]
        for name, key in (("Message-ID", "messageId"), ("Date", "date"), ("Subject", "subject")):
            if parsed.get(name) is not None:
                common[key] = str(parsed[name])
        sender_domain = domain_of(addr_spec(source))
        configuration_set = params.get("ConfigurationSetName") or self.configuration_set
        tags = {
            "ses:configuration-set": [str(configuration_set)],
            "ses:source-ip": [SOURCE_IP],
            "ses:from-domain": [sender_domain],
            "ses:caller-identity": ["espsim"],
        }
        for tag in params.get("EmailTags") or []:
            tags[str(tag.get("Name"))] = [str(tag.get("Value"))]
        return {
            "timestamp": iso_time(now),
            "source": source,
            "sourceArn": f"arn:aws:ses:{self.region}:{ACCOUNT_ID}:identity/{sender_domain}",
            "sendingAccountId": ACCOUNT_ID,
            "messageId": message_id,
            "destination": [address for _kind, address in recipients],
            "headersTruncated": False,
            "headers": headers,
            "commonHeaders": common,
            "tags": tags,
        }

    def _message(
        self,
        parsed: email.message.EmailMessage,
        mail: dict[str, Any],
        message_id: str,
        kind: str,
        address: str,
        outcome: Outcome,
        raw: bytes,
    ) -> SentMessage:
        text, html, attachments = _parts(parsed)
        try:
            metadata = json.loads(str(parsed.get("X-Metadata") or "{}"))
        except ValueError:
            metadata = {}
        headers = {h["name"]: h["value"] for h in mail["headers"]}
        return SentMessage(
            message_id=message_id,
            domain="",
            recipient=address,
            recipient_type=kind,
            to=str(parsed.get("To") or ""),
            sender=addr_spec(mail["source"]),
            from_=str(parsed.get("From") or mail["source"]),
            subject=str(parsed.get("Subject") or ""),
            tags=[str(tag) for tag in parsed.get_all("X-Tag") or []],
            metadata=metadata if isinstance(metadata, dict) else {},
            headers=headers,
            has_text=bool(text),
            has_html=bool(html),
            template=None,
            attachments=attachments,
            size=len(raw),
            outcome=outcome.name,
            click_url=first_link(html, text, "https://example.com/"),
            esp={"mail": mail},
        )

    # -- suppression list -----------------------------------------------------

    def put_suppressed(self, request: Request) -> SimResponse:
        refused = self._refused_credentials(request)
        if refused is not None:
            return refused
        try:
            body = read_json(request)
            address, reason = str(body["EmailAddress"]), str(body["Reason"])
        except (ValueError, KeyError, TypeError):
            return ses_error(400, "BadRequestException", "EmailAddress and Reason are required")
        if reason not in ("BOUNCE", "COMPLAINT"):
            return ses_error(400, "BadRequestException", f"Invalid Reason: {reason}")
        self._suppress(address, reason, None, None)
        return json_response(200, {})

    def list_suppressed(self, request: Request) -> SimResponse:
        refused = self._refused_credentials(request)
        if refused is not None:
            return refused
        reasons = request.args.getlist("Reason")
        entries = self.sim.suppressions.items(SUPPRESSED, "")
        summaries = [
            {"EmailAddress": e["address"], "Reason": e["reason"], "LastUpdateTime": e["updated"]}
            for e in entries
            if not reasons or e["reason"] in reasons
        ]
        return json_response(200, {"SuppressedDestinationSummaries": summaries})

    def suppressed(self, request: Request, email: str) -> SimResponse:
        refused = self._refused_credentials(request)
        if refused is not None:
            return refused
        entry = self.sim.suppressions.get(SUPPRESSED, "", email)
        if entry is None:
            message = f"Email address {email} does not exist on your suppression list."
            return ses_error(404, "NotFoundException", message)
        if request.method == "DELETE":
            self.sim.suppressions.remove(SUPPRESSED, "", email)
            return json_response(200, {})
        destination: dict[str, Any] = {
            "EmailAddress": entry["address"],
            "Reason": entry["reason"],
            "LastUpdateTime": entry["updated"],
        }
        if entry.get("message_id"):
            destination["Attributes"] = {
                "MessageId": entry["message_id"],
                "FeedbackId": entry["feedback_id"],
            }
        return json_response(200, {"SuppressedDestination": destination})

    def _suppress(
        self, address: str, reason: str, message_id: str | None, feedback_id: str | None
    ) -> None:
        entry = {
            "address": address,
            "reason": reason,
            "outcome": "bounce" if reason == "BOUNCE" else "complaint",
            "updated": time.time(),
            "message_id": message_id,
            "feedback_id": feedback_id,
        }
        self.sim.suppressions.add(SUPPRESSED, "", entry)

    # -- events ---------------------------------------------------------------

    def build_events(
        self, messages: list[SentMessage], outcomes: list[Outcome], now: float
    ) -> list[list[EventRecord]]:
        """One Send per message (in its first recipient's chain); the rest per recipient."""
        chains = []
        for index, (message, outcome) in enumerate(zip(messages, outcomes, strict=True)):
            moments = self.timeline(outcome, now)
            if index:
                moments = [m for m in moments if m.step != steps.ACCEPTED]
            if outcome.name == "reject" and index == 0:
                due = moments[0].due + 0.3 * self.sim.delay_scale
                moments.append(Moment("reject", due, due))
            chains.append(self.chain(message, outcome, moments))
        return chains

    def chain(
        self, message: SentMessage, outcome: Outcome, moments: list[Moment]
    ) -> list[EventRecord]:
        records = []
        for moment in moments:
            event, severity, reason = self._event(message, outcome, moment)
            message_id = str(uuid.uuid4())  # the SNS notification's, kept on every retry
            records.append(
                EventRecord(
                    data=event,
                    due=moment.due,
                    message=message,
                    kind=moment.step,
                    event=event["eventType"],
                    id=message_id,
                    timestamp=moment.timestamp,
                    severity=severity,
                    reason=reason,
                    token=message_id,
                )
            )
        return link(records)

    def _event(
        self, msg: SentMessage, outcome: Outcome, moment: Moment
    ) -> tuple[dict[str, Any], str | None, str | None]:
        step, when = moment.step, iso_time(moment.timestamp)
        mail = json.loads(json.dumps(msg.esp["mail"]))  # a copy per event
        address = msg.recipient
        feedback = {"timestamp": when, "feedbackId": _ses_id(moment.timestamp)}
        if step == steps.ACCEPTED:
            return {"eventType": "Send", "mail": mail, "send": {}}, None, None
        if step == "reject":
            event = {"eventType": "Reject", "mail": mail, "reject": {"reason": "Bad content"}}
            return event, "permanent", "Bad content"
        if step == steps.DELIVERED:
            mail["tags"]["ses:outgoing-ip"] = [OUTGOING_IP]
            delivery = {
                "timestamp": when,
                "processingTimeMillis": int((moment.timestamp - msg.accepted_at) * 1000),
                "recipients": [address],
                "smtpResponse": "250 2.0.0 OK  1700000000 espsim - gsmtp",
                "reportingMTA": REPORTING_MTA,
                "remoteMtaIp": "203.0.113.25",
            }
            return {"eventType": "Delivery", "mail": mail, "delivery": delivery}, None, None
        if step in (steps.BOUNCED, steps.NO_DOMAIN, steps.SUPPRESSED):
            subtype, status, diagnostic = (
                "General",
                "5.1.1",
                ("smtp; 550 5.1.1 The email account that you tried to reach does not exist."),
            )
            if step == steps.NO_DOMAIN:
                status = "5.1.2"
                diagnostic = f"smtp; 550 5.1.2 Host or domain name not found: {domain_of(address)}"
            if step == steps.SUPPRESSED:
                subtype, diagnostic = "OnAccountSuppressionList", ON_SUPPRESSION_LIST
            recipient = {"emailAddress": address, "action": "failed", "status": status}
            recipient["diagnosticCode"] = diagnostic
            bounce = {"bounceType": "Permanent", "bounceSubType": subtype}
            bounce |= {"bouncedRecipients": [recipient], **feedback}
            suppressed = step == steps.SUPPRESSED
            bounce["reportingMTA"] = "dns; amazonses.com" if suppressed else f"dsn; {REPORTING_MTA}"
            return {"eventType": "Bounce", "bounce": bounce, "mail": mail}, "permanent", subtype
        if step == steps.DEFERRED:
            delay = {
                "timestamp": when,
                "delayType": "RecipientServerError",
                "expirationTime": iso_time(moment.timestamp + 14 * 3600),
                "delayedRecipients": [
                    {
                        "emailAddress": address,
                        "status": "4.7.1",
                        "diagnosticCode": "smtp; 451 4.7.1 Greylisted, please try again later",
                    }
                ],
                "reportingMTA": OUTGOING_IP,
            }
            event = {"eventType": "DeliveryDelay", "mail": mail, "deliveryDelay": delay}
            return event, "temporary", "RecipientServerError"
        if step == steps.COMPLAINED:
            complaint = {"complainedRecipients": [{"emailAddress": address}], **feedback}
            complaint["userAgent"] = "Espsim Feedback Loop (V0.01)"
            complaint["complaintFeedbackType"] = "abuse"
            complaint |= {"arrivalDate": when, "complaintSubType": None}
            return {"eventType": "Complaint", "complaint": complaint, "mail": mail}, None, "abuse"
        if step == steps.OPENED:
            opened = {"ipAddress": "203.0.113.10", "timestamp": when, "userAgent": USER_AGENT}
            return {"eventType": "Open", "mail": mail, "open": opened}, None, None
        if step == steps.CLICKED:
            click = {"ipAddress": "203.0.113.10", "link": msg.click_url, "linkTags": {}}
            click |= {"timestamp": when, "userAgent": USER_AGENT}
            return {"eventType": "Click", "click": click, "mail": mail}, None, None
        raise ValueError(f"no SES event for step {step!r}")

    def on_fire(self, record: EventRecord) -> None:
        """The account-level suppression list takes hard bounces and complaints."""
        if record.message is None:  # a subscription confirmation
            return
        data = record.data
        bounce = data.get("bounce") or {}
        if data["eventType"] == "Bounce" and bounce.get("bounceSubType") == "General":
            self._suppress(record.recipient, "BOUNCE", record.message_id, bounce["feedbackId"])
        elif data["eventType"] == "Complaint":
            feedback = data["complaint"]["feedbackId"]
            self._suppress(record.recipient, "COMPLAINT", record.message_id, feedback)

    # -- SNS ------------------------------------------------------------------

    def webhook_post(self, records: list[EventRecord], now: float) -> WebhookPost:
        [record] = records
        if record.kind == "subscription":
            message = record.data
        else:
            message = {
                "Type": "Notification",
                "MessageId": record.token,
                "TopicArn": self.topic_arn,
                "Subject": SUBJECT,
                "Message": json.dumps(record.data, separators=(",", ":")),
                "Timestamp": iso_time(record.timestamp),
                "UnsubscribeURL": self._unsubscribe_url(),
            }
        message = signed(message, self.signer, self.cert_url)
        headers = sns_headers(message, self._subscription_arn())
        return WebhookPost(json.dumps(message, indent=2).encode(), headers, challenge=True)

    def verdict(self, status: int) -> str:
        """SNS takes any answer from 200 to 499 as the end of a delivery."""
        if 200 <= status < 300:
            return "delivered"
        return "refused" if 300 <= status < 500 else "retry"

    def _subscription_arn(self) -> str:
        for subscription in reversed(self.subscriptions):
            if subscription["state"] == "confirmed":
                return subscription["subscription_arn"]
        return f"{self.topic_arn}:{uuid.UUID(int=0)}"

    def _unsubscribe_url(self) -> str:
        arn = quote(self._subscription_arn())
        return f"{self.sim.url}/?Action=Unsubscribe&SubscriptionArn={arn}"

    def on_start(self) -> None:
        if self.sim.webhook.url:
            self.subscribe()

    def on_webhook_url(self) -> None:
        self.on_start()

    def subscribe(self) -> None:
        """Post a SubscriptionConfirmation to the webhook URL, as SNS does on Subscribe."""
        token = secrets.token_hex(128)
        subscription_arn = f"{self.topic_arn}:{uuid.uuid4()}"
        self.subscriptions.append(
            {
                "endpoint": redact_url(self.sim.webhook.url or ""),
                "topic_arn": self.topic_arn,
                "token": token,
                "subscription_arn": subscription_arn,
                "state": "pending",
                "confirmed_by": None,
            }
        )
        subscribe_url = (
            f"{self.sim.url}/?Action=ConfirmSubscription&TopicArn={quote(self.topic_arn)}"
            f"&Token={token}"
        )
        now = time.time()
        message = {
            "Type": "SubscriptionConfirmation",
            "MessageId": str(uuid.uuid4()),
            "Token": token,
            "TopicArn": self.topic_arn,
            "Message": (
                f"You have chosen to subscribe to the topic {self.topic_arn}.\n"
                "To confirm the subscription, visit the SubscribeURL included in this message."
            ),
            "SubscribeURL": subscribe_url,
            "Timestamp": iso_time(now),
        }
        record = EventRecord(
            data=message,
            due=now,
            message=None,
            kind="subscription",
            event="SubscriptionConfirmation",
            id=message["MessageId"],
            timestamp=now,
            token=message["MessageId"],
        )
        self.sim.dispatcher.submit([record])

    def sns_action(self, request: Request) -> SimResponse:
        """SNS's query API, as far as a subscriber uses it: ConfirmSubscription (the
        SubscribeURL, or boto3's call) and Unsubscribe (the UnsubscribeURL)."""
        action = request.values.get("Action")
        if action == "ConfirmSubscription":
            token, topic = request.values.get("Token"), request.values.get("TopicArn")
            for subscription in self.subscriptions:
                if subscription["token"] == token and subscription["topic_arn"] == topic:
                    if subscription["state"] != "confirmed":
                        subscription["state"] = "confirmed"
                        subscription["confirmed_at"] = time.time()
                        subscription["confirmed_by"] = request.method + (
                            " SubscribeURL" if request.method == "GET" else " ConfirmSubscription"
                        )
                    arn = f"<SubscriptionArn>{subscription['subscription_arn']}</SubscriptionArn>"
                    return _xml(200, xml_response("ConfirmSubscription", arn))
            return _xml(400, xml_error("InvalidParameter", "Invalid parameter: Token"))
        if action == "Unsubscribe":
            arn = request.values.get("SubscriptionArn")
            for subscription in self.subscriptions:
                if subscription["subscription_arn"] == arn:
                    subscription["state"] = "unsubscribed"
            return _xml(200, xml_response("Unsubscribe"))
        return _xml(400, xml_error("InvalidAction", f"Unknown action {action}"))

    def certificate(self, request: Request, name: str) -> SimResponse:
        if name != urlsplit(self.cert_url).path.rpartition("/")[2]:
            return SimResponse("Not Found", status=404, mimetype="text/plain")
        return SimResponse(self.signer.pem, status=200, mimetype="application/x-pem-file")

    # -- settings -------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        subscriptions = [{k: v for k, v in s.items() if k != "token"} for s in self.subscriptions]
        sns = {
            "topic_arn": self.topic_arn,
            "signing_cert_url": self.cert_url,
            "subscriptions": subscriptions,
        }
        return {"region": self.region, "sns": sns}

    def configure(self, changes: dict[str, Any]) -> None:
        if "topic_arn" in changes:
            self.topic_arn = str(changes["topic_arn"])
        if "cert_url" in changes:
            self.cert_url = str(changes["cert_url"])

    def start_lines(self) -> list[str]:
        return [
            f"SNS topic (AMAZON_SNS_TOPICS): {self.topic_arn}",
            f"SNS signing certificate (SigningCertURL, AMAZON_SNS_CERT_URLS): {self.cert_url}",
        ]


def _xml(status: int, body: str) -> SimResponse:
    return SimResponse(body, status=status, mimetype="text/xml")


def _decoded(pair: tuple[str, str]) -> str:
    display, address = pair
    return f"{display} <{address}>" if display else address


def _raw_message(content: Any) -> bytes:
    """The message SendEmail was given: ``Content.Raw.Data`` (base64 in the JSON), or one
    built from ``Content.Simple``."""
    if not isinstance(content, dict):
        raise SendRefused("BadRequestException", "Missing required field Content")
    if "Raw" in content:
        try:
            return base64.b64decode(str(content["Raw"]["Data"]), validate=True)
        except (KeyError, TypeError, binascii.Error):
            raise SendRefused("BadRequestException", "Invalid raw message data") from None
    if "Simple" in content:
        simple = content["Simple"]
        message = email.message.EmailMessage()
        message["Subject"] = str(simple.get("Subject", {}).get("Data", ""))
        body = simple.get("Body", {})
        message.set_content(str(body.get("Text", {}).get("Data", "")))
        if body.get("Html"):
            message.add_alternative(str(body["Html"].get("Data", "")), subtype="html")
        for header in simple.get("Headers") or []:
            message[str(header["Name"])] = str(header["Value"])
        return message.as_bytes()
    raise SendRefused("BadRequestException", "Templates are not supported by this simulator")


def _parts(parsed: email.message.EmailMessage) -> tuple[str, str, list[dict[str, Any]]]:
    text = html = ""
    attachments = []
    for part in parsed.walk():
        if part.is_multipart():
            continue
        if part.get_content_disposition() in ("attachment", "inline") and part.get_filename():
            payload = part.get_payload(decode=True) or b""
            attachments.append(
                {
                    "filename": part.get_filename(),
                    "content-type": part.get_content_type(),
                    "size": len(payload),
                }
            )
        elif part.get_content_type() == "text/plain" and not text:
            text = str(part.get_content())
        elif part.get_content_type() == "text/html" and not html:
            html = str(part.get_content())
    return text, html, attachments
