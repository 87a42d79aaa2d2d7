"""The simulator: a threaded HTTP server speaking Mailgun's API plus a webhook dispatcher."""

from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .faults import Faults
from .forms import Form
from .records import EventRecord, SentMessage
from .routes import Request, Response, route
from .sending import QUEUED, SendError, accept_send
from .suppressions import Suppressions, make_entry
from .webhooks import Dispatcher, WebhookConfig, redact_url

log = logging.getLogger("espsim")
CONFIG_FIELDS = ("webhook_url", "signing_key", "delay_scale", "ordered", "retry_base")
CONFIG_FIELDS += ("retry_max", "retry_total", "webhook_timeout")


class SimHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512

    def __init__(self, address: tuple[str, int], sim: Simulator) -> None:
        self.sim = sim
        super().__init__(address, SimHandler)


class SimHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "espsim/1.0"
    disable_nagle_algorithm = True
    timeout = 300  # idle keep-alive connections are dropped after this
    server: SimHTTPServer

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self) -> None:
        started = time.perf_counter()
        body = self._read_body()
        request = Request.build(
            self.command,
            self.path,
            self.headers.get("Content-Type", ""),
            self.headers.get("Authorization", ""),
            body,
        )
        try:
            response = route(self.server.sim, request)
        except Exception:
            log.exception("error handling %s %s", self.command, request.path)
            response = Response(500, {"message": "Internal simulator error"})
        self._respond(response)
        elapsed = (time.perf_counter() - started) * 1000
        note = f" {response.note}" if response.note else ""
        log.info("%s %s %d %.1fms%s", self.command, request.path, response.status, elapsed, note)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _respond(self, response: Response) -> None:
        if isinstance(response.body, str):
            payload, content_type = response.body.encode(), "text/plain; charset=utf-8"
        else:
            payload, content_type = json.dumps(response.body).encode(), "application/json"
        self.send_response(response.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        try:
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (e.g. timed out)
            self.close_connection = True

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)


class Simulator:
    """A running Mailgun simulator. Thread-safe; use ``start()`` to create one."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        webhook_url: str | None = None,
        signing_key: str | None = None,
        delay_scale: float = 1.0,
        domain: str | None = None,
        ordered: bool = True,
        workers: int = 8,
        retry_base: float = 0.5,
        retry_max: float = 10.0,
        retry_total: float = 600.0,
        webhook_timeout: float = 10.0,
    ) -> None:
        self.api_key = api_key
        self.domain = domain
        self.delay_scale = delay_scale
        self.suppressions = Suppressions()
        self.faults = Faults()
        self._lock = threading.Lock()
        self._messages: list[SentMessage] = []
        self._events: list[EventRecord] = []
        self.webhook = WebhookConfig(
            url=webhook_url or None,
            signing_key=signing_key or api_key or "",
            ordered=ordered,
            retry_base=retry_base,
            retry_max=retry_max,
            retry_total=retry_total,
            timeout=webhook_timeout,
        )
        self.dispatcher = Dispatcher(self.webhook, self._on_fire, workers)
        self.httpd = SimHTTPServer((host, port), self)
        self.host, self.port = self.httpd.server_address[:2]
        self._thread = threading.Thread(
            target=self.httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="espsim-http",
            daemon=True,
        )
        self._stopped = False

    # -- lifecycle ----------------------------------------------------------

    def start(self) -> Simulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self._thread.is_alive():
            self.httpd.shutdown()
        self.httpd.server_close()
        self.dispatcher.stop()

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/v3"

    # -- sending ------------------------------------------------------------

    def send(self, domain: str, form: Form) -> tuple[int, dict[str, Any]]:
        """Handle a send request; returns (HTTP status, JSON body) as Mailgun would."""
        if self.domain and domain.lower() != self.domain.lower():
            return 404, {"message": f"Domain not found: {domain}"}
        try:
            accepted = accept_send(domain, form, self.suppressions, self.delay_scale)
        except SendError as err:
            return 400, {"message": str(err)}
        with self._lock:
            for message, chain in accepted.deliveries:
                self._messages.append(message)
                self._events.extend(chain)
        for _message, chain in accepted.deliveries:
            self.dispatcher.submit(chain)
        return 200, {"id": accepted.message_id, "message": QUEUED}

    def _on_fire(self, record: EventRecord) -> None:
        """Side effects of an event happening: Mailgun's automatic suppressions."""
        data = record.data
        kind, fields = None, {}
        if data["event"] == "failed" and data.get("reason") == "bounce":
            status = data.get("delivery-status", {})
            kind = "bounces"
            fields = {"code": status.get("code", 550), "error": status.get("message", "")}
        elif data["event"] == "complained":
            kind = "complaints"
        if kind:
            entry = make_entry(kind, record.recipient, fields)
            self.suppressions.add(kind, data["domain"]["name"], entry)

    # -- inspection ---------------------------------------------------------

    def messages(
        self,
        recipient: str | None = None,
        email_id: str | None = None,
        message_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Accepted messages (one per recipient), oldest first, optionally filtered."""
        with self._lock:
            found = list(self._messages)
        if recipient:
            found = [m for m in found if m.recipient.lower() == recipient.lower()]
        if email_id is not None:
            found = [m for m in found if str(m.user_variables.get("email_id")) == str(email_id)]
        if message_id:
            found = [m for m in found if m.message_id.strip("<>") == message_id.strip("<>")]
        return [m.to_dict() for m in found]

    def events(
        self,
        recipient: str | None = None,
        email_id: str | None = None,
        message_id: str | None = None,
        event: str | None = None,
        state: str | None = None,
    ) -> list[dict[str, Any]]:
        """Generated events with their webhook delivery state, in generation order."""
        with self._lock:
            found = list(self._events)
        if recipient:
            found = [r for r in found if r.recipient.lower() == recipient.lower()]
        if email_id is not None:
            found = [r for r in found if str(r.data["user-variables"].get("email_id")) == email_id]
        if message_id:
            found = [r for r in found if r.message_id == message_id.strip("<>")]
        if event:
            found = [r for r in found if r.event == event]
        if state:
            found = [r for r in found if r.state == state]
        return [r.to_dict() for r in found]

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until every event is finished (delivered, refused, given up or recorded)."""
        return self.dispatcher.wait_idle(timeout)

    def health(self) -> dict[str, Any]:
        with self._lock:
            counts = {"messages": len(self._messages), "events": len(self._events)}
        return {
            "status": "ok",
            **counts,
            "pending_events": self.dispatcher.pending(),
            "faults": self.faults.pending(),
            "webhook_url": redact_url(self.webhook.url) if self.webhook.url else None,
        }

    # -- control ------------------------------------------------------------

    def reset(self) -> None:
        """Forget messages, events (pending webhooks are dropped), suppressions and faults."""
        with self._lock:
            events, self._events, self._messages = self._events, [], []
        self.dispatcher.clear(events)
        self.suppressions.clear()
        self.faults.clear()

    def config(self) -> dict[str, Any]:
        hook = self.webhook
        return {
            "api_url": self.api_url,
            "domain": self.domain,
            "webhook_url": redact_url(hook.url) if hook.url else None,
            "delay_scale": self.delay_scale,
            "ordered": hook.ordered,
            "retry_base": hook.retry_base,
            "retry_max": hook.retry_max,
            "retry_total": hook.retry_total,
            "webhook_timeout": hook.timeout,
        }

    def configure(self, **changes: Any) -> None:
        """Change settings at run time: any of CONFIG_FIELDS."""
        unknown = set(changes) - set(CONFIG_FIELDS)
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        hook = self.webhook
        if "webhook_url" in changes:
            hook.url = changes["webhook_url"] or None
        if "signing_key" in changes:
            hook.signing_key = str(changes["signing_key"] or "")
        if "delay_scale" in changes:
            self.delay_scale = float(changes["delay_scale"])
        if "ordered" in changes:
            hook.ordered = bool(changes["ordered"])
        for name in ("retry_base", "retry_max", "retry_total"):
            if name in changes:
                setattr(hook, name, float(changes[name]))
        if "webhook_timeout" in changes:
            hook.timeout = float(changes["webhook_timeout"])


def start(
    port: int = 0,
    api_key: str | None = None,
    webhook_url: str | None = None,
    signing_key: str | None = None,
    delay_scale: float = 1.0,
    domain: str | None = None,
    host: str = "127.0.0.1",
    **options: Any,
) -> Simulator:
    """Start a simulator in background threads and return it (``stop()`` it when done).

    ``options``: ordered=True, workers=8, retry_base=0.5, retry_max=10.0,
    retry_total=600.0, webhook_timeout=10.0.
    """
    sim = Simulator(
        host=host,
        port=port,
        api_key=api_key,
        webhook_url=webhook_url,
        signing_key=signing_key,
        delay_scale=delay_scale,
        domain=domain,
        **options,
    )
    return sim.start()
