"""For any set of events of one email, any order and any duplication end in the same status,
and a permanent failure's consequences happen once. The expected status comes from the test's own
reading of the status rules (docs/architecture.md), never from the code under test."""

import uuid

import pytest
from django.test import Client as HttpClient
from django_scopes import scopes_disabled
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from messaging.models import EmailKind, OutboundEmail
from messaging.tracking.drain import inbox_drain
from notifications.models import Notification
from suppression.models import Suppression, SuppressionHistory
from tests.factories import ClientFactory
from tests.tracking.esp_posts import ESPS, MAILGUN_FIXTURE_KEY, esp_body, new_message_id, post_body
from tests.tracking.helpers import mailgun_event, mailgun_signed, post_json, tracked_email

SIGNING_KEY = "test-signing-key"
# Lowest to highest, as the status rules say: an email shows the highest status of its events.
RANK = {
    "sending": 0,
    "processed": 1,
    "deferred": 2,
    "delivered": 3,
    "opened": 4,
    "clicked": 5,
    "failed": 6,
    "spam_report": 7,
}


def expected_status(statuses) -> str:
    return max(["sending", *(status for status in statuses if status)], key=RANK.__getitem__)


EVENTS = {
    "accepted": ("processed", {}),
    "deferred": (
        "deferred",
        {
            "event": "failed",
            "severity": "temporary",
            "reason": "generic",
            "delivery-status": {"code": 451, "message": "4.7.1 try later"},
        },
    ),
    "delivered": ("delivered", {}),
    "opened": ("opened", {}),
    "clicked": ("clicked", {"url": "https://clinic.test/forms/x"}),
    "bounced": (
        "failed",
        {
            "event": "failed",
            "severity": "permanent",
            "reason": "bounce",
            "delivery-status": {"code": 550, "message": "5.1.1 no such user"},
        },
    ),
    "complained": ("spam_report", {}),
}


def post(http, kind: str, email_id, recipient: str) -> None:
    _, extra = EVENTS[kind]
    data = mailgun_event(
        extra.get("event", kind),
        email_id=email_id,
        recipient=recipient,
        event_id=f"{email_id}-{kind}",
    )
    data.update({key: value for key, value in extra.items() if key != "event"})
    response = post_json(http, "/anymail/mailgun/tracking/", mailgun_signed(data, SIGNING_KEY))
    assert response.status_code == 200, response.content


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kinds=st.lists(st.sampled_from(sorted(EVENTS)), min_size=1, max_size=7, unique=True),
    data=st.data(),
)
def test_any_order_and_duplication_give_one_status_and_one_consequence(cast, kinds, data):
    email_id = uuid.uuid4()
    recipient = f"r{email_id.hex[:12]}@example.test"
    with scopes_disabled():
        client = ClientFactory(clinic=cast.alice_clinic, email=recipient)
    email = tracked_email(
        cast.alice_clinic,
        client,
        esp="mailgun",
        email_id=email_id,
        status="sending",
        sent_by=cast.alice,
    )
    deliveries = data.draw(st.permutations(kinds + data.draw(st.lists(st.sampled_from(kinds)))))
    http = HttpClient()
    for kind in deliveries:
        post(http, kind, email_id, recipient)

    expected = expected_status(EVENTS[kind][0] for kind in kinds)
    with scopes_disabled():
        email = OutboundEmail.objects.get(pk=email.pk)
        notes = Notification.objects.filter(email_id=email_id).count()
    assert email.status == expected
    hard = {"bounced", "complained"} & set(kinds)
    assert notes == (1 if hard else 0)
    assert Suppression.objects.filter(address=recipient).count() == (1 if hard else 0)
    assert SuppressionHistory.objects.filter(suppression__address=recipient).count() == (
        1 if hard else 0
    )


# What each documented event of each ESP means, as the test reads the ESPs' documentation
# (tests/fixtures/esp/README.md): (status, or None for "changes no status"; whether the address
# is suppressed).
MEANING = {
    "mailgun": {
        "accepted": ("processed", False),
        "failed_temporary": ("deferred", False),
        "delivered": ("delivered", False),
        "opened": ("opened", False),
        "clicked": ("clicked", False),
        "failed_permanent_bounce": ("failed", True),
        "failed_suppress_bounce": ("failed", True),
        "rejected": ("failed", False),
        "complained": ("spam_report", True),
        "unsubscribed": (None, False),
    },
    "postmark": {
        "bounce_soft": ("failed", False),
        "bounce_transient": ("deferred", False),
        "bounce_dns_error": ("deferred", False),
        "delivery": ("delivered", False),
        "open": ("opened", False),
        "click": ("clicked", False),
        "bounce_hard": ("failed", True),
        "bounce_inactive": ("failed", True),
        "spam_complaint": ("spam_report", True),
        "subscription_change": (None, False),
    },
    "amazon_ses": {
        "send": ("processed", False),
        "bounce_transient": ("failed", False),
        "delivery_delay": ("deferred", False),
        "delivery": ("delivered", False),
        "open": ("opened", False),
        "click": ("clicked", False),
        "bounce_permanent": ("failed", True),
        "bounce_suppressed": ("failed", True),
        "reject": ("failed", False),
        "rendering_failure": ("failed", False),
        "complaint": ("spam_report", True),
    },
    "sendgrid": {
        "processed": ("processed", False),
        "deferred": ("deferred", False),
        "blocked": ("failed", False),
        "delivered": ("delivered", False),
        "open": ("opened", False),
        "click": ("clicked", False),
        "bounce": ("failed", True),
        "dropped": ("failed", True),
        "spamreport": ("spam_report", True),
        "unsubscribe": (None, False),
    },
}


@st.composite
def deliveries(draw):
    """An ESP, the events it reports of one email, in any order with repeats, and after which
    posts a worker drains: several events of the email often meet in one drain."""
    esp = draw(st.sampled_from(ESPS))
    kinds = draw(
        st.lists(st.sampled_from(sorted(MEANING[esp])), min_size=1, max_size=6, unique=True)
    )
    posts = draw(st.permutations(kinds + draw(st.lists(st.sampled_from(kinds), max_size=4))))
    drain_after = draw(st.lists(st.booleans(), min_size=len(posts), max_size=len(posts)))
    return esp, kinds, posts, drain_after


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=deliveries())
def test_every_esp_in_any_order_and_grouping_gives_one_status_and_one_consequence(
    cast, settings_for_fixtures, case
):
    esp, kinds, posts, drain_after = case
    email_id = uuid.uuid4()
    recipient = f"r{email_id.hex[:12]}@example.test"
    with scopes_disabled():
        client = ClientFactory(clinic=cast.alice_clinic, email=recipient)
        email = OutboundEmail.objects.create(
            id=email_id,
            clinic=cast.alice_clinic,
            client=client,
            kind=EmailKind.DIRECT_MESSAGE,
            to_email=recipient,
            subject="Your plan",
            body_text="Stretch daily.",
            esp=esp,
            esp_message_id=new_message_id(esp, email_id),
            sent_by=cast.alice,
        )
    http = HttpClient()
    largest_drain = waiting = 0
    for kind, drain_now in zip(posts, [*drain_after[:-1], True], strict=True):
        body = esp_body(
            esp, kind, email_id=email_id, message_id=email.esp_message_id, recipient=recipient
        )
        response = post_body(http, esp, body)
        assert response.status_code == 200, response.content
        waiting += 1
        if drain_now:
            inbox_drain()
            largest_drain, waiting = max(largest_drain, waiting), 0
    event(f"{esp}: up to {min(largest_drain, 3)}{'+' if largest_drain > 3 else ''} posts a drain")

    expected = expected_status(MEANING[esp][kind][0] for kind in kinds)
    suppressed = any(MEANING[esp][kind][1] for kind in kinds)
    with scopes_disabled():
        email.refresh_from_db()
        notes = Notification.objects.filter(email_id=email_id).count()
    assert email.status == expected
    assert notes == (1 if suppressed else 0)
    assert Suppression.objects.filter(address=recipient, stream=esp).count() == (
        1 if suppressed else 0
    )
    assert SuppressionHistory.objects.filter(suppression__address=recipient).count() == (
        1 if suppressed else 0
    )


@pytest.fixture
def settings_for_fixtures(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_FIXTURE_KEY}
