"""Injected faults for the sending API: error statuses and slow answers."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

ERROR_MESSAGES = {
    400: "Bad request",
    401: "Forbidden",
    404: "Not found",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


@dataclass
class Fault:
    """Answer the next ``count`` sending requests with ``status`` and/or after ``timeout`` s."""

    status: int | None = None
    timeout: float | None = None
    count: int = 1
    message: str | None = None

    def body(self) -> dict[str, str]:
        status = self.status or 500
        return {"message": self.message or ERROR_MESSAGES.get(status, f"Error {status}")}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fault_from_json(spec: dict[str, Any]) -> Fault:
    """Validate a ``POST /sim/faults`` body into a Fault (ValueError if malformed)."""
    status = spec.get("status")
    timeout = spec.get("timeout")
    if status is None and timeout is None:
        raise ValueError("a fault needs 'status' and/or 'timeout'")
    if status is not None and not 100 <= int(status) <= 599:
        raise ValueError("'status' must be an HTTP status code")
    count = int(spec.get("count", 1))
    if count < 1:
        raise ValueError("'count' must be at least 1")
    return Fault(
        status=None if status is None else int(status),
        timeout=None if timeout is None else float(timeout),
        count=count,
        message=spec.get("message"),
    )


class Faults:
    """A thread-safe FIFO of pending faults; each sending request consumes one use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._queue.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()

    def take(self) -> Fault | None:
        """Consume one use of the oldest pending fault (None if there is none)."""
        with self._lock:
            if not self._queue:
                return None
            fault = self._queue[0]
            fault.count -= 1
            if fault.count <= 0:
                self._queue.pop(0)
            return Fault(fault.status, fault.timeout, 1, fault.message)

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.to_dict() for fault in self._queue]
