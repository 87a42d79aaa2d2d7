"""Mailgun's HTTP API under ``/v3``: sending and the suppression lists of each domain."""

from __future__ import annotations

import base64
import binascii
import hmac
import time
from email.utils import formatdate
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from werkzeug.routing import Rule
from werkzeug.wrappers import Request

from ..addresses import is_valid_addr_spec
from ..dialect import SimResponse, json_response, read_json, text_response
from .event_log import EventQuery
from .form import Form, read_form
from .sending import KINDS, QUEUED, SendError, accept_send

if TYPE_CHECKING:
    from .dialect import Mailgun

# Mailgun's wording per list: (404 message, DELETE message, POST message)
MESSAGES = {
    "bounces": (
        "Address not found in bounces table",
        "Bounced address has been removed",
        "Address has been added to the bounces table",
    ),
    "complaints": (
        "No spam complaints found for this address",
        "Spam complaint has been removed",
        "Address has been added to the complaints table",
    ),
    "unsubscribes": (
        "Address not found in unsubscribers table",
        "Unsubscribe event has been removed",
        "Address has been added to the unsubscribes table",
    ),
}
CLEARED = {
    "bounces": "Bounced addresses for this domain have been removed",
    "complaints": "Complaint addresses for this domain have been removed",
    "unsubscribes": "Unsubscribe addresses for this domain have been removed",
}


def make_entry(kind: str, address: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A list entry shaped as Mailgun returns it, from POSTed fields (defaults filled)."""
    entry: dict[str, Any] = {"address": address}
    if kind == "bounces":
        entry["code"] = str(fields.get("code") or "550")
        entry["error"] = str(fields.get("error") or "")
    elif kind == "unsubscribes":
        tags = fields.get("tags") or [fields.get("tag") or "*"]
        entry["tags"] = [str(tag) for tag in tags]
        entry["tag"] = entry["tags"][0]
    entry["created_at"] = str(fields.get("created_at") or formatdate(usegmt=True))
    return entry


def error(status: int, message: str) -> SimResponse:
    return json_response(status, {"message": message})


class MailgunAPI:
    def __init__(self, dialect: Mailgun) -> None:
        self.dialect = dialect
        self.sim = dialect.sim

    def rules(self) -> list[Rule]:
        kinds = ",".join(KINDS)
        return [
            Rule("/v3/<domain>/messages", methods=["POST"], endpoint=self.send),
            Rule("/v3/<domain>/events", methods=["GET"], endpoint=self.events),
            Rule("/v3/<domain>/events/<page>", methods=["GET"], endpoint=self.events_page),
            Rule(f"/v3/<domain>/<any({kinds}):kind>", endpoint=self.suppression_list),
            Rule(f"/v3/<domain>/<any({kinds}):kind>/<address>", endpoint=self.suppression_one),
        ]

    def authorized(self, request: Request) -> bool:
        key = self.sim.api_key
        if key is None:
            return True
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return user == "api" and hmac.compare_digest(password.encode(), key.encode())

    def wrong_domain(self, domain: str) -> bool:
        return bool(self.sim.domain) and domain.lower() != (self.sim.domain or "").lower()

    # -- sending --------------------------------------------------------------

    def send(self, request: Request, domain: str) -> SimResponse:
        faulted = self.dialect.take_fault()
        if faulted is not None:
            return faulted
        if not self.authorized(request):
            return text_response(401, "Forbidden")
        form = read_form(request)
        if self.wrong_domain(domain):
            return error(404, f"Domain not found: {domain}")
        try:
            accepted = accept_send(domain, form, self.sim.suppressions)
        except SendError as err:
            return error(400, str(err))
        self.sim.accept(accepted.messages, accepted.outcomes)
        note = f"id={accepted.message_id} recipients={_count_recipients(form)}"
        return json_response(200, {"id": accepted.message_id, "message": QUEUED}, note=note)

    # -- Events API -----------------------------------------------------------

    def events(self, request: Request, domain: str) -> SimResponse:
        refused = self._guard(request, domain)
        if refused is not None:
            return refused
        try:
            query = EventQuery.from_args(request.args)
        except ValueError as err:
            return error(400, str(err))
        return self._events(domain, query)

    def events_page(self, request: Request, domain: str, page: str) -> SimResponse:
        refused = self._guard(request, domain)
        if refused is not None:
            return refused
        try:
            query = EventQuery.from_page(page)
        except ValueError as err:
            return error(400, str(err))
        return self._events(domain, query)

    def _events(self, domain: str, query: EventQuery) -> SimResponse:
        now = time.time()  # an event has happened once its time has come, webhooks or not
        happened = [
            record
            for record in self.sim.event_records()
            if record.timestamp <= now and record.data["domain"]["name"].lower() == domain.lower()
        ]
        items = query.select(happened)
        base = f"{self.dialect.api_url}/{quote(domain)}/events"
        keys = [(item["timestamp"], item["id"]) for item in items]
        back = not query.ascending
        paging = {
            "first": f"{base}/{query.page(after=None)}",
            "last": f"{base}/{query.page(after=None, ascending=back)}",
            "next": f"{base}/{query.page(after=keys[-1] if keys else query.after)}",
            "previous": f"{base}/{query.page(after=keys[0] if keys else None, ascending=back)}",
        }
        return json_response(200, {"items": items, "paging": paging}, note=f"items={len(items)}")

    # -- suppression lists ----------------------------------------------------

    def _guard(self, request: Request, domain: str) -> SimResponse | None:
        if not self.authorized(request):
            return text_response(401, "Forbidden")
        if self.wrong_domain(domain):
            return error(404, f"Domain not found: {domain}")
        return None

    def suppression_list(self, request: Request, domain: str, kind: str) -> SimResponse:
        refused = self._guard(request, domain)
        if refused is not None:
            return refused
        if request.method == "GET":
            return self._page(request, domain, kind)
        if request.method == "POST":
            return self._add(request, domain, kind)
        if request.method == "DELETE":
            self.sim.suppressions.clear(kind, domain)
            return json_response(200, {"message": CLEARED[kind]})
        return error(405, "Method not allowed")

    def _page(self, request: Request, domain: str, kind: str) -> SimResponse:
        try:
            limit = max(1, min(int(request.args.get("limit", "100") or 100), 1000))
        except ValueError:
            return error(400, "Invalid limit")
        items = self.sim.suppressions.items(kind, domain)
        page = request.args.get("page", "first")
        address = (request.args.get("address") or "").lower()
        if page == "next":
            chosen = [item for item in items if item["address"].lower() > address][:limit]
        elif page == "previous":
            chosen = [item for item in items if item["address"].lower() < address][-limit:]
        elif page == "last":
            chosen = items[-limit:]
        else:
            chosen = items[:limit]
        base = f"{self.dialect.api_url}/{quote(domain)}/{kind}"
        first_addr = quote(chosen[0]["address"] if chosen else "")
        last_addr = quote(chosen[-1]["address"] if chosen else address)
        paging = {
            "first": f"{base}?limit={limit}",
            "next": f"{base}?page=next&address={last_addr}&limit={limit}",
            "previous": f"{base}?page=previous&address={first_addr}&limit={limit}",
            "last": f"{base}?page=last&limit={limit}",
        }
        return json_response(200, {"items": chosen, "paging": paging})

    def _add(self, request: Request, domain: str, kind: str) -> SimResponse:
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
            self.sim.suppressions.add(kind, domain, make_entry(kind, entry["address"], entry))
        if len(entries) == 1:
            body = {"message": MESSAGES[kind][2], "address": entries[0]["address"]}
            return json_response(200, body)
        message = f"{len(entries)} addresses have been added to the {kind} table"
        return json_response(200, {"message": message})

    def suppression_one(
        self, request: Request, domain: str, kind: str, address: str
    ) -> SimResponse:
        refused = self._guard(request, domain)
        if refused is not None:
            return refused
        not_found, removed, _added = MESSAGES[kind]
        if request.method == "GET":
            entry = self.sim.suppressions.get(kind, domain, address)
            return json_response(200, entry) if entry else error(404, not_found)
        if request.method == "DELETE":
            if self.sim.suppressions.remove(kind, domain, address):
                return json_response(200, {"message": removed, "address": address})
            return error(404, not_found)
        return error(405, "Method not allowed")


def _count_recipients(form: Form) -> int:
    return sum(len(form.getlist(name)) for name in ("to", "cc", "bcc"))


def _posted_entries(request: Request) -> list[dict[str, Any]]:
    if request.mimetype == "application/json":
        data = read_json(request)
        return data if isinstance(data, list) else [data]
    form = read_form(request)
    entry: dict[str, Any] = {name: values[-1] for name, values in form.fields.items()}
    if len(form.getlist("tag")) > 1:
        entry["tags"] = form.getlist("tag")
    return [entry]
