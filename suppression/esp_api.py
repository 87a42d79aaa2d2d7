"""Removing an address from an ESP's own suppression lists, through the ESP's API."""

from urllib.parse import quote

import requests
from django.conf import settings

TIMEOUT = (5, 15)


class EspApiError(Exception):
    """The ESP could not do it now; the removal is retried later."""


def _anymail(name: str, default=None):
    return settings.ANYMAIL.get(name, default)


def _check(response: requests.Response, *, missing_ok: bool = True) -> None:
    if response.ok or (missing_ok and response.status_code == 404):
        return
    raise EspApiError(f"{response.status_code}: {response.text[:300]}")


def _mailgun(address: str) -> None:
    base = _anymail("MAILGUN_API_URL", "https://api.mailgun.net/v3").rstrip("/")
    domain = _anymail("MAILGUN_SENDER_DOMAIN")
    auth = ("api", _anymail("MAILGUN_API_KEY", ""))
    for kind in ("bounces", "complaints", "unsubscribes"):
        url = f"{base}/{domain}/{kind}/{quote(address)}"
        _check(requests.delete(url, auth=auth, timeout=TIMEOUT))


def _postmark(address: str) -> None:
    base = _anymail("POSTMARK_API_URL", "https://api.postmarkapp.com/").rstrip("/")
    stream = _anymail("POSTMARK_MESSAGE_STREAM", "outbound")
    response = requests.post(
        f"{base}/message-streams/{stream}/suppressions/delete",
        json={"Suppressions": [{"EmailAddress": address}]},
        headers={
            "X-Postmark-Server-Token": _anymail("POSTMARK_SERVER_TOKEN", ""),
            "Accept": "application/json",
        },
        timeout=TIMEOUT,
    )
    _check(response, missing_ok=False)


def _amazon_ses(address: str) -> None:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.client("sesv2", **_anymail("AMAZON_SES_CLIENT_PARAMS", {}))
    try:
        client.delete_suppressed_destination(EmailAddress=address)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "NotFoundException":
            raise EspApiError(str(error)) from error
    except BotoCoreError as error:
        raise EspApiError(str(error)) from error


def _sendgrid(address: str) -> None:
    base = _anymail("SENDGRID_API_URL", "https://api.sendgrid.com/v3/").rstrip("/")
    headers = {"Authorization": f"Bearer {_anymail('SENDGRID_API_KEY', '')}"}
    for kind in ("bounces", "spam_reports", "invalid_emails", "blocks"):
        url = f"{base}/suppression/{kind}/{quote(address)}"
        _check(requests.delete(url, headers=headers, timeout=TIMEOUT))


REMOVERS = {
    "mailgun": _mailgun,
    "postmark": _postmark,
    "amazon_ses": _amazon_ses,
    "sendgrid": _sendgrid,
}


def esp_suppression_remove(*, stream: str, address: str) -> None:
    """Removes the address from every suppression list of that ESP account, or raises
    EspApiError. An address that is not on a list counts as removed."""
    remover = REMOVERS.get(stream)
    if remover is None:
        return
    try:
        remover(address)
    except requests.RequestException as error:
        raise EspApiError(f"could not reach the ESP: {error}") from error
