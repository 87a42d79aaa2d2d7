"""The test-control API under ``/sim``: health, messages, events, faults, config, reset."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request

from .dialect import SimResponse, json_response, read_json
from .faults import fault_from_json

if TYPE_CHECKING:
    from .server import Simulator


def control_rules(sim: Simulator) -> list[Rule]:
    def rule(path: str, methods: list[str], handler: Callable[..., SimResponse]) -> Rule:
        return Rule(f"/sim/{path}", methods=methods, endpoint=handler)

    return [
        rule("health", ["GET"], lambda request: json_response(200, sim.health())),
        rule("messages", ["GET"], lambda request: _listing(sim.messages(**_filters(request)))),
        rule(
            "events",
            ["GET"],
            lambda request: _listing(sim.events(**_filters(request, events=True))),
        ),
        rule("reset", ["POST"], lambda request: _reset(sim)),
        rule("faults", ["GET"], lambda request: _listing(sim.faults.pending())),
        rule("faults", ["POST"], lambda request: _post_faults(sim, request)),
        rule("faults", ["DELETE"], lambda request: _clear_faults(sim)),
        rule("config", ["GET"], lambda request: json_response(200, sim.config())),
        rule("config", ["POST"], lambda request: _post_config(sim, request)),
    ]


def _listing(items: list[dict[str, Any]]) -> SimResponse:
    return json_response(200, {"items": items, "count": len(items)})


def _filters(request: Request, events: bool = False) -> dict[str, str | None]:
    names = ["recipient", "email_id", "message_id"]
    if events:
        names += ["event", "state", "kind"]
    return {name: request.args.get(name) for name in names}


def _reset(sim: Simulator) -> SimResponse:
    sim.reset()
    return json_response(200, {"message": "reset"})


def _clear_faults(sim: Simulator) -> SimResponse:
    sim.faults.clear()
    return json_response(200, {"message": "faults cleared"})


def _post_faults(sim: Simulator, request: Request) -> SimResponse:
    try:
        spec = read_json(request)
        specs = spec if isinstance(spec, list) else [spec]
        if any(not isinstance(item, dict) for item in specs):
            raise ValueError("a fault is a JSON object")
        if any(item.get("clear") for item in specs):
            sim.faults.clear()
            specs = [item for item in specs if not item.get("clear")]
        faults = [fault_from_json(item) for item in specs]
    except (ValueError, TypeError) as err:
        return json_response(400, {"message": str(err)})
    for fault in faults:
        sim.faults.add(fault)
    return json_response(200, {"faults": sim.faults.pending()})


def _post_config(sim: Simulator, request: Request) -> SimResponse:
    try:
        changes = read_json(request)
        if not isinstance(changes, dict):
            raise ValueError("config is a JSON object")
        sim.configure(**changes)
    except (ValueError, TypeError) as err:
        return json_response(400, {"message": str(err)})
    return json_response(200, sim.config())
