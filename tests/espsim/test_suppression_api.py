"""Mailgun's suppression API: bounces, complaints and unsubscribes per sending domain."""

import pytest
import requests

from .conftest import DOMAIN, send

NOT_FOUND = {
    "bounces": "Address not found in bounces table",
    "complaints": "No spam complaints found for this address",
    "unsubscribes": "Address not found in unsubscribers table",
}
REMOVED = {
    "bounces": "Bounced address has been removed",
    "complaints": "Spam complaint has been removed",
    "unsubscribes": "Unsubscribe event has been removed",
}


@pytest.fixture
def base(sim):
    return f"{sim.api_url}/{DOMAIN}"


@pytest.mark.parametrize("kind", ["bounces", "complaints", "unsubscribes"])
def test_add_get_list_delete(base, api, kind):
    added = api.post(f"{base}/{kind}", data={"address": "Pat@Example.com"}, timeout=5)
    assert added.status_code == 200
    assert added.json()["address"] == "Pat@Example.com"

    found = api.get(f"{base}/{kind}/pat@example.COM", timeout=5)
    assert found.status_code == 200
    assert found.json()["address"] == "Pat@Example.com"
    assert found.json()["created_at"].endswith("GMT")

    listing = api.get(f"{base}/{kind}", timeout=5).json()
    assert [item["address"] for item in listing["items"]] == ["Pat@Example.com"]
    assert set(listing["paging"]) == {"first", "next", "previous", "last"}

    removed = api.delete(f"{base}/{kind}/PAT@example.com", timeout=5)
    assert removed.status_code == 200
    assert removed.json() == {"message": REMOVED[kind], "address": "PAT@example.com"}

    missing = api.get(f"{base}/{kind}/pat@example.com", timeout=5)
    assert missing.status_code == 404
    assert missing.json() == {"message": NOT_FOUND[kind]}
    assert api.delete(f"{base}/{kind}/pat@example.com", timeout=5).status_code == 404


def test_bounce_entry_defaults_and_fields(base, api):
    api.post(f"{base}/bounces", data={"address": "a@example.com"}, timeout=5)
    api.post(
        f"{base}/bounces",
        data={"address": "b@example.com", "code": "554", "error": "Mailbox disabled"},
        timeout=5,
    )
    items = api.get(f"{base}/bounces", timeout=5).json()["items"]
    assert [(i["address"], i["code"], i["error"]) for i in items] == [
        ("a@example.com", "550", ""),
        ("b@example.com", "554", "Mailbox disabled"),
    ]


def test_json_bulk_add_and_paging(base, api):
    entries = [{"address": f"user{n}@example.com"} for n in range(5)]
    response = api.post(f"{base}/complaints", json=entries, timeout=5)
    assert response.json()["message"] == "5 addresses have been added to the complaints table"

    first = api.get(f"{base}/complaints", params={"limit": 2}, timeout=5).json()
    assert [i["address"] for i in first["items"]] == ["user0@example.com", "user1@example.com"]
    second = api.get(first["paging"]["next"], timeout=5).json()
    assert [i["address"] for i in second["items"]] == ["user2@example.com", "user3@example.com"]


def test_lists_are_per_domain(sim, api):
    api.post(f"{sim.api_url}/{DOMAIN}/bounces", data={"address": "x@example.com"}, timeout=5)
    other = api.get(f"{sim.api_url}/other.example/bounces/x@example.com", timeout=5)
    assert other.status_code == 404


def test_suppression_api_needs_the_api_key(base):
    response = requests.get(f"{base}/bounces", auth=("api", "nope"), timeout=5)
    assert response.status_code == 401


def test_invalid_address_is_refused(base, api):
    assert api.post(f"{base}/bounces", data={"address": "nope"}, timeout=5).status_code == 400
    assert api.post(f"{base}/bounces", data={}, timeout=5).status_code == 400


def test_unsubscribed_address_is_suppressed_and_delete_restores_delivery(sim, base, api):
    api.post(f"{base}/unsubscribes", data={"address": "pat@example.com"}, timeout=5)
    send(api, sim, to="pat@example.com")
    assert sim.wait_idle(10)
    assert sim.events()[-1]["reason"] == "suppress-unsubscribe"

    api.delete(f"{base}/unsubscribes/pat@example.com", timeout=5)
    send(api, sim, to="pat@example.com")
    assert sim.wait_idle(10)
    assert sim.events()[-1]["event"] == "delivered"


def test_tagged_unsubscribe_only_suppresses_that_tag(sim, base, api):
    api.post(f"{base}/unsubscribes", data={"address": "pat@example.com", "tag": "news"}, timeout=5)
    send(api, sim, to="pat@example.com", **{"o:tag": "reminder"})
    send(api, sim, to="pat@example.com", **{"o:tag": "news"})
    assert sim.wait_idle(10)
    assert [m["outcome"] for m in sim.messages()] == ["delivered", "suppress-unsubscribe"]


def test_deleting_a_bounce_lets_mail_through_again(sim, base, api):
    send(api, sim, to="bounce@example.com")
    assert sim.wait_idle(10)
    assert api.get(f"{base}/bounces/bounce@example.com", timeout=5).status_code == 200

    api.delete(f"{base}/bounces/bounce@example.com", timeout=5)
    send(api, sim, to="bounce@example.com")
    assert sim.wait_idle(10)
    assert sim.events()[-1]["reason"] == "bounce"  # a real bounce again, not suppress-bounce
