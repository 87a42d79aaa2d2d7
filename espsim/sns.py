"""Amazon SNS's side of SES event publishing: HTTPS notifications, signed as SNS signs them.

The simulator stands in for SNS with a certificate of its own: an RSA key and a self-signed
X.509 certificate made at start (``cryptography``), served at ``SigningCertURL``. Every message
carries ``SignatureVersion`` "2": a base64 RSA PKCS#1 v1.5 signature, with SHA-256, of the
string SNS documents for its type -- each of these name/value pairs present, in this (byte)
order, as ``name\\nvalue\\n``:

- Notification: Message, MessageId, Subject (if any), Timestamp, TopicArn, Type
- SubscriptionConfirmation, UnsubscribeConfirmation: Message, MessageId, SubscribeURL,
  Timestamp, Token, TopicArn, Type

A receiver verifies it with the certificate's public key against that string (see
``canonical_string``), after checking the certificate's URL and the topic are ones it expects.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from typing import Any
from uuid import uuid4

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

NOTIFICATION_KEYS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_KEYS = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)
USER_AGENT = "Amazon Simple Notification Service Agent"


def canonical_string(message: dict[str, Any]) -> bytes:
    """The string SNS signs for ``message`` (by its Type)."""
    keys = NOTIFICATION_KEYS if message["Type"] == "Notification" else CONFIRMATION_KEYS
    return "".join(f"{key}\n{message[key]}\n" for key in keys if key in message).encode()


class Signer:
    """The simulator's SNS signing key and certificate."""

    def __init__(self, region: str) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"sns.{region}.amazonaws.com")])
        now = dt.datetime.now(dt.UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365))
            .sign(self.key, hashes.SHA256())
        )
        self.pem = self.certificate.public_bytes(serialization.Encoding.PEM)
        # Named as SNS names its certificates: after a digest of the certificate.
        self.file_name = f"SimpleNotificationService-{hashlib.md5(self.pem).hexdigest()}.pem"  # noqa: S324

    def sign(self, message: dict[str, Any]) -> str:
        signature = self.key.sign(canonical_string(message), padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode()


def signed(message: dict[str, Any], signer: Signer, cert_url: str) -> dict[str, Any]:
    """``message`` with SignatureVersion 2, its Signature and SigningCertURL, in SNS's order."""
    out = dict(message)
    out["SignatureVersion"] = "2"
    out["Signature"] = signer.sign(message)
    out["SigningCertURL"] = cert_url
    unsubscribe = out.pop("UnsubscribeURL", None)
    if unsubscribe is not None:
        out["UnsubscribeURL"] = unsubscribe
    return out


def headers(message: dict[str, Any], subscription_arn: str | None) -> dict[str, str]:
    """The HTTP headers of an SNS post of ``message``."""
    result = {
        "x-amz-sns-message-type": message["Type"],
        "x-amz-sns-message-id": message["MessageId"],
        "x-amz-sns-topic-arn": message["TopicArn"],
    }
    if subscription_arn and message["Type"] == "Notification":
        result["x-amz-sns-subscription-arn"] = subscription_arn
    result["Content-Type"] = "text/plain; charset=UTF-8"
    result["User-Agent"] = USER_AGENT
    return result


def xml_response(action: str, result: str = "") -> str:
    inner = f"<{action}Result>{result}</{action}Result>" if result else ""
    return (
        f'<{action}Response xmlns="http://sns.amazonaws.com/doc/2010-03-31/">{inner}'
        f"<ResponseMetadata><RequestId>{uuid4()}</RequestId></ResponseMetadata>"
        f"</{action}Response>"
    )


def xml_error(code: str, message: str) -> str:
    return (
        '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error>'
        f"<Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        f"<RequestId>{uuid4()}</RequestId></ErrorResponse>"
    )
