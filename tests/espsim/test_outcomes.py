"""Which events each recipient gets, and their Mailgun event-data shape."""

import pytest
import requests

from .conftest import API_KEY, DOMAIN, send, wait_until


def events_for(sim, recipient):
    return [(e["event"], e["severity"], e["reason"]) for e in sim.events(recipient=recipient)]


@pytest.mark.parametrize(
    ("recipient", "expected"),
    [
        ("pat@example.com", [("accepted", None, None), ("delivered", None, None)]),
        (
            "Bounce.Me@example.com",
            [("accepted", None, None), ("failed", "permanent", "bounce")],
        ),
        (
            "defer-1@example.com",
            [
                ("accepted", None, None),
                ("failed", "temporary", "greylisted"),
                ("delivered", None, None),
            ],
        ),
        (
            "complaint@example.com",
            [("accepted", None, None), ("delivered", None, None), ("complained", None, None)],
        ),
        (
            "opener@example.com",
            [("accepted", None, None), ("delivered", None, None), ("opened", None, None)],
        ),
        (
            "clicker@example.com",
            [
                ("accepted", None, None),
                ("delivered", None, None),
                ("opened", None, None),
                ("clicked", None, None),
            ],
        ),
        (
            "pat@nowhere.invalid",
            [("accepted", None, None), ("failed", "permanent", "generic")],
        ),
    ],
)
def test_outcome_by_address(sim, api, recipient, expected):
    assert send(api, sim, to=recipient).status_code == 200
    assert sim.wait_idle(10)
    assert events_for(sim, recipient) == expected
    assert {e["state"] for e in sim.events()} == {"recorded"}


def test_event_data_has_mailguns_shape(sim, api):
    response = send(api, sim, to="pat@example.com", **{"o:tag": ["reminder"], "v:email_id": "9"})
    assert sim.wait_idle(10)
    accepted, delivered = [e["event_data"] for e in sim.events()]

    message_id = response.json()["id"].strip("<>")
    for data in (accepted, delivered):
        assert isinstance(data["timestamp"], float)
        assert data["recipient"] == "pat@example.com"
        assert data["recipient-domain"] == "example.com"
        assert data["tags"] == ["reminder"]
        assert data["user-variables"] == {"email_id": "9"}
        assert data["message"]["headers"]["message-id"] == message_id
        assert data["message"]["headers"]["from"] == "Clinic <noreply@clinic.example>"
        assert data["envelope"]["targets"] == "pat@example.com"
        assert data["flags"]["is-test-mode"] is False
    assert accepted["id"] != delivered["id"]
    assert accepted["timestamp"] < delivered["timestamp"]
    assert accepted["method"] == "HTTP"
    assert delivered["delivery-status"]["code"] == 250
    assert delivered["delivery-status"]["message"] == "OK"


def test_hard_bounce_event_and_bounce_list(sim, api):
    send(api, sim, to="bounce@example.com")
    assert sim.wait_idle(10)
    failed = sim.events(event="failed")[0]["event_data"]

    assert failed["log-level"] == "error"
    status = failed["delivery-status"]
    assert status["code"] == 550
    assert status["message"].startswith("5.1.1 The email account that you tried to reach")
    entry = requests.get(
        f"{sim.api_url}/{DOMAIN}/bounces/BOUNCE@example.com", auth=("api", API_KEY), timeout=5
    ).json()
    assert entry["address"] == "bounce@example.com"
    assert entry["code"] == "550"


def test_deferred_then_delivered_counts_attempts(sim, api):
    send(api, sim, to="defer@example.com")
    assert sim.wait_idle(10)
    failed, delivered = (e["event_data"] for e in sim.events()[1:])

    assert failed["delivery-status"]["code"] in (421, 451)
    assert "try again later" in failed["delivery-status"]["message"]
    assert failed["delivery-status"]["attempt-no"] == 1
    assert delivered["delivery-status"]["attempt-no"] == 2


def test_invalid_domain_says_domain_does_not_exist(sim, api):
    send(api, sim, to="pat@clinic-typo.invalid")
    assert sim.wait_idle(10)
    status = sim.events(event="failed")[0]["event_data"]["delivery-status"]
    assert "domain does not exist" in status["message"]
    assert "domain does not exist" in status["description"]


def test_click_event_carries_first_link_of_html(sim, api):
    send(api, sim, to="click@example.com", html='<a href="https://clinic.example/book">Book</a>')
    assert sim.wait_idle(10)
    clicked = sim.events(event="clicked")[0]["event_data"]
    assert clicked["url"] == "https://clinic.example/book"
    assert clicked["client-info"]["user-agent"]
    assert clicked["message"]["headers"] == {
        "message-id": clicked["message"]["headers"]["message-id"]
    }


def test_complaint_adds_to_complaints_and_later_sends_are_suppressed(sim, api):
    send(api, sim, to="complaint@example.com")
    assert sim.wait_idle(10)
    assert sim.suppressions.get("complaints", DOMAIN, "complaint@example.com")

    send(api, sim, to="Complaint@Example.com")
    assert sim.wait_idle(10)
    last = sim.events(recipient="complaint@example.com")[-1]
    assert (last["event"], last["severity"], last["reason"]) == (
        "failed",
        "permanent",
        "suppress-complaint",
    )
    assert last["event_data"]["delivery-status"]["code"] == 607


def test_previously_bounced_address_is_suppressed(sim, api):
    send(api, sim, to="bounce-x@example.com")
    assert sim.wait_idle(10)
    send(api, sim, to="bounce-x@example.com")
    assert sim.wait_idle(10)

    last = sim.events(recipient="bounce-x@example.com")[-2:]
    assert [e["event"] for e in last] == ["accepted", "failed"]
    assert last[1]["reason"] == "suppress-bounce"
    status = last[1]["event_data"]["delivery-status"]
    assert (status["code"], status["description"]) == (
        605,
        "Not delivering to previously bounced address",
    )


def test_each_batch_recipient_gets_its_own_events(sim, api):
    send(api, sim, to=["a@example.com", "bounce@example.com", "open@example.com"])
    assert sim.wait_idle(10)
    assert [e for e, _, _ in events_for(sim, "a@example.com")] == ["accepted", "delivered"]
    assert [e for e, _, _ in events_for(sim, "bounce@example.com")] == ["accepted", "failed"]
    assert [e for e, _, _ in events_for(sim, "open@example.com")] == [
        "accepted",
        "delivered",
        "opened",
    ]


def test_events_endpoint_reports_state(sim, api):
    send(api, sim, to="pat@example.com", **{"v:email_id": "5"})
    body = wait_until(
        lambda: (
            (
                r := requests.get(
                    f"{sim.url}/sim/events", params={"email_id": "5"}, timeout=5
                ).json()
            )["count"]
            == 2
            and all(e["state"] == "recorded" for e in r["items"])
            and r
        )
    )
    assert [e["event"] for e in body["items"]] == ["accepted", "delivered"]
    assert all(len(e["token"]) == 50 for e in body["items"])
