"""Amazon SES: anymail's real SES backend sends through the simulator with boto3, and the SES
events it publishes come as signed SNS notifications that parse in anymail's real SES view."""

import base64
import json
import re

import boto3
import pytest
import requests
from anymail.exceptions import AnymailAPIError
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

import espsim

from .anymail_io import anymail_parse, anymail_send, point_anymail_at
from .conftest import FAST, basic_auth

ACCESS_KEY = "AKIAESPSIMTEST"
METADATA = {"email_id": "42", "clinic_id": 7}
SES_ID_RE = re.compile(r"^0102[0-9a-f]{12}-[0-9a-f-]{36}-000000$")
# The name/value pairs SNS signs, by message type (SNS's "Verifying the signatures" guide).
SIGNED_KEYS = {
    "Notification": ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
    "SubscriptionConfirmation": [
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ],
}


@pytest.fixture
def ses(receiver, settings):
    receiver.challenge = True  # as anymail's SES view: 401 until SNS sends the credentials
    url = receiver.url(esp="amazon_ses")
    with espsim.start(esp="amazon_ses", api_key=ACCESS_KEY, webhook_url=url, **FAST) as sim:
        point_anymail_at(settings, sim)
        yield sim


def notifications(receiver):
    """SNS notifications answered 200, oldest first."""
    return [
        post
        for post in receiver.accepted_posts()
        if post["headers"]["x-amz-sns-message-type"] == "Notification"
    ]


def ses_event(post):
    return json.loads(post["json"]["Message"])


def string_to_sign(message):
    keys = SIGNED_KEYS[message["Type"]]
    return "".join(f"{key}\n{message[key]}\n" for key in keys if key in message).encode()


def certificate_of(message):
    pem = requests.get(message["SigningCertURL"], timeout=5)
    assert pem.status_code == 200
    return x509.load_pem_x509_certificate(pem.content)


def verify(certificate, message):
    signature = base64.b64decode(message["Signature"])
    certificate.public_key().verify(
        signature, string_to_sign(message), padding.PKCS1v15(), hashes.SHA256()
    )


def sesv2(settings):
    return boto3.client("sesv2", **settings.ANYMAIL["AMAZON_SES_CLIENT_PARAMS"])


def test_anymail_send_is_accepted_and_recorded(ses):
    message = anymail_send(["Pat <pat@example.com>"], metadata=METADATA, tags=["reminder"])

    status = message.anymail_status
    assert status.status == {"queued"}
    assert SES_ID_RE.match(status.message_id)
    [sent] = ses.messages(email_id="42")
    assert sent["message_id"] == status.message_id
    assert (sent["recipient"], sent["to"]) == ("pat@example.com", "Pat <pat@example.com>")
    assert sent["metadata"] == METADATA  # from the X-Metadata header
    assert sent["tags"] == ["reminder"]  # from X-Tag headers
    assert sent["has_text"]


def test_wrong_access_key_is_refused(ses, settings):
    params = {**settings.ANYMAIL["AMAZON_SES_CLIENT_PARAMS"], "aws_access_key_id": "AKIAWRONG"}
    settings.ANYMAIL = {**settings.ANYMAIL, "AMAZON_SES_CLIENT_PARAMS": params}
    with pytest.raises(AnymailAPIError, match="UnrecognizedClientException"):
        anymail_send(["pat@example.com"])
    assert ses.messages() == []


def test_boto3_retries_a_5xx_answer_itself(ses):
    requests.post(f"{ses.url}/sim/faults", json={"status": 503}, timeout=5).raise_for_status()
    assert anymail_send(["pat@example.com"]).anymail_status.status == {"queued"}
    assert len(ses.messages()) == 1


# recipient -> [(SES eventType, anymail event_type)]
OUTCOMES = {
    "pat@example.com": [("Send", "sent"), ("Delivery", "delivered")],
    "bounce@example.com": [("Send", "sent"), ("Bounce", "bounced")],
    # anymail 15 has no word for DeliveryDelay: "unknown"
    "defer@example.com": [
        ("Send", "sent"),
        ("DeliveryDelay", "unknown"),
        ("Delivery", "delivered"),
    ],
    "complaint@example.com": [
        ("Send", "sent"),
        ("Delivery", "delivered"),
        ("Complaint", "complained"),
    ],
    "opener@example.com": [("Send", "sent"), ("Delivery", "delivered"), ("Open", "opened")],
    "clicker@example.com": [
        ("Send", "sent"),
        ("Delivery", "delivered"),
        ("Open", "opened"),
        ("Click", "clicked"),
    ],
    "pat@nowhere.invalid": [("Send", "sent"), ("Bounce", "bounced")],
}


@pytest.mark.parametrize("recipient", list(OUTCOMES))
def test_sns_notifications_per_outcome_parse_in_anymail(ses, receiver, recipient):
    html = '<p><a href="https://clinic.example/book">Book</a></p>'
    message = anymail_send([recipient], metadata=METADATA, tags=["reminder"], html=html)
    assert ses.wait_idle(10)

    posts = notifications(receiver)
    assert [ses_event(p)["eventType"] for p in posts] == [kind for kind, _ in OUTCOMES[recipient]]
    for post, (event_type, anymail_type) in zip(posts, OUTCOMES[recipient], strict=True):
        envelope, headers = post["json"], post["headers"]
        assert post["path"] == "/anymail/amazon_ses/tracking/"
        assert headers["Authorization"] == basic_auth("hook", "secret")
        assert headers["Content-Type"] == "text/plain; charset=UTF-8"
        assert headers["x-amz-sns-message-id"] == envelope["MessageId"]
        assert headers["x-amz-sns-topic-arn"] == envelope["TopicArn"]
        assert envelope["SignatureVersion"] == "2"
        assert envelope["UnsubscribeURL"].startswith(f"{ses.url}/?Action=Unsubscribe")
        event = ses_event(post)
        assert event["mail"]["messageId"] == message.anymail_status.message_id
        assert event["mail"]["destination"] == [recipient]
        assert {"name": "X-Tag", "value": "reminder"} in event["mail"]["headers"]
        [parsed] = anymail_parse("amazon_ses", post)
        assert parsed.event_type == anymail_type
        assert parsed.message_id == message.anymail_status.message_id
        assert parsed.event_id == envelope["MessageId"]
        assert parsed.recipient == recipient
        assert parsed.metadata == METADATA
        assert parsed.tags == ["reminder"]
        assert parsed.timestamp is not None
        if event_type == "Bounce":
            assert parsed.description == "Permanent: General"
            assert parsed.mta_response.startswith("smtp; 550 5.1.")
        if event_type == "Click":
            assert parsed.click_url == "https://clinic.example/book"
        if event_type == "DeliveryDelay":
            assert event["deliveryDelay"]["delayedRecipients"][0]["status"] == "4.7.1"


def test_credentials_are_sent_after_the_401_challenge(ses, receiver):
    anymail_send(["pat@example.com"])
    assert ses.wait_idle(10)
    by_id: dict[str, list] = {}
    for post in receiver.posts:
        by_id.setdefault(post["json"]["MessageId"], []).append(post)
    assert len(by_id) == 3  # the subscription confirmation, Send, Delivery
    for posts in by_id.values():
        assert [(p["status"], "Authorization" in p["headers"]) for p in posts] == [
            (401, False),
            (200, True),
        ]
    assert all(e["attempts"][0].get("challenged") for e in ses.events())


def test_signatures_verify_with_the_simulators_certificate(ses, receiver):
    anymail_send(["complaint@example.com"], metadata=METADATA)
    assert ses.wait_idle(10)

    messages = [post["json"] for post in receiver.accepted_posts()]
    assert [m["Type"] for m in messages] == ["SubscriptionConfirmation"] + ["Notification"] * 3
    certificate = certificate_of(messages[0])
    assert messages[0]["SigningCertURL"].startswith(f"{ses.url}/sns/")
    for message in messages:
        assert message["SigningCertURL"] == messages[0]["SigningCertURL"]
        verify(certificate, message)
        for key in ("Message", "Timestamp", "TopicArn", "MessageId"):
            changed = dict(message)
            value = changed[key]
            changed[key] = value[:-1] + ("0" if value[-1] != "0" else "1")
            with pytest.raises(InvalidSignature):
                verify(certificate, changed)


def test_subscription_is_confirmed_by_anymails_view(ses, receiver):
    assert ses.wait_idle(10)
    [post] = receiver.accepted_posts()
    confirmation = post["json"]
    assert confirmation["Type"] == "SubscriptionConfirmation"
    assert confirmation["SubscribeURL"].startswith(f"{ses.url}/?Action=ConfirmSubscription")
    assert ses.config()["sns"]["subscriptions"][0]["state"] == "pending"

    # anymail's view confirms through boto3's SNS client, pointed at the simulator
    assert anymail_parse("amazon_ses", post) == []
    [subscription] = ses.config()["sns"]["subscriptions"]
    assert (subscription["state"], subscription["confirmed_by"]) == (
        "confirmed",
        "POST ConfirmSubscription",
    )
    anymail_send(["pat@example.com"])
    assert ses.wait_idle(10)
    headers = notifications(receiver)[0]["headers"]
    assert headers["x-amz-sns-subscription-arn"] == subscription["subscription_arn"]


def test_fetching_the_subscribe_url_confirms(ses, receiver):
    assert ses.wait_idle(10)
    url = receiver.accepted_posts()[0]["json"]["SubscribeURL"]
    response = requests.get(url, timeout=5)
    assert response.status_code == 200
    arn = ses.config()["sns"]["subscriptions"][0]["subscription_arn"]
    assert f"<SubscriptionArn>{arn}</SubscriptionArn>" in response.text
    assert ses.config()["sns"]["subscriptions"][0]["confirmed_by"] == "GET SubscribeURL"
    assert requests.get(url.replace("Token=", "Token=x"), timeout=5).status_code == 400


def test_topic_and_certificate_url_are_options(receiver, settings):
    topic = "arn:aws:sns:us-east-1:111122223333:clinic-ses"
    with espsim.start(
        esp="amazon_ses", webhook_url=receiver.url(esp="amazon_ses"), topic_arn=topic, **FAST
    ) as sim:
        cert_url = f"{sim.url}/sns/clinic-cert.pem"
        sim.configure(cert_url=cert_url)
        point_anymail_at(settings, sim)
        anymail_send(["pat@example.com"])
        assert sim.wait_idle(10)
        assert sim.config()["sns"] == {**sim.config()["sns"], "topic_arn": topic}
        [send, delivery] = notifications(receiver)
        assert send["json"]["TopicArn"] == topic
        assert send["json"]["SigningCertURL"] == cert_url
        verify(certificate_of(send["json"]), delivery["json"])


def test_suppression_list_bounces_and_lifts(ses, receiver, settings):
    anymail_send(["bounce@example.com"])
    anymail_send(["complaint@example.com"])
    assert ses.wait_idle(10)
    client = sesv2(settings)
    found = client.get_suppressed_destination(EmailAddress="bounce@example.com")
    assert found["SuppressedDestination"]["Reason"] == "BOUNCE"
    reasons = {
        s["EmailAddress"]: s["Reason"]
        for s in client.list_suppressed_destinations()["SuppressedDestinationSummaries"]
    }
    assert reasons == {"bounce@example.com": "BOUNCE", "complaint@example.com": "COMPLAINT"}

    receiver.posts.clear()
    anymail_send(["bounce@example.com"])
    assert ses.wait_idle(10)
    bounce = ses_event(notifications(receiver)[-1])["bounce"]
    assert (bounce["bounceType"], bounce["bounceSubType"]) == (
        "Permanent",
        "OnAccountSuppressionList",
    )
    [parsed] = anymail_parse("amazon_ses", notifications(receiver)[-1])
    assert parsed.event_type == "bounced"

    client.delete_suppressed_destination(EmailAddress="bounce@example.com")
    with pytest.raises(client.exceptions.NotFoundException):
        client.delete_suppressed_destination(EmailAddress="bounce@example.com")
    client.put_suppressed_destination(EmailAddress="x@example.com", Reason="COMPLAINT")
    assert ses.suppressions.get("suppressed", "", "x@example.com")["reason"] == "COMPLAINT"


def test_one_send_event_covers_every_destination(ses, receiver):
    message = anymail_send(["ann@example.com"], cc=["bob@example.com"])
    assert ses.wait_idle(10)
    posts = notifications(receiver)
    sends = [p for p in posts if ses_event(p)["eventType"] == "Send"]
    assert len(sends) == 1
    parsed = anymail_parse("amazon_ses", sends[0])
    assert sorted(e.recipient for e in parsed) == ["ann@example.com", "bob@example.com"]
    deliveries = [ses_event(p)["delivery"]["recipients"] for p in posts[1:]]
    assert sorted(deliveries) == [["ann@example.com"], ["bob@example.com"]]
    assert {e.message_id for e in parsed} == {message.anymail_status.message_id}


def test_a_virus_is_rejected(ses, receiver):
    eicar = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
    anymail_send(["pat@example.com"], attachments=[("eicar.com", eicar, "text/plain")])
    assert ses.wait_idle(10)
    posts = notifications(receiver)
    assert [ses_event(p)["eventType"] for p in posts] == ["Send", "Reject"]
    [parsed] = anymail_parse("amazon_ses", posts[1])
    assert (parsed.event_type, parsed.reject_reason) == ("rejected", "blocked")


@pytest.mark.parametrize(("status", "state"), [(400, "refused"), (404, "refused")])
def test_a_4xx_answer_ends_the_delivery(ses, receiver, status, state):
    assert ses.wait_idle(10)
    receiver.fail_status, receiver.fail_times = status, 1
    anymail_send(["pat@example.com"])
    assert ses.wait_idle(10)
    assert [e["state"] for e in ses.events()] == [state, "delivered"]


def test_a_5xx_answer_is_retried(ses, receiver):
    assert ses.wait_idle(10)
    receiver.fail_status, receiver.fail_times = 500, 2
    anymail_send(["pat@example.com"])
    assert ses.wait_idle(10)
    assert [e["state"] for e in ses.events()] == ["delivered", "delivered"]
    assert [a.get("status") for a in ses.events()[0]["attempts"]] == [500, 500, 200]
