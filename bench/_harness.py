"""Shared pieces of the benchmarks: a scratch PostgreSQL database, processes, memory sampling."""

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def scratch_url(name: str) -> str:
    """URL of the scratch database `name` beside the configured one. A configured database other
    than the default `clinicmail` adds its own name (`clinicmail_benchc` makes
    `clinicmail_bench_webhooks_benchc`), so that runs configured on different databases never drop
    each other's scratch database."""
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clinicmail")
    server, _, configured = base.rpartition("/")
    suffix = configured.partition("?")[0].removeprefix("clinicmail").lstrip("_")
    return f"{server}/{name}_{suffix}" if suffix else f"{server}/{name}"


def scratch_database(name: str) -> str:
    """Creates (anew) the scratch database `name` (see scratch_url) and returns its URL."""
    url = scratch_url(name)
    database = url.rpartition("/")[2]
    subprocess.run(
        ["dropdb", "--if-exists", "-f", "-h", "127.0.0.1", "-U", "postgres", database], check=True
    )
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", database], check=True)
    return url


def bench_env(**overrides: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-secret-key-not-for-production"),
        "DEBUG": "false",
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14"),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14"),
        "MAILGUN_API_KEY": "bench-key",
        "MAILGUN_SENDER_DOMAIN": "mail.clinicmail.test",
        "MAILGUN_WEBHOOK_SIGNING_KEY": "bench-signing-key",
        "ANYMAIL_WEBHOOK_SECRET": "bench:bench-secret",
        # The benchmark posts Mailgun's and SendGrid's webhooks to one server.
        "WEBHOOK_ESPS_KEPT": "sendgrid",
        "LOG_LEVEL": "WARNING",
        # With DEBUG off the settings require a key for stored secrets and support's address:
        # a fixed throwaway key and a test address serve a scratch database.
        "FIELD_ENCRYPTION_KEYS": os.environ.get(
            "FIELD_ENCRYPTION_KEYS", "YmVuY2gtb25seS1rZXktbm90LWZvci1wcm9kdWN0aW8="
        ),
        "SUPPORT_EMAIL": os.environ.get("SUPPORT_EMAIL", "support@bench.test"),
    }
    env.update(overrides)
    return env


def start(args: list[str], env: dict[str, str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=ROOT, env=env, **kwargs)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as found:
            return [int(child) for child in found.read().split()]
    except FileNotFoundError:
        return []


class MemorySampler(threading.Thread):
    """Peak resident memory of a process tree's members, sampled every 100 ms."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_per_process, self.peak_total = pid, 0, 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            pids = [self.pid, *children(self.pid)]
            sizes = [rss_kib(pid) for pid in pids]
            self.peak_per_process = max(self.peak_per_process, *sizes)
            self.peak_total = max(self.peak_total, sum(sizes))
            time.sleep(0.1)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def wait_http(url: str, timeout: float = 30) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s")
