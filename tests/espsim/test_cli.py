"""``python -m espsim`` runs in the foreground, reads env defaults, stops on SIGTERM."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return requests.get(f"{url}/sim/health", timeout=1).json()
        except requests.ConnectionError:
            time.sleep(0.05)
    raise AssertionError("simulator did not start")


def test_cli_serves_logs_and_stops_on_sigterm():
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ESPSIM_PORT": str(port),
        "MAILGUN_API_KEY": "cli-key",
        "ESPSIM_DELAY_SCALE": "0.01",
    }
    env.pop("ESPSIM_WEBHOOK_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "espsim"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        assert wait_healthy(url)["status"] == "ok"
        response = requests.post(
            f"{url}/v3/clinic.example/messages",
            auth=("api", "cli-key"),
            data={"from": "a@clinic.example", "to": "pat@example.com", "text": "secret body"},
            timeout=5,
        )
        assert response.status_code == 200
        time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "POST /v3/clinic.example/messages 200" in output
    assert "stopped" in output
    assert "secret body" not in output
