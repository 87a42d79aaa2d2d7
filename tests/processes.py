"""Real processes for the integration and browser tests: a Celery worker on Redis and the ESP
simulator posting webhooks to the live server, against the test database."""

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

from config.celery import app

ROOT = Path(__file__).resolve().parents[1]


def database_url() -> str:
    """DATABASE_URL with the test database in place of the one it names."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"gave up waiting after {timeout}s")


class Worker:
    def __init__(self, env: dict[str, str], concurrency: int):
        self.env, self.concurrency = env, concurrency
        self.process: subprocess.Popen | None = None

    def start(self) -> "Worker":
        name = f"test-{os.getpid()}-{time.monotonic_ns()}@%h"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel",
                "WARNING",
                "--concurrency",
                str(self.concurrency),
                "--hostname",
                name,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=self.env,
        )
        wait_for(
            lambda: app.control.ping(
                destination=[name.replace("%h", os.uname().nodename)], timeout=0.5
            ),
            timeout=60,
        )
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def worker_env(transactional_db, esp_simulator, live_server, settings):
    secret = settings.ANYMAIL["WEBHOOK_SECRET"][0]
    webhook = live_server.url.replace("http://", f"http://{secret}@") + "/anymail/mailgun/tracking/"
    esp_simulator.configure(webhook_url=webhook)
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "MAILGUN_API_URL": esp_simulator.api_url,
        "EMAIL_ESP": "mailgun",
        "CONN_MAX_AGE": "0",
    }


@pytest.fixture
def start_worker(worker_env):
    app.control.purge()
    workers: list[Worker] = []

    def start(concurrency: int = 2, **env: str) -> Worker:
        worker = Worker({**worker_env, **env}, concurrency).start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@contextmanager
def celery_broker(url: str):
    """Points this process's Celery app at another broker (Celery reads CELERY_BROKER_URL
    from the environment before its own settings)."""
    saved_env, saved_conf = os.environ.get("CELERY_BROKER_URL"), app.conf.broker_url
    os.environ["CELERY_BROKER_URL"] = url
    app.conf.update(CELERY_BROKER_URL=url)
    app._pool = app.amqp._producer_pool = None
    try:
        yield
    finally:
        if saved_env is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved_env
        app.conf.update(CELERY_BROKER_URL=saved_conf)
        app._pool = app.amqp._producer_pool = None
