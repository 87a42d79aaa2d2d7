"""Fixtures: a running simulator and a tiny stdlib webhook receiver (no database)."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

import espsim

API_KEY = "key-test-123"
SIGNING_KEY = "signing-key-456"
DOMAIN = "clinic.example"
FAST = {"delay_scale": 0.02, "retry_base": 0.05, "retry_max": 0.2}


class Receiver:
    """Records webhook posts; answers ``fail_status`` for the first ``fail_times`` posts. With
    ``challenge`` a post without credentials gets 401 and ``WWW-Authenticate`` (as anymail's
    Amazon SES view answers, so that SNS sends them)."""

    def __init__(self, port: int = 0) -> None:
        self.posts: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.fail_times = 0
        self.fail_status = 500
        self.challenge = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = receiver.record(self.path, dict(self.headers), body)
                self.send_response(status)
                if status == 401:
                    self.send_header("WWW-Authenticate", 'Basic realm="espsim test"')
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def record(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            status = 200
            if self.challenge and "Authorization" not in headers:
                status = 401
            elif self.fail_times > 0:
                self.fail_times -= 1
                status = self.fail_status
            post = {"path": path, "headers": headers, "json": json.loads(body), "status": status}
            post["body"] = body
            self.posts.append(post)
            return status

    def url(self, userinfo: str = "hook:secret", esp: str = "mailgun") -> str:
        return f"http://{userinfo}@127.0.0.1:{self.port}/anymail/{esp}/tracking/"

    def accepted_posts(self) -> list[dict[str, Any]]:
        """Posts answered 200, oldest first."""
        with self.lock:
            return [post for post in self.posts if post["status"] == 200]

    def events(self) -> list[dict[str, Any]]:
        """event-data of the posts answered 200, oldest first."""
        return [post["json"]["event-data"] for post in self.accepted_posts()]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait_until(condition: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    recv = Receiver()
    yield recv
    recv.stop()


@pytest.fixture
def sim() -> Iterator[espsim.Simulator]:
    """A simulator recording events only (no webhook URL)."""
    with espsim.start(api_key=API_KEY, signing_key=SIGNING_KEY, **FAST) as simulator:
        yield simulator


@pytest.fixture
def hooked_sim(receiver: Receiver) -> Iterator[espsim.Simulator]:
    """A simulator posting webhooks to ``receiver``."""
    with espsim.start(
        api_key=API_KEY, signing_key=SIGNING_KEY, webhook_url=receiver.url(), **FAST
    ) as simulator:
        yield simulator


@pytest.fixture
def api() -> Iterator[requests.Session]:
    session = requests.Session()
    session.auth = ("api", API_KEY)
    yield session
    session.close()


def send(
    session: requests.Session, sim: espsim.Simulator, domain: str = DOMAIN, **fields: Any
) -> requests.Response:
    """POST a message the way anymail does (form fields; ``files`` for attachments)."""
    files = fields.pop("files", None)
    data = {"from": f"Clinic <noreply@{domain}>", "subject": "Hello", "text": "Hi", **fields}
    return session.post(f"{sim.api_url}/{domain}/messages", data=data, files=files, timeout=10)
