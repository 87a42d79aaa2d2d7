"""Amazon SNS messages (how Amazon SES posts its events) are accepted only as SNS signed them,
from a topic of ours.

No well-kept Python library verifies SNS signature version 2, so this is the check SNS
documents ("Verifying the signatures of Amazon SNS messages"), with `cryptography`:
- the certificate is fetched only from a URL under one of `AMAZON_SNS_CERT_URLS` (by default
  Amazon's own `https://sns.<region>.amazonaws.com/`), and kept for the process's life;
- the signed string is each of the type's fields that is present, in SNS's order, as
  `name\\nvalue\\n`; SignatureVersion 1 signs it with SHA-1, 2 with SHA-256 (RSA PKCS#1 v1.5);
- the topic must be one of `AMAZON_SNS_TOPICS`.
A SubscriptionConfirmation that passes is confirmed by fetching its `SubscribeURL`, which must
lie under the same trusted prefixes: no AWS credentials are involved.
"""

import base64
import logging
from functools import lru_cache

import requests
from anymail.exceptions import AnymailWebhookValidationFailure
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.conf import settings

logger = logging.getLogger(__name__)

SIGNED_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
SIGNED_FIELDS["UnsubscribeConfirmation"] = SIGNED_FIELDS["SubscriptionConfirmation"]
HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}
CERT_TIMEOUT = 5


class Refused(AnymailWebhookValidationFailure):
    """An SNS message we did not verify as Amazon's, for a topic of ours."""


class Unavailable(Exception):
    """SNS could not be reached to fetch a certificate or confirm a subscription: SNS retries a
    5xx answer, so the message is not lost."""


def signed_string(message: dict) -> bytes:
    """What SNS signs: the type's fields that are present, in order, as `name\\nvalue\\n`."""
    fields = SIGNED_FIELDS.get(message.get("Type"))
    if fields is None:
        raise Refused(f"unknown SNS message type {message.get('Type')!r}")
    parts = [f"{name}\n{message[name]}\n" for name in fields if message.get(name) is not None]
    return "".join(parts).encode()


def sns_message_verify(message: dict) -> None:
    """Raises Refused unless the message is signed by SNS's certificate, for a topic of ours."""
    if message.get("TopicArn") not in settings.AMAZON_SNS_TOPICS:
        raise Refused(f"SNS topic {message.get('TopicArn')!r} is not one of AMAZON_SNS_TOPICS")
    algorithm = HASHES.get(str(message.get("SignatureVersion")))
    if algorithm is None:
        raise Refused(f"unknown SNS SignatureVersion {message.get('SignatureVersion')!r}")
    try:
        signature = base64.b64decode(message.get("Signature") or "", validate=True)
    except ValueError as error:
        raise Refused("SNS Signature is not base64") from error
    key = _certificate(_trusted(message.get("SigningCertURL"))).public_key()
    try:
        key.verify(signature, signed_string(message), padding.PKCS1v15(), algorithm())
    except (InvalidSignature, TypeError, ValueError) as error:
        raise Refused("SNS signature does not verify") from error


def sns_subscription_confirm(message: dict) -> None:
    """Confirms a verified subscription of one of our topics, as SNS asks: by fetching its
    SubscribeURL."""
    url = _trusted(message.get("SubscribeURL"))
    try:
        requests.get(url, timeout=CERT_TIMEOUT).raise_for_status()
    except requests.RequestException as error:
        raise Unavailable(f"SNS subscription could not be confirmed: {error}") from error
    logger.info("Confirmed the SNS subscription of topic %s", message.get("TopicArn"))


def _trusted(url) -> str:
    if not isinstance(url, str) or not any(
        url.startswith(prefix) for prefix in settings.AMAZON_SNS_CERT_URLS
    ):
        raise Refused(f"SNS URL {url!r} is not under AMAZON_SNS_CERT_URLS")
    if ".." in url or "@" in url.split("/", 3)[2]:
        raise Refused(f"SNS URL {url!r} is not a plain URL")
    return url


@lru_cache(maxsize=32)
def _certificate(url: str) -> x509.Certificate:
    try:
        response = requests.get(url, timeout=CERT_TIMEOUT)
        response.raise_for_status()
    except requests.RequestException as error:
        raise Unavailable(f"SNS certificate at {url} could not be fetched: {error}") from error
    try:
        return x509.load_pem_x509_certificate(response.content)
    except ValueError as error:
        raise Refused(f"SNS certificate at {url} is not a PEM certificate") from error
