"""Request routing: Mailgun's API under ``/v3`` and the test-control API under ``/sim``."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from .addresses import is_valid_addr_spec
from .faults import fault_from_json
from .forms import Form, parse_form
from .suppressions import KINDS, MESSAGES, make_entry

if TYPE_CHECKING:
    from .server import Simulator

CLEARED = {
    "bounces": "Bounced addresses for this domain have been removed",
    "complaints": "Complaint addresses for this domain have been removed",
    "unsubscribes": "Unsubscribe addresses for this domain have been removed",
}


@dataclass
class Request:
    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    content_type: str
    authorization: str
    body: bytes

    @classmethod
    def build(
        cls, method: str, target: str, content_type: str, authorization: str, body: bytes
    ) -> Request:
        parts = urlsplit(target)
        query = parse_qs(parts.query, keep_blank_values=True)
        return cls(method, parts.path, query, content_type or "", authorization or "", body)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8") or "null")


@dataclass
class Response:
    status: int
    body: dict[str, Any] | list[Any] | str
    headers: dict[str, str] = field(default_factory=dict)
    note: str = ""  # extra detail for the request log line (never a body)


def error(status: int, message: str) -> Response:
    return Response(status, {"message": message})


def route(sim: Simulator, request: Request) -> Response:
    parts = [unquote(part) for part in request.path.split("/") if part]
    if parts[:1] == ["sim"]:
        return _sim_route(sim, request, parts[1:])
    if parts[:1] == ["v3"] and len(parts) >= 3:
        return _api_route(sim, request, parts[1], parts[2:])
    return error(404, "Not Found")


# -- Mailgun API --------------------------------------------------------------


def _authorized(sim: Simulator, header: str) -> bool:
    if sim.api_key is None:
        return True
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, _, password = base64.b64decode(encoded).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return user == "api" and hmac.compare_digest(password.encode(), sim.api_key.encode())


def _api_route(sim: Simulator, request: Request, domain: str, rest: list[str]) -> Response:
    resource = rest[0]
    if resource == "messages" and len(rest) == 1 and request.method == "POST":
        return _send(sim, request, domain)
    if not _authorized(sim, request.authorization):
        return Response(401, "Forbidden")
    if sim.domain and domain.lower() != sim.domain.lower():
        return error(404, f"Domain not found: {domain}")
    if resource in KINDS and len(rest) <= 2:
        if len(rest) == 2:
            return _suppression_one(sim, request, domain, resource, rest[1])
        return _suppression_list(sim, request, domain, resource)
    return error(404, "Not Found")


def _send(sim: Simulator, request: Request, domain: str) -> Response:
    fault = sim.faults.take()
    if fault is not None:
        if fault.timeout:
            time.sleep(fault.timeout)
        if fault.status:
            return Response(fault.status, fault.body(), note="injected fault")
    if not _authorized(sim, request.authorization):
        return Response(401, "Forbidden")
    form = parse_form(request.content_type, request.body)
    status, body = sim.send(domain, form)
    note = f"id={body.get('id')} recipients={_count_recipients(form)}" if status == 200 else ""
    return Response(status, body, note=note)


def _count_recipients(form: Form) -> int:
    return sum(len(form.getlist(name)) for name in ("to", "cc", "bcc"))


def _suppression_list(sim: Simulator, request: Request, domain: str, kind: str) -> Response:
    if request.method == "GET":
        return _page(sim, request, domain, kind)
    if request.method == "POST":
        return _add_suppressions(sim, request, domain, kind)
    if request.method == "DELETE":
        sim.suppressions.clear(kind, domain)
        return Response(200, {"message": CLEARED[kind]})
    return error(405, "Method not allowed")


def _page(sim: Simulator, request: Request, domain: str, kind: str) -> Response:
    try:
        limit = max(1, min(int(request.arg("limit", "100") or 100), 1000))
    except ValueError:
        return error(400, "Invalid limit")
    items = sim.suppressions.items(kind, domain)
    page, address = request.arg("page", "first"), (request.arg("address") or "").lower()
    if page == "next":
        chosen = [item for item in items if item["address"].lower() > address][:limit]
    elif page == "previous":
        chosen = [item for item in items if item["address"].lower() < address][-limit:]
    elif page == "last":
        chosen = items[-limit:]
    else:
        chosen = items[:limit]
    base = f"{sim.api_url}/{quote(domain)}/{kind}"
    first_addr = quote(chosen[0]["address"] if chosen else "")
    last_addr = quote(chosen[-1]["address"] if chosen else address)
    paging = {
        "first": f"{base}?limit={limit}",
        "next": f"{base}?page=next&address={last_addr}&limit={limit}",
        "previous": f"{base}?page=previous&address={first_addr}&limit={limit}",
        "last": f"{base}?page=last&limit={limit}",
    }
    return Response(200, {"items": chosen, "paging": paging})


def _posted_entries(request: Request) -> list[dict[str, Any]]:
    if request.content_type.split(";")[0].strip().lower() == "application/json":
        data = request.json()
        return data if isinstance(data, list) else [data]
    form = parse_form(request.content_type, request.body)
    entry: dict[str, Any] = {name: values[-1] for name, values in form.fields.items()}
    if len(form.getlist("tag")) > 1:
        entry["tags"] = form.getlist("tag")
    return [entry]


def _add_suppressions(sim: Simulator, request: Request, domain: str, kind: str) -> Response:
    try:
        entries = _posted_entries(request)
    except ValueError:
        return error(400, "Invalid JSON")
    for entry in entries:
        address = str(entry.get("address") or "") if isinstance(entry, dict) else ""
        if not address:
            return error(400, "address parameter is missing")
        if not is_valid_addr_spec(address):
            return error(400, f"'{address}' is not a valid address")
    for entry in entries:
        sim.suppressions.add(kind, domain, make_entry(kind, entry["address"], entry))
    if len(entries) == 1:
        return Response(200, {"message": MESSAGES[kind][2], "address": entries[0]["address"]})
    message = f"{len(entries)} addresses have been added to the {kind} table"
    return Response(200, {"message": message})


def _suppression_one(
    sim: Simulator, request: Request, domain: str, kind: str, address: str
) -> Response:
    not_found, removed, _added = MESSAGES[kind]
    if request.method == "GET":
        entry = sim.suppressions.get(kind, domain, address)
        return Response(200, entry) if entry else error(404, not_found)
    if request.method == "DELETE":
        if sim.suppressions.remove(kind, domain, address):
            return Response(200, {"message": removed, "address": address})
        return error(404, not_found)
    return error(405, "Method not allowed")


# -- /sim control API ---------------------------------------------------------


def _sim_route(sim: Simulator, request: Request, rest: list[str]) -> Response:
    name, method = (rest[0] if rest else ""), request.method
    handlers = {
        ("health", "GET"): lambda: Response(200, sim.health()),
        ("messages", "GET"): lambda: _listing(sim.messages(**_filters(request))),
        ("events", "GET"): lambda: _listing(sim.events(**_filters(request, events=True))),
        ("reset", "POST"): lambda: _reset(sim),
        ("faults", "GET"): lambda: _listing(sim.faults.pending()),
        ("faults", "POST"): lambda: _post_faults(sim, request),
        ("faults", "DELETE"): lambda: _clear_faults(sim),
        ("config", "GET"): lambda: Response(200, sim.config()),
        ("config", "POST"): lambda: _post_config(sim, request),
    }
    handler = handlers.get((name, method))
    if handler is None or len(rest) != 1:
        return error(404, "Not Found")
    return handler()


def _listing(items: list[dict[str, Any]]) -> Response:
    return Response(200, {"items": items, "count": len(items)})


def _filters(request: Request, events: bool = False) -> dict[str, str | None]:
    names = ["recipient", "email_id", "message_id"] + (["event", "state"] if events else [])
    return {name: request.arg(name) for name in names}


def _reset(sim: Simulator) -> Response:
    sim.reset()
    return Response(200, {"message": "reset"})


def _clear_faults(sim: Simulator) -> Response:
    sim.faults.clear()
    return Response(200, {"message": "faults cleared"})


def _post_faults(sim: Simulator, request: Request) -> Response:
    try:
        spec = request.json()
        specs = spec if isinstance(spec, list) else [spec]
        if any(not isinstance(item, dict) for item in specs):
            raise ValueError("a fault is a JSON object")
        if any(item.get("clear") for item in specs):
            sim.faults.clear()
            specs = [item for item in specs if not item.get("clear")]
        faults = [fault_from_json(item) for item in specs]
    except (ValueError, TypeError) as err:
        return error(400, str(err))
    for fault in faults:
        sim.faults.add(fault)
    return Response(200, {"faults": sim.faults.pending()})


def _post_config(sim: Simulator, request: Request) -> Response:
    try:
        changes = request.json()
        if not isinstance(changes, dict):
            raise ValueError("config is a JSON object")
        sim.configure(**changes)
    except (ValueError, TypeError) as err:
        return error(400, str(err))
    return Response(200, sim.config())
