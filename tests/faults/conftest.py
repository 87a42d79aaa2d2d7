import os
import shutil
import signal
import subprocess
import time

import pytest
import redis

from tests.processes import (  # noqa: F401  (fixtures)
    celery_broker,
    start_worker,
    wait_for,
    worker_env,
)
from tests.sending.test_own_smtp import free_port


class PrivateRedis:
    """A Redis server of the test's own, so stopping it disturbs nothing else."""

    def __init__(self, port: int):
        self.port, self.process = port, None
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "/usr/bin/redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        wait_for(lambda: _pings(client), timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()


def _pings(client) -> bool:
    try:
        return client.ping()
    except redis.ConnectionError:
        return False


@pytest.fixture
def private_redis():
    server = PrivateRedis(free_port())
    server.start()
    with celery_broker(server.url):
        yield server
    server.stop()


@pytest.fixture
def fast_retries(settings):
    """Workers retry within seconds rather than minutes (still after the ESP's acceptance
    event, which arrives in milliseconds from the simulator)."""
    settings.OUTBOX_SWEEP_AFTER_SECONDS = 1
    return {
        "SEND_RETRY_BASE_SECONDS": "2",
        "OUTBOX_SWEEP_AFTER_SECONDS": "1",
        # Longer than the simulator's slowest injected answer (3 s) and the event's way back.
        "SEND_UNKNOWN_OUTCOME_WAIT_SECONDS": "8",
    }


def kill_process_group(process: subprocess.Popen) -> None:
    for child in _children(process.pid):
        os.kill(child, signal.SIGKILL)
    process.send_signal(signal.SIGKILL)
    process.wait()


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as found:
            return [int(child) for child in found.read().split()]
    except FileNotFoundError:
        return []


def settle(seconds: float) -> None:
    time.sleep(seconds)
