"""Mailgun's Events API lists what happened, whether or not the webhooks got through."""

import socket
import time

import requests

import espsim

from .conftest import API_KEY, DOMAIN, FAST, send, wait_until


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def events(api, sim, **params):
    response = api.get(f"{sim.api_url}/{DOMAIN}/events", params=params, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def test_events_are_listed_though_the_webhooks_never_got_through(api):
    url = f"http://127.0.0.1:{free_port()}/anymail/mailgun/tracking/"  # nobody listens
    with espsim.start(api_key=API_KEY, webhook_url=url, **FAST) as sim:
        sent = send(api, sim, to=["bounce@example.com", "pat@example.com"], **{"v:email_id": "9"})
        message_id = sent.json()["id"].strip("<>")
        wait_until(lambda: all(e["timestamp"] < time.time() for e in sim.events()))
        assert {e["state"] for e in sim.events()} <= {"retrying", "scheduled"}  # none delivered

        body = events(api, sim, **{"message-id": message_id, "ascending": "yes"})
        assert sorted((e["recipient"], e["event"]) for e in body["items"]) == [
            ("bounce@example.com", "accepted"),
            ("bounce@example.com", "failed"),
            ("pat@example.com", "accepted"),
            ("pat@example.com", "delivered"),
        ]
        [failed] = events(api, sim, event="failed", recipient="bounce@example.com")["items"]
        assert failed == next(e["event_data"] for e in sim.events(event="failed"))
        assert failed["user-variables"] == {"email_id": "9"}
        assert failed["delivery-status"]["code"] == 550


def test_only_what_has_happened_and_in_the_asked_order(sim, api):
    send(api, sim, to="clicker@example.com")
    assert sim.wait_idle(10)
    newest_first = [e["event"] for e in events(api, sim)["items"]]
    assert newest_first == ["clicked", "opened", "delivered", "accepted"]
    oldest_first = events(api, sim, ascending="yes")["items"]
    assert [e["event"] for e in oldest_first] == newest_first[::-1]

    middle = oldest_first[1]["timestamp"]
    later = events(api, sim, begin=str(middle), ascending="yes")["items"]
    assert [e["event"] for e in later] == ["delivered", "opened", "clicked"]
    window = events(api, sim, begin=str(oldest_first[2]["timestamp"]), end=str(middle))["items"]
    assert [e["event"] for e in window] == ["opened", "delivered"]  # end < begin: descending
    assert [e["event"] for e in events(api, sim, event="opened OR clicked")["items"]] == [
        "clicked",
        "opened",
    ]
    assert len(events(api, sim, event="NOT accepted")["items"]) == 3


def test_paging_until_an_empty_page(sim, api):
    send(api, sim, to=[f"p{n}@example.com" for n in range(3)])
    assert sim.wait_idle(10)
    page = events(api, sim, ascending="yes", limit="2")
    seen = []
    while page["items"]:
        assert len(page["items"]) <= 2
        seen += page["items"]
        page = api.get(page["paging"]["next"], timeout=5).json()
    assert len(seen) == 6
    stamps = [(e["timestamp"], e["id"]) for e in seen]
    assert stamps == sorted(stamps)
    previous = api.get(
        events(api, sim, ascending="yes", limit="2")["paging"]["previous"], timeout=5
    )
    assert previous.json()["items"] == []  # nothing before the first page


def test_events_api_needs_the_key_and_a_sane_query(sim, api):
    url = f"{sim.api_url}/{DOMAIN}/events"
    assert requests.get(url, auth=("api", "wrong"), timeout=5).status_code == 401
    assert api.get(url, params={"limit": "301"}, timeout=5).status_code == 400
    assert api.get(url, params={"begin": "yesterday"}, timeout=5).status_code == 400
    assert api.get(f"{url}/not-a-page", timeout=5).status_code == 400
    send(api, sim, to="pat@example.com")
    assert sim.wait_idle(10)
    other = api.get(f"{sim.api_url}/other.example/events", timeout=5).json()
    assert other["items"] == []
    assert events(api, sim, begin=str(time.time() + 60), ascending="yes")["items"] == []
