"""Mailgun's sending API as anymail's Mailgun backend uses it."""

import http.client
import json
import re

import requests

import espsim

from .conftest import API_KEY, DOMAIN, basic_auth, send

MESSAGE_ID_RE = re.compile(r"^<\d{14}\.[0-9a-f]{16}@clinic\.example>$")


def test_accepted_send_answers_like_mailgun(sim, api):
    response = send(api, sim, to="Pat <pat@example.com>")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["message"] == "Queued. Thank you."
    assert MESSAGE_ID_RE.match(body["id"])


def test_wrong_api_key_is_forbidden(sim):
    response = requests.post(
        f"{sim.api_url}/{DOMAIN}/messages",
        auth=("api", "wrong"),
        data={"from": "a@clinic.example", "to": "b@example.com", "text": "x"},
        timeout=5,
    )
    assert response.status_code == 401
    assert response.text == "Forbidden"


def test_missing_auth_is_forbidden(sim):
    response = requests.post(f"{sim.api_url}/{DOMAIN}/messages", data={"to": "x"}, timeout=5)
    assert response.status_code == 401


def test_invalid_to_address_is_refused_with_mailguns_words(sim, api):
    response = send(api, sim, to=["ok@example.com", "not-an-address"])

    assert response.status_code == 400
    assert response.json() == {
        "message": "to parameter is not a valid address. please check documentation"
    }
    assert sim.messages() == []


def test_missing_fields_are_refused(sim, api):
    assert send(api, sim).json()["message"] == "to parameter is missing"
    no_body = api.post(
        f"{sim.api_url}/{DOMAIN}/messages",
        data={"from": "a@clinic.example", "to": "b@example.com"},
        timeout=5,
    )
    assert no_body.status_code == 400
    assert "text" in no_body.json()["message"]


def test_message_is_recorded_with_tags_variables_and_attachments(sim, api):
    response = send(
        api,
        sim,
        to="pat@example.com",
        subject="Your appointment",
        html="<p>Hi</p>",
        **{"o:tag": ["reminder", "tenant-7"], "v:email_id": "42", "v:clinic": "7"},
        files=[
            ("attachment", ("invoice.pdf", b"%PDF-1.4 " + b"x" * 100, "application/pdf")),
            ("attachment", ("notes.txt", b"hello", "text/plain")),
        ],
    )
    assert response.status_code == 200

    [message] = sim.messages()
    assert message["message_id"] == response.json()["id"]
    assert message["recipient"] == "pat@example.com"
    assert message["from"] == "Clinic <noreply@clinic.example>"
    assert message["subject"] == "Your appointment"
    assert message["tags"] == ["reminder", "tenant-7"]
    assert message["user_variables"] == {"email_id": "42", "clinic": "7"}
    assert message["has_text"] and message["has_html"]
    assert message["attachments"] == [
        {"filename": "invoice.pdf", "content-type": "application/pdf", "size": 109},
        {"filename": "notes.txt", "content-type": "text/plain", "size": 5},
    ]
    assert message["accepted_at"] > 0


def test_batch_send_substitutes_recipient_variables_per_recipient(sim, api):
    variables = {
        "ann@example.com": {"v:email_id": "1", "name": "Ann"},
        "bob@example.com": {"v:email_id": "2", "name": "Bob"},
    }
    response = send(
        api,
        sim,
        to=["Ann <ann@example.com>", "bob@example.com"],
        subject="Hello %recipient.name%",
        **{
            "v:email_id": "%recipient.v:email_id%",
            "v:clinic": "7",
            "recipient-variables": json.dumps(variables),
        },
    )
    assert response.status_code == 200

    ann, bob = sim.messages()
    assert (ann["recipient"], ann["to"], ann["subject"]) == (
        "ann@example.com",
        "Ann <ann@example.com>",
        "Hello Ann",
    )
    assert ann["user_variables"] == {"email_id": "1", "clinic": "7"}
    assert (bob["to"], bob["subject"]) == ("bob@example.com", "Hello Bob")
    assert bob["user_variables"] == {"email_id": "2", "clinic": "7"}
    assert ann["message_id"] == bob["message_id"] == response.json()["id"]


def test_urlencoded_send_is_accepted(sim, api):
    response = api.post(
        f"{sim.api_url}/{DOMAIN}/messages",
        data="from=a%40clinic.example&to=b%40example.com&to=c%40example.com&text=hi",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=5,
    )
    assert response.status_code == 200
    assert [m["recipient"] for m in sim.messages()] == ["b@example.com", "c@example.com"]


def test_messages_endpoint_filters_by_recipient_and_email_id(sim, api):
    send(api, sim, to="one@example.com", **{"v:email_id": "11"})
    send(api, sim, to="two@example.com", **{"v:email_id": "22"})

    everything = requests.get(f"{sim.url}/sim/messages", timeout=5).json()
    by_id = requests.get(f"{sim.url}/sim/messages", params={"email_id": "22"}, timeout=5).json()
    by_rcpt = requests.get(
        f"{sim.url}/sim/messages", params={"recipient": "ONE@example.com"}, timeout=5
    ).json()

    assert everything["count"] == 2
    assert [m["recipient"] for m in by_id["items"]] == ["two@example.com"]
    assert [m["user_variables"]["email_id"] for m in by_rcpt["items"]] == ["11"]


def test_configured_domain_rejects_others_like_mailgun(api):
    with espsim.start(api_key=API_KEY, domain="mg.clinic.example") as sim:
        response = send(api, sim, domain="other.example", to="a@example.com")
        assert response.status_code == 404
        assert "Domain not found" in response.text
        assert send(api, sim, domain="mg.clinic.example", to="a@example.com").status_code == 200


def test_keep_alive_connection_is_reused(sim):
    conn = http.client.HTTPConnection(sim.host, sim.port, timeout=5)
    headers = {
        "Authorization": basic_auth("api", API_KEY),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    sockets = []
    for n in range(3):
        body = f"from=a%40clinic.example&to=p{n}%40example.com&text=hi"
        conn.request("POST", f"/v3/{DOMAIN}/messages", body=body, headers=headers)
        response = conn.getresponse()
        assert response.status == 200
        assert int(response.getheader("Content-Length")) == len(response.read())
        sockets.append(conn.sock)
    conn.close()
    assert sockets[0] is sockets[1] is sockets[2]
