"""Fault injection on the sending API and the /sim control endpoints."""

import time

import requests

from .conftest import DOMAIN, send


def add_fault(sim, **spec):
    response = requests.post(f"{sim.url}/sim/faults", json=spec, timeout=5)
    assert response.status_code == 200
    return response.json()


def test_status_fault_answers_the_next_n_sends(sim, api):
    add_fault(sim, status=500, count=2)
    answers = [send(api, sim, to=f"p{n}@example.com") for n in range(3)]

    assert [r.status_code for r in answers] == [500, 500, 200]
    assert answers[0].json() == {"message": "Internal server error"}
    assert [m["recipient"] for m in sim.messages()] == ["p2@example.com"]


def test_rate_limit_fault(sim, api):
    add_fault(sim, status=429, count=3)
    statuses = [send(api, sim, to="pat@example.com").status_code for _ in range(4)]
    assert statuses == [429, 429, 429, 200]


def test_faults_do_not_touch_other_endpoints(sim, api):
    add_fault(sim, status=503, count=1)
    assert api.get(f"{sim.api_url}/{DOMAIN}/bounces", timeout=5).status_code == 200
    assert requests.get(f"{sim.url}/sim/health", timeout=5).status_code == 200
    assert send(api, sim, to="pat@example.com").status_code == 503


def test_timeout_fault_delays_the_answer(sim, api):
    add_fault(sim, timeout=0.5, count=1)
    started = time.monotonic()
    slow = send(api, sim, to="slow@example.com")
    slow_elapsed = time.monotonic() - started
    started = time.monotonic()
    fast = send(api, sim, to="fast@example.com")

    assert slow.status_code == fast.status_code == 200
    assert slow_elapsed >= 0.5
    assert time.monotonic() - started < 0.5


def test_client_timeout_while_the_send_is_still_accepted(sim, api):
    add_fault(sim, timeout=0.6, count=1)
    try:
        send_with_timeout = api.post(
            f"{sim.api_url}/{DOMAIN}/messages",
            data={"from": "a@clinic.example", "to": "pat@example.com", "text": "x"},
            timeout=0.2,
        )
    except requests.Timeout:
        send_with_timeout = None
    assert send_with_timeout is None
    time.sleep(0.6)
    assert [m["recipient"] for m in sim.messages()] == ["pat@example.com"]


def test_clear_faults(sim, api):
    add_fault(sim, status=500, count=10)
    assert add_fault(sim, clear=True) == {"faults": []}
    assert send(api, sim, to="pat@example.com").status_code == 200


def test_invalid_fault_is_refused(sim):
    response = requests.post(f"{sim.url}/sim/faults", json={"count": 2}, timeout=5)
    assert response.status_code == 400


def test_reset_forgets_everything(sim, api):
    send(api, sim, to="bounce@example.com")
    assert sim.wait_idle(10)
    add_fault(sim, status=500, count=5)

    assert requests.post(f"{sim.url}/sim/reset", timeout=5).status_code == 200
    health = requests.get(f"{sim.url}/sim/health", timeout=5).json()
    assert (health["messages"], health["events"], health["faults"]) == (0, 0, [])
    assert api.get(f"{sim.api_url}/{DOMAIN}/bounces", timeout=5).json()["items"] == []
    assert send(api, sim, to="pat@example.com").status_code == 200


def test_health(sim):
    health = requests.get(f"{sim.url}/sim/health", timeout=5).json()
    assert health["status"] == "ok"
    assert health["pending_events"] == 0
