"""For any set of events of one email, any order and any duplication end in the same status,
and a permanent failure's consequences happen once."""

import uuid

from django.test import Client as HttpClient
from django_scopes import scopes_disabled
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messaging.models import OutboundEmail
from messaging.status import STATUS_RANK, highest_status
from notifications.models import Notification
from suppression.models import Suppression, SuppressionHistory
from tests.factories import ClientFactory
from tests.tracking.helpers import mailgun_event, mailgun_signed, post_json, tracked_email

SIGNING_KEY = "test-signing-key"
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

    expected = highest_status([EVENTS[kind][0] for kind in kinds])
    with scopes_disabled():
        email = OutboundEmail.objects.get(pk=email.pk)
        notes = Notification.objects.filter(email_id=email_id).count()
    assert email.status == expected
    assert email.status_rank == STATUS_RANK[expected]
    hard = {"bounced", "complained"} & set(kinds)
    assert notes == (1 if hard else 0)
    assert Suppression.objects.filter(address=recipient).count() == (1 if hard else 0)
    assert SuppressionHistory.objects.filter(suppression__address=recipient).count() == (
        1 if hard else 0
    )
