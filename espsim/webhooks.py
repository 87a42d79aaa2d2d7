"""Posting signed Mailgun tracking webhooks from a small pool of background threads.

Due events sit in a heap. Worker threads pop them when due, apply their side
effects once (via ``on_fire``), and POST them to the configured URL. Failed posts
(connection errors, timeouts, non-2xx other than 406) are retried with a doubling
backoff until ``retry_total`` seconds have passed since the first attempt; a 406
answer stops retries (as Mailgun does). With ``ordered`` the next event of a
recipient is only scheduled once the previous one is finished.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import requests

from .records import EventRecord

log = logging.getLogger("espsim.webhooks")


def sign(signing_key: str, timestamp: str, token: str) -> str:
    """Mailgun's webhook signature: hex HMAC-SHA256 of timestamp + token."""
    message = f"{timestamp}{token}".encode()
    return hmac.new(signing_key.encode(), message, hashlib.sha256).hexdigest()


def webhook_payload(record: EventRecord, signing_key: str, now: float | None = None) -> dict:
    """The JSON body Mailgun posts: a fresh signature block plus the event-data."""
    timestamp = str(int(time.time() if now is None else now))
    signature = {
        "timestamp": timestamp,
        "token": record.token,
        "signature": sign(signing_key, timestamp, record.token),
    }
    return {"signature": signature, "event-data": record.data}


def redact_url(url: str) -> str:
    """``url`` without its userinfo (for logs)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


@dataclass
class WebhookConfig:
    url: str | None = None
    signing_key: str = ""
    ordered: bool = True
    retry_base: float = 0.5
    retry_max: float = 10.0
    retry_total: float = 600.0
    timeout: float = 10.0


class Dispatcher:
    """The heap of due events and the worker threads that deliver them."""

    def __init__(
        self,
        config: WebhookConfig,
        on_fire: Callable[[EventRecord], None],
        workers: int = 8,
    ) -> None:
        self.config = config
        self._on_fire = on_fire
        lock = threading.Lock()
        self._cond = threading.Condition(lock)  # workers wait on it for due events
        self._idle = threading.Condition(lock)  # wait_idle waits on it
        self._heap: list[tuple[float, int, EventRecord]] = []
        self._seq = itertools.count()
        self._pending = 0  # records scheduled (or waiting in a chain) but not finished
        self._stopping = False
        self._local = threading.local()
        self._threads = [
            threading.Thread(target=self._run, name=f"espsim-webhook-{n}", daemon=True)
            for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    # -- scheduling ---------------------------------------------------------

    def submit(self, chain: list[EventRecord]) -> None:
        """Schedule a recipient's events (only the first one if ordered)."""
        with self._cond:
            self._pending += len(chain)
            heads = chain[:1]
            if not self.config.ordered:  # every event on its own schedule
                for record in chain:
                    record.next = None
                heads = chain
            for record in heads:
                self._push(record, record.due)

    def _push(self, record: EventRecord, when: float) -> None:
        heapq.heappush(self._heap, (when, next(self._seq), record))
        self._cond.notify()

    def pending(self) -> int:
        with self._cond:
            return self._pending

    def wait_idle(self, timeout: float) -> bool:
        """Block until every submitted event is finished; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def clear(self, records: list[EventRecord]) -> None:
        """Drop every scheduled event; unfinished ``records`` become "cancelled"."""
        with self._cond:
            self._heap.clear()
            for record in records:
                if not record.final:
                    record.state = "cancelled"
            self._pending = 0
            self._idle.notify_all()

    def stop(self, timeout: float = 2.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            self._idle.notify_all()
        for thread in self._threads:
            thread.join(timeout)

    # -- workers ------------------------------------------------------------

    def _next_due(self) -> EventRecord | None:
        with self._cond:
            while not self._stopping:
                if not self._heap:
                    self._cond.wait()
                    continue
                delay = self._heap[0][0] - time.time()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                return heapq.heappop(self._heap)[2]
        return None

    def _run(self) -> None:
        self._local.session = requests.Session()
        while (record := self._next_due()) is not None:
            try:
                self._process(record)
            except Exception:  # never let a worker die
                log.exception("webhook worker error for event %s", record.id)
                self._finish(record, "gave_up")

    def _process(self, record: EventRecord) -> None:
        if record.final:  # cancelled by a reset
            return
        now = time.time()
        if record.fired_at is None:
            record.fired_at = now
            self._on_fire(record)
        url = self.config.url
        if not url:
            log.info("event %s %s recorded (no webhook URL)", record.event, record.recipient)
            self._finish(record, "recorded")
            return
        status = self._post(record, url)
        if status is not None and 200 <= status < 300:
            self._finish(record, "delivered")
        elif status == 406:
            self._finish(record, "refused")
        else:
            self._retry_or_give_up(record)

    def _post(self, record: EventRecord, url: str) -> int | None:
        body = json.dumps(webhook_payload(record, self.config.signing_key)).encode()
        started = time.time()
        attempt: dict = {"at": round(started, 3)}
        try:
            response = self._local.session.post(
                url,
                data=body,
                headers={"Content-Type": "application/json"},
                timeout=(3.0, self.config.timeout),
            )
            attempt["status"] = response.status_code
            response.close()
        except requests.RequestException as err:
            attempt["error"] = f"{type(err).__name__}: {err}"[:300]
        attempt["elapsed"] = round(time.time() - started, 3)
        record.attempts.append(attempt)
        status = attempt.get("status")
        log.info(
            "webhook %s %s %s -> %s",
            record.event,
            record.recipient,
            redact_url(url),
            status or attempt.get("error", "").split(":")[0],
        )
        return status

    def _retry_or_give_up(self, record: EventRecord) -> None:
        config = self.config
        tries = len(record.attempts)
        backoff = min(config.retry_base * 2 ** (tries - 1), config.retry_max)
        elapsed = time.time() - (record.fired_at or time.time())
        if elapsed + backoff > config.retry_total:
            self._finish(record, "gave_up")
            return
        with self._cond:
            if not record.final:
                record.state = "retrying"
                self._push(record, time.time() + backoff)

    def _finish(self, record: EventRecord, state: str) -> None:
        with self._cond:
            if record.final:
                return
            record.state = state
            self._pending = max(self._pending - 1, 0)
            following = record.next
            if following is not None and not following.final:
                self._push(following, max(following.due, time.time()))
            if not self._pending:
                self._idle.notify_all()
