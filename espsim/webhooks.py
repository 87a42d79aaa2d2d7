"""Posting the ESP's webhooks from a small pool of background threads.

Due events sit in a heap. Worker threads pop them when due, apply their side effects once
(the dialect's ``on_fire``) and POST them to the configured URL, in the ESP's format (the
dialect's ``webhook_post``: one event per post, or a batch for SendGrid). The dialect's
``verdict`` reads the answer: delivered, refused (the ESP stops: Mailgun's 406, Postmark's 403,
any 4xx for SNS) or retry. Retries back off, doubling, until ``retry_total`` seconds have
passed since the first attempt. With ``ordered`` the next event of a recipient is only
scheduled once the previous one is finished.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import requests

from .records import EventRecord

if TYPE_CHECKING:
    from .dialect import Dialect, WebhookPost

log = logging.getLogger("espsim.webhooks")


def redact_url(url: str) -> str:
    """``url`` without its userinfo (for logs, and for a first post that awaits a challenge)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


@dataclass
class WebhookConfig:
    url: str | None = None
    ordered: bool = True
    retry_base: float = 0.5
    retry_max: float = 10.0
    retry_total: float = 600.0
    timeout: float = 10.0
    batch_window: float = 1.0  # seconds (scaled) a batching ESP waits to fill a post


class Dispatcher:
    """The heap of due events and the worker threads that deliver them."""

    def __init__(self, config: WebhookConfig, dialect: Dialect, workers: int = 8) -> None:
        self.config = config
        self.dialect = dialect
        self.delay_scale = 1.0
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

    def _next_due(self) -> tuple[list[EventRecord], float] | None:
        """The next due event, with (for a batching ESP) the others due within its window, and
        when the last of them is due."""
        with self._cond:
            while not self._stopping:
                if not self._heap:
                    self._cond.wait()
                    continue
                now = time.time()
                delay = self._heap[0][0] - now
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                latest, _seq, first = heapq.heappop(self._heap)
                batch = [first]
                horizon = now + self.config.batch_window * self.delay_scale
                while (
                    len(batch) < self.dialect.batch_size
                    and self._heap
                    and self._heap[0][0] <= horizon
                ):
                    latest, _seq, record = heapq.heappop(self._heap)
                    batch.append(record)
                return batch, latest
        return None

    def _run(self) -> None:
        self._local.session = requests.Session()
        while (due := self._next_due()) is not None:
            batch, latest = due
            if latest > time.time():  # a batch waits for its last event
                time.sleep(latest - time.time())
            try:
                self._process(batch)
            except Exception:  # never let a worker die
                log.exception("webhook worker error for %d event(s)", len(batch))
                for record in batch:
                    self._finish(record, "gave_up")

    def _process(self, batch: list[EventRecord]) -> None:
        records = [record for record in batch if not record.final]  # not cancelled by a reset
        if not records:
            return
        now = time.time()
        for record in records:
            if record.fired_at is None:
                record.fired_at = now
                self.dialect.on_fire(record)
        url = self.config.url
        if not url:
            for record in records:
                log.info("event %s %s recorded (no webhook URL)", record.event, record.recipient)
                self._finish(record, "recorded")
            return
        attempt = self._post(records, url)
        for record in records:
            record.attempts.append(dict(attempt))
        status = attempt.get("status")
        verdict = "retry" if status is None else self.dialect.verdict(status)
        for record in records:
            if verdict == "retry":
                self._retry_or_give_up(record)
            else:
                self._finish(record, verdict)

    def _post(self, records: list[EventRecord], url: str) -> dict:
        post = self.dialect.webhook_post(records, time.time())
        started = time.time()
        attempt: dict = {"at": round(started, 3)}
        try:
            if post.challenge and urlsplit(url).username is not None:
                status, challenged = self._send(redact_url(url), post)
                if status == 401 and challenged:
                    attempt["challenged"] = True
                    status, _ = self._send(url, post)
            else:
                status, _ = self._send(url, post)
            attempt["status"] = status
        except requests.RequestException as err:
            attempt["error"] = f"{type(err).__name__}: {err}"[:300]
        attempt["elapsed"] = round(time.time() - started, 3)
        first = records[0]
        what = f"{first.event} {first.recipient}"
        if len(records) > 1:
            what = f"{len(records)} events ({', '.join(r.event for r in records)})"
        log.info(
            "webhook %s %s -> %s",
            what,
            redact_url(url),
            attempt.get("status") or attempt.get("error", "").split(":")[0],
        )
        return attempt

    def _send(self, url: str, post: WebhookPost) -> tuple[int, bool]:
        """POST once; the status and whether the answer asked for credentials."""
        response = self._local.session.post(
            url, data=post.body, headers=post.headers, timeout=(3.0, self.config.timeout)
        )
        challenged = "www-authenticate" in {name.lower() for name in response.headers}
        response.close()
        return response.status_code, challenged

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
