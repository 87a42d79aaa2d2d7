"""Mailgun's ``POST /v3/<domain>/messages``: validation, batch expansion, outcomes."""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from ..addresses import addr_spec, split_recipients
from ..outcomes import Outcome, choose_outcome
from ..records import SentMessage
from ..suppressions import Suppressions
from .form import Form, Upload

QUEUED = "Queued. Thank you."
KINDS = ("bounces", "complaints", "unsubscribes")
# Mailgun's suppression list -> why the outcome says the address is suppressed
SUPPRESSED_BY = {"bounces": "bounce", "complaints": "complaint", "unsubscribes": "unsubscribe"}
_RECIPIENT_VAR_RE = re.compile(r"%recipient\.([^%]+)%")
_HREF_RE = re.compile(r"""href\s*=\s*["'](https?://[^"'\s>]+)["']""", re.IGNORECASE)


class SendError(Exception):
    """A request Mailgun would refuse with 400 and this message."""


@dataclass
class Accepted:
    """An accepted API call: its message id and, per recipient, the record and its outcome."""

    message_id: str
    messages: list[SentMessage] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)


def new_message_id(domain: str) -> str:
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
    return f"<{stamp}.{secrets.token_hex(8)}@{domain}>"


def _recipients(form: Form, name: str, required: bool = False) -> list[tuple[str, str]]:
    values = form.getlist(name)
    if not values:
        if required:
            raise SendError(f"{name} parameter is missing")
        return []
    parsed = split_recipients(values)
    if not parsed:
        raise SendError(f"{name} parameter is not a valid address. please check documentation")
    return parsed


def _recipient_variables(form: Form) -> dict[str, dict[str, Any]] | None:
    raw = form.get("recipient-variables")
    if raw is None:
        return None
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise SendError("recipient-variables parameter is not a valid JSON")
    return {str(key).lower(): value for key, value in data.items() if isinstance(value, dict)}


def _substitute(text: str, variables: dict[str, Any]) -> str:
    if "%recipient." not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        value = variables.get(match.group(1), "")
        return value if isinstance(value, str) else json.dumps(value)

    return _RECIPIENT_VAR_RE.sub(replace, text)


def _custom_data(form: Form) -> dict[str, Any]:
    data: dict[str, Any] = {}
    raw = form.get("h:X-Mailgun-Variables")
    if raw:
        try:
            loaded = json.loads(raw)
        except ValueError:
            loaded = None
        if isinstance(loaded, dict):
            data.update(loaded)
    data.update(form.with_prefix("v:"))
    return data


def _upload_info(upload: Upload) -> dict[str, Any]:
    return {"filename": upload.filename, "content-type": upload.content_type, "size": upload.size}


@dataclass
class _Common:
    """What every recipient of one API call shares."""

    domain: str
    message_id: str
    from_: str
    sender: str
    subject: str
    text: str
    html: str
    template: str | None
    tags: list[str]
    custom: dict[str, Any]
    headers: dict[str, str]
    attachments: list[dict[str, Any]]
    to_header: str
    batch_vars: dict[str, dict[str, Any]] | None


def _common(domain: str, form: Form, to: list[tuple[str, str]]) -> _Common:
    from_values = form.getlist("from")
    if not from_values:
        raise SendError("from parameter is missing")
    if not split_recipients(from_values):
        raise SendError("from parameter is not a valid address. please check documentation")
    text, html, template = form.get("text"), form.get("html"), form.get("template")
    if text is None and html is None and template is None:
        raise SendError("Need at least one of 'text', 'html' or 'template' parameters specified")
    return _Common(
        domain=domain,
        message_id=new_message_id(domain),
        from_=", ".join(from_values),
        sender=addr_spec(from_values[0]),
        subject=form.get("subject", "") or "",
        text=text or "",
        html=html or "",
        template=template,
        tags=form.getlist("o:tag"),
        custom=_custom_data(form),
        headers={k: v for k, v in form.with_prefix("h:").items() if k != "X-Mailgun-Variables"},
        attachments=[_upload_info(f) for f in form.files if f.field.startswith("attachment")],
        to_header=", ".join(display for display, _addr in to),
        batch_vars=_recipient_variables(form),
    )


def _message_for(common: _Common, display: str, addr: str, kind: str, outcome: str) -> SentMessage:
    variables: dict[str, Any] = {}
    if common.batch_vars is not None and kind == "to":
        variables = common.batch_vars.get(addr.lower(), {})
    html = _substitute(common.html, variables)
    link = _HREF_RE.search(html)
    return SentMessage(
        message_id=common.message_id,
        domain=common.domain,
        recipient=addr,
        recipient_type=kind,
        to=display if common.batch_vars is not None and kind == "to" else common.to_header,
        sender=common.sender,
        from_=common.from_,
        subject=_substitute(common.subject, variables),
        tags=list(common.tags),
        metadata={k: _sub_value(v, variables) for k, v in common.custom.items()},
        headers={k: _substitute(v, variables) for k, v in common.headers.items()},
        has_text=bool(common.text),
        has_html=bool(common.html),
        template=common.template,
        attachments=[dict(item) for item in common.attachments],
        size=_size(common),
        outcome=outcome,
        click_url=link.group(1) if link else f"https://{common.domain}/",
    )


def _sub_value(value: Any, variables: dict[str, Any]) -> Any:
    return _substitute(value, variables) if isinstance(value, str) else value


def _size(common: _Common) -> int:
    body = len(common.text.encode()) + len(common.html.encode())
    return 500 + len(common.subject.encode()) + body + sum(a["size"] for a in common.attachments)


def accept_send(domain: str, form: Form, suppressions: Suppressions) -> Accepted:
    """Validate a send request and build its per-recipient records and outcomes.

    Raises SendError with Mailgun's 400 message when the request is invalid.
    """
    to = _recipients(form, "to", required=True)
    cc, bcc = _recipients(form, "cc"), _recipients(form, "bcc")
    common = _common(domain, form, to)
    accepted = Accepted(common.message_id)
    for kind, recipients in (("to", to), ("cc", cc), ("bcc", bcc)):
        for display, addr in recipients:
            listed = suppressions.find(KINDS, domain, addr, common.tags)
            outcome = choose_outcome(addr, SUPPRESSED_BY.get(listed or ""))
            accepted.messages.append(_message_for(common, display, addr, kind, outcome.name))
            accepted.outcomes.append(outcome)
    return accepted
