"""A local HTTP server answering an ESP API's documented JSON (tests/fixtures/esp_api), recording
every request, for the event-log readers' tests."""

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ANSWERS = Path(__file__).resolve().parent.parent / "fixtures" / "esp_api"

# (status, body, headers) for a request, from its path and query.
Route = Callable[[str, dict[str, str]], tuple[int, object, dict[str, str]] | None]


def documented(name: str):
    return json.loads((ANSWERS / f"{name}.json").read_text())


class ApiServer:
    """Answers GETs from `routes` (the first to answer wins; else 404), recording each request
    as (path, query, headers)."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.requests: list[tuple[str, dict[str, str], dict[str, str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
                server.requests.append((parts.path, query, dict(self.headers)))
                status, body, headers = server.answer(parts.path, query)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, object, dict[str, str]]:
        for route in self.routes:
            answered = route(path, query)
            if answered is not None:
                return answered
        return 404, {"message": "Not Found"}, {}

    def on(self, path: str, body: object, status: int = 200, **headers: str) -> None:
        """Answers `path` (any query) with `body`."""
        self.routes.append(lambda got, query: (status, body, headers) if got == path else None)

    def paths(self) -> list[str]:
        return [path for path, _query, _headers in self.requests]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
