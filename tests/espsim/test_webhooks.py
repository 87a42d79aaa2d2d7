"""Signed tracking webhooks posted back to the app, with ordering and retries."""

import hashlib
import hmac
import socket

import requests

import espsim

from .conftest import API_KEY, FAST, SIGNING_KEY, Receiver, basic_auth, send, wait_until


def expected_signature(timestamp: str, token: str, key: str = SIGNING_KEY) -> str:
    return hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_webhooks_are_signed_json_with_basic_auth_from_url(hooked_sim, receiver, api):
    send(api, hooked_sim, to="pat@example.com", **{"v:email_id": "3"})
    assert hooked_sim.wait_idle(10)

    posts = receiver.accepted_posts()
    assert [p["json"]["event-data"]["event"] for p in posts] == ["accepted", "delivered"]
    for post in posts:
        assert post["path"] == "/anymail/mailgun/tracking/"
        assert post["headers"]["Content-Type"] == "application/json"
        assert post["headers"]["Authorization"] == basic_auth("hook", "secret")
        signature = post["json"]["signature"]
        assert signature["timestamp"].isdigit()
        assert len(signature["token"]) == 50
        assert hmac.compare_digest(
            signature["signature"],
            expected_signature(signature["timestamp"], signature["token"]),
        )
        assert post["json"]["event-data"]["user-variables"] == {"email_id": "3"}
    assert posts[0]["json"]["signature"]["token"] != posts[1]["json"]["signature"]["token"]


def test_events_of_one_message_arrive_in_order(hooked_sim, receiver, api):
    recipients = [f"click-{n}@example.com" for n in range(5)]
    send(api, hooked_sim, to=recipients)
    assert hooked_sim.wait_idle(15)

    for recipient in recipients:
        mine = [e for e in receiver.events() if e["recipient"] == recipient]
        assert [e["event"] for e in mine] == ["accepted", "delivered", "opened", "clicked"]
        timestamps = [e["timestamp"] for e in mine]
        assert timestamps == sorted(timestamps)


def test_failed_posts_are_retried_until_delivered(hooked_sim, receiver, api):
    receiver.fail_times = 3
    send(api, hooked_sim, to="pat@example.com")
    assert hooked_sim.wait_idle(15)

    statuses = [p["status"] for p in receiver.posts]
    assert statuses == [500, 500, 500, 200, 200]
    first_tokens = {p["json"]["signature"]["token"] for p in receiver.posts[:4]}
    assert len(first_tokens) == 1  # same event, same token (anymail's event_id)
    accepted = hooked_sim.events(event="accepted")[0]
    assert accepted["state"] == "delivered"
    assert [a.get("status") for a in accepted["attempts"]] == [500, 500, 500, 200]
    assert [e["event"] for e in receiver.events()] == ["accepted", "delivered"]


def test_406_stops_retries_for_that_event(hooked_sim, receiver, api):
    receiver.fail_status, receiver.fail_times = 406, 1
    send(api, hooked_sim, to="pat@example.com")
    assert hooked_sim.wait_idle(10)

    assert [p["status"] for p in receiver.posts] == [406, 200]
    states = [(e["event"], e["state"]) for e in hooked_sim.events()]
    assert states == [("accepted", "refused"), ("delivered", "delivered")]


def test_events_reach_an_app_that_comes_back_after_an_outage(api):
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook/"
    with espsim.start(api_key=API_KEY, signing_key=SIGNING_KEY, webhook_url=url, **FAST) as sim:
        send(api, sim, to=["ann@example.com", "bounce@example.com"])
        wait_until(lambda: any(e["attempts"] for e in sim.events()))
        assert all(e["state"] in ("scheduled", "retrying") for e in sim.events())
        errors = [a for e in sim.events() for a in e["attempts"]]
        assert all("ConnectionError" in a["error"] for a in errors)

        receiver = Receiver(port=port)
        try:
            assert sim.wait_idle(15)
            assert sorted((e["recipient"], e["event"]) for e in receiver.events()) == [
                ("ann@example.com", "accepted"),
                ("ann@example.com", "delivered"),
                ("bounce@example.com", "accepted"),
                ("bounce@example.com", "failed"),
            ]
        finally:
            receiver.stop()


def test_gives_up_after_retry_total(api):
    url = f"http://127.0.0.1:{free_port()}/hook/"
    options = {**FAST, "retry_total": 0.3}
    with espsim.start(api_key=API_KEY, webhook_url=url, **options) as sim:
        send(api, sim, to="pat@example.com")
        assert sim.wait_idle(10)
        assert [e["state"] for e in sim.events()] == ["gave_up", "gave_up"]
        assert all(len(e["attempts"]) >= 2 for e in sim.events())


def test_webhook_url_can_be_configured_at_run_time(sim, receiver, api):
    response = requests.post(
        f"{sim.url}/sim/config",
        json={"webhook_url": receiver.url("a:b"), "signing_key": "other-key"},
        timeout=5,
    )
    assert response.status_code == 200
    assert "a:b" not in response.text  # credentials are not echoed

    send(api, sim, to="pat@example.com")
    assert sim.wait_idle(10)
    signature = receiver.accepted_posts()[0]["json"]["signature"]
    assert signature["signature"] == expected_signature(
        signature["timestamp"], signature["token"], key="other-key"
    )


def test_signing_key_defaults_to_api_key(receiver, api):
    with espsim.start(api_key=API_KEY, webhook_url=receiver.url(), **FAST) as sim:
        send(api, sim, to="pat@example.com")
        assert sim.wait_idle(10)
    signature = receiver.accepted_posts()[0]["json"]["signature"]
    assert signature["signature"] == expected_signature(
        signature["timestamp"], signature["token"], key=API_KEY
    )
