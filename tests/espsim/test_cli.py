"""``python -m espsim`` runs in the foreground, reads env defaults, stops on SIGTERM."""

import json
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


def run_briefly(*args: str, **env: str) -> tuple[str, str]:
    """Start ``python -m espsim`` with ``args``; its output and base URL once it answers."""
    port = free_port()
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "ESPSIM_PORT": str(port), **env}
    environ.pop("ESPSIM_WEBHOOK_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "espsim", *args],
        env=environ,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        health = wait_healthy(url)
        config = requests.get(f"{url}/sim/config", timeout=5).json()
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0
    return output, json.dumps({"health": health, "config": config})


def test_cli_speaks_the_esp_chosen_in_the_environment():
    output, state = run_briefly(ESPSIM_ESP="postmark", POSTMARK_SERVER_TOKEN="pm-token")
    assert "espsim speaking Postmark" in output
    assert json.loads(state)["health"]["esp"] == "postmark"


def test_cli_prints_the_sns_topic_and_certificate_url():
    topic = "arn:aws:sns:eu-west-1:111122223333:clinic-ses-events"
    output, state = run_briefly("--esp", "amazon_ses", ESPSIM_SNS_TOPIC_ARN=topic)
    sns = json.loads(state)["config"]["sns"]
    assert sns["topic_arn"] == topic
    assert f"SNS topic (AMAZON_SNS_TOPICS): {topic}" in output
    assert f"(SigningCertURL, AMAZON_SNS_CERT_URLS): {sns['signing_cert_url']}" in output


def test_cli_prints_the_sendgrid_verification_key():
    output, state = run_briefly("--esp", "sendgrid", ESPSIM_SENDGRID_SIGNED="true")
    key = json.loads(state)["config"]["verification_key"]
    assert f"SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY={key}" in output
