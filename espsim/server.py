"""The simulator: one ESP's HTTP API on a threaded HTTP/1.1 server, plus a webhook dispatcher."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from cheroot import wsgi
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map

from . import __version__
from .control import control_rules
from .dialect import Dialect, SimRequest, json_response
from .dialects import DIALECTS
from .faults import Faults
from .outcomes import Outcome
from .records import EventRecord, SentMessage
from .suppressions import Suppressions
from .webhooks import Dispatcher, WebhookConfig, redact_url

log = logging.getLogger("espsim")
COMMON_SETTINGS = ("webhook_url", "delay_scale", "ordered", "retry_base", "retry_max")
COMMON_SETTINGS += ("retry_total", "webhook_timeout", "batch_window")


def dialect_class(esp: str) -> type[Dialect]:
    try:
        return DIALECTS[esp]
    except KeyError:
        raise ValueError(f"unknown ESP {esp!r}: one of {', '.join(DIALECTS)}") from None


class Simulator:
    """A running ESP simulator. Thread-safe; use ``start()`` to create one.

    ``esp`` chooses the dialect (mailgun, postmark, sendgrid, amazon_ses). ``api_key`` is the
    credential its API checks (Mailgun's key, Postmark's server token, SendGrid's API key,
    the AWS access key id); None accepts any. ``signing_key`` is Mailgun's webhook signing key
    (default: the API key). ``esp_options`` are the dialect's own (``options`` of its class).
    """

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
        batch_window: float = 1.0,
        esp: str = "mailgun",
        threads: int = 16,
        **esp_options: Any,
    ) -> None:
        self.esp = esp
        self.api_key = api_key
        self.signing_key = signing_key
        self.domain = domain
        self.delay_scale = delay_scale
        self.suppressions = Suppressions()
        self.faults = Faults()
        self._lock = threading.Lock()
        self._messages: list[SentMessage] = []
        self._events: list[EventRecord] = []
        self.webhook = WebhookConfig(
            url=webhook_url or None,
            ordered=ordered,
            retry_base=retry_base,
            retry_max=retry_max,
            retry_total=retry_total,
            timeout=webhook_timeout,
            batch_window=batch_window,
        )
        self.httpd = wsgi.Server(
            (host, port),
            self._wsgi,
            numthreads=threads,
            server_name=f"espsim/{__version__}",
            request_queue_size=512,
            timeout=300,  # idle keep-alive connections are dropped after this
        )
        self.httpd.keep_alive_conn_limit = None
        self.httpd.expiration_interval = 0.05  # also how soon stop() is noticed
        self.httpd.prepare()  # binds, so the port is known before the dialect builds URLs
        self.host, self.port = self.httpd.bind_addr[:2]
        try:
            self.dialect = dialect_class(esp)(self, **esp_options)
        except Exception:  # e.g. an unknown ESP or option: free the port and its threads
            self.httpd.stop()
            raise
        self.dispatcher = Dispatcher(self.webhook, self.dialect, workers)
        self.dispatcher.delay_scale = delay_scale
        self._map = Map(control_rules(self) + self.dialect.rules(), strict_slashes=False)
        self._thread = threading.Thread(target=self.httpd.serve, name="espsim-http", daemon=True)
        self._stopped = False

    # -- lifecycle ----------------------------------------------------------

    def start(self) -> Simulator:
        self._thread.start()
        self.dialect.on_start()
        return self

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.httpd.stop()
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
        """The API base URL the app's anymail backend for this ESP is pointed at."""
        return self.dialect.api_url

    def anymail_settings(self) -> dict[str, Any]:
        """ANYMAIL settings pointing the app's backend for this ESP at this simulator."""
        return self.dialect.anymail_settings()

    # -- HTTP ---------------------------------------------------------------

    def _wsgi(self, environ: dict, start_response: Any) -> Any:
        started = time.perf_counter()
        request = SimRequest(environ)
        request.get_data()  # read the whole body: the connection stays usable
        try:
            endpoint, values = self._map.bind_to_environ(environ).match()
            response = endpoint(request, **values)
        except NotFound:
            response = self.dialect.error(404, "Not Found")
        except MethodNotAllowed:
            response = self.dialect.error(405, "Method not allowed")
        except HTTPException as err:
            response = self.dialect.error(err.code or 400, err.description or err.name)
        except Exception:
            log.exception("error handling %s %s", request.method, request.path)
            response = json_response(500, {"message": "Internal simulator error"})
        elapsed = (time.perf_counter() - started) * 1000
        note = getattr(response, "note", "")
        log.info(
            "%s %s %d %.1fms%s",
            request.method,
            request.path,
            response.status_code,
            elapsed,
            f" {note}" if note else "",
        )
        return response(environ, start_response)

    # -- sending ------------------------------------------------------------

    def accept(
        self, messages: list[SentMessage], outcomes: list[Outcome], now: float | None = None
    ) -> list[list[EventRecord]]:
        """Record an accepted API call (one message per recipient) and schedule its events."""
        now = time.time() if now is None else now
        chains = self.dialect.build_events(messages, outcomes, now)
        with self._lock:
            self._messages.extend(messages)
            for chain in chains:
                self._events.extend(chain)
        for chain in chains:
            if chain:
                self.dispatcher.submit(chain)
        return chains

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
            found = [m for m in found if _email_id(m) == str(email_id)]
        if message_id:
            found = [m for m in found if m.has_id(message_id)]
        return [m.to_dict() for m in found]

    def events(
        self,
        recipient: str | None = None,
        email_id: str | None = None,
        message_id: str | None = None,
        event: str | None = None,
        state: str | None = None,
        kind: str | None = None,
    ) -> list[dict[str, Any]]:
        """Generated events with their webhook delivery state, in generation order.

        ``event`` is the ESP's name for it; ``kind`` the outcome step (the same for every ESP).
        """
        with self._lock:
            found = list(self._events)
        if recipient:
            found = [r for r in found if r.recipient.lower() == recipient.lower()]
        if email_id is not None:
            found = [r for r in found if _email_id(r.message) == email_id]
        if message_id:
            found = [r for r in found if r.message and r.message.has_id(message_id)]
        if event:
            found = [r for r in found if r.event == event]
        if kind:
            found = [r for r in found if r.kind == kind]
        if state:
            found = [r for r in found if r.state == state]
        return [r.to_dict() for r in found]

    def event_records(self) -> list[EventRecord]:
        """Every generated event record, in generation order (the dialects' event logs)."""
        with self._lock:
            return list(self._events)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until every event is finished (delivered, refused, given up or recorded)."""
        return self.dispatcher.wait_idle(timeout)

    def health(self) -> dict[str, Any]:
        with self._lock:
            counts = {"messages": len(self._messages), "events": len(self._events)}
        return {
            "status": "ok",
            "esp": self.esp,
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
            "esp": self.esp,
            "api_url": self.api_url,
            "domain": self.domain,
            "webhook_url": redact_url(hook.url) if hook.url else None,
            "delay_scale": self.delay_scale,
            "ordered": hook.ordered,
            "retry_base": hook.retry_base,
            "retry_max": hook.retry_max,
            "retry_total": hook.retry_total,
            "webhook_timeout": hook.timeout,
            "batch_window": hook.batch_window,
            **self.dialect.config(),
        }

    def configure(self, **changes: Any) -> None:
        """Change settings at run time: any of COMMON_SETTINGS, ``signing_key`` (Mailgun) or
        the dialect's own ``options``."""
        own = set(self.dialect.options)
        unknown = set(changes) - set(COMMON_SETTINGS) - own
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        hook = self.webhook
        if "delay_scale" in changes:
            self.delay_scale = self.dispatcher.delay_scale = float(changes["delay_scale"])
        if "ordered" in changes:
            hook.ordered = bool(changes["ordered"])
        for name in ("retry_base", "retry_max", "retry_total", "batch_window"):
            if name in changes:
                setattr(hook, name, float(changes[name]))
        if "webhook_timeout" in changes:
            hook.timeout = float(changes["webhook_timeout"])
        self.dialect.configure({k: v for k, v in changes.items() if k in own})
        if "webhook_url" in changes:
            hook.url = changes["webhook_url"] or None
            self.dialect.on_webhook_url()


def _email_id(message: SentMessage | None) -> str | None:
    return None if message is None else str(message.metadata.get("email_id"))


def start(
    port: int = 0,
    api_key: str | None = None,
    webhook_url: str | None = None,
    signing_key: str | None = None,
    delay_scale: float = 1.0,
    domain: str | None = None,
    host: str = "127.0.0.1",
    esp: str = "mailgun",
    **options: Any,
) -> Simulator:
    """Start a simulator in background threads and return it (``stop()`` it when done).

    ``options``: ordered=True, workers=8, retry_base=0.5, retry_max=10.0, retry_total=600.0,
    webhook_timeout=10.0, batch_window=1.0, threads=16, and the dialect's own (see
    ``espsim.dialects``).
    """
    sim = Simulator(
        host=host,
        port=port,
        api_key=api_key,
        webhook_url=webhook_url,
        signing_key=signing_key,
        delay_scale=delay_scale,
        domain=domain,
        esp=esp,
        **options,
    )
    return sim.start()
