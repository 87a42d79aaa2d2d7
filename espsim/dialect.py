"""What every ESP dialect provides, and the HTTP helpers they share.

A dialect is one ESP's side of the simulator: the API routes anymail's backend (and the app's
suppression removals) call, the events it builds for each step of an outcome, its webhook
posts (body, headers, signature) and how it treats the receiver's answers.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from .faults import Fault
from .outcomes import Moment, Outcome, timeline
from .records import EventRecord, SentMessage

if TYPE_CHECKING:
    from .server import Simulator


class SimRequest(Request):
    """A request to the simulator; the server reads every body whole before routing it, so a
    keep-alive connection is always drained."""

    max_form_memory_size = None  # Mailgun html fields may be large
    max_form_parts = 10_000


class SimResponse(Response):
    note = ""  # extra detail for the request log line (never a body)


def json_response(
    status: int, body: Any, headers: dict[str, str] | None = None, note: str = ""
) -> SimResponse:
    response = SimResponse(
        json.dumps(body), status=status, mimetype="application/json", headers=headers
    )
    response.note = note
    return response


def text_response(status: int, body: str, headers: dict[str, str] | None = None) -> SimResponse:
    return SimResponse(body, status=status, mimetype="text/plain", headers=headers)


def read_json(request: Request) -> Any:
    """The JSON body (ValueError if it is not JSON)."""
    return json.loads(request.get_data().decode("utf-8") or "null")


def iso_time(timestamp: float, digits: int = 3) -> str:
    """``2025-01-15T10:20:30.123Z`` (``digits`` of the second's fraction)."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    fraction = f"{moment.microsecond:06d}{'0' * max(digits - 6, 0)}"[:digits]
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if digits else "") + "Z"


@dataclass
class WebhookPost:
    """One webhook request: its body and headers (the URL's userinfo gives basic auth)."""

    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    challenge: bool = False  # first post without credentials; send them only after a 401


class Dialect:
    """Base class of the ESP dialects."""

    name: ClassVar[str]
    label: ClassVar[str]  # the ESP's name for people
    batch_size: ClassVar[int] = 1  # events per webhook post
    options: ClassVar[tuple[str, ...]] = ()  # configure()-able settings of its own

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    # -- HTTP API -------------------------------------------------------------

    def rules(self) -> list[Rule]:
        """Werkzeug rules whose endpoints are callables ``(request, **values) -> Response``."""
        raise NotImplementedError

    @property
    def api_url(self) -> str:
        """The API base URL anymail's backend for this ESP is pointed at."""
        raise NotImplementedError

    def anymail_settings(self) -> dict[str, Any]:
        """ANYMAIL settings that point the app's backend for this ESP at the simulator."""
        raise NotImplementedError

    def error(self, status: int, message: str) -> SimResponse:
        """An error answer in the ESP's format."""
        return json_response(status, {"message": message})

    def fault_response(self, fault: Fault) -> SimResponse:
        """The answer to a send that meets an injected status fault."""
        return json_response(fault.status or 500, fault.body(), note="injected fault")

    def take_fault(self) -> SimResponse | None:
        """Apply the next injected fault to a send: wait, and/or answer with its status."""
        fault = self.sim.faults.take()
        if fault is None:
            return None
        if fault.timeout:
            time.sleep(fault.timeout)
        return self.fault_response(fault) if fault.status else None

    # -- events ---------------------------------------------------------------

    def build_events(
        self, messages: list[SentMessage], outcomes: list[Outcome], now: float
    ) -> list[list[EventRecord]]:
        """The event chains of one accepted API call: one per recipient (``messages[i]`` with
        ``outcomes[i]``), each in the order its events are posted."""
        chains = []
        for message, outcome in zip(messages, outcomes, strict=True):
            moments = self.timeline(outcome, now)
            chains.append(self.chain(message, outcome, moments))
        return chains

    def timeline(self, outcome: Outcome, now: float) -> list[Moment]:
        return timeline(outcome, self.sim.delay_scale, now)

    def chain(
        self, message: SentMessage, outcome: Outcome, moments: list[Moment]
    ) -> list[EventRecord]:
        raise NotImplementedError

    def on_fire(self, record: EventRecord) -> None:
        """Side effects of an event happening (the ESP's automatic suppressions)."""

    # -- webhooks -------------------------------------------------------------

    def webhook_post(self, records: list[EventRecord], now: float) -> WebhookPost:
        """The request posting ``records`` (built afresh for every attempt)."""
        raise NotImplementedError

    def verdict(self, status: int) -> str:
        """What the ESP makes of the receiver's answer: delivered, refused (no retry) or retry."""
        return "delivered" if 200 <= status < 300 else "retry"

    # -- settings -------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        """Settings and public facts of this dialect (never a secret)."""
        return {}

    def configure(self, changes: dict[str, Any]) -> None:
        """Apply changes to this dialect's ``options``."""

    def start_lines(self) -> list[str]:
        """What the command line prints at start, besides the URL."""
        return []

    def on_start(self) -> None:
        """Called once the server answers (e.g. to post a subscription confirmation)."""

    def on_webhook_url(self) -> None:
        """Called when the webhook URL is configured at run time."""
