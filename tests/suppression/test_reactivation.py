from datetime import date

import pytest

from suppression.models import (
    RemovalRequest,
    Suppression,
    SuppressionHistory,
    SuppressionReason,
)
from suppression.services import (
    EMAILED_REQUEST_WORDS,
    ClientRequest,
    Refused,
    esp_removal_attempt,
    suppression_reactivate,
    suppression_record,
)

pytestmark = pytest.mark.usefixtures("eager_celery")


def suppressed(reason=SuppressionReason.HARD_BOUNCE, address="bob@example.test"):
    return suppression_record(
        address=address,
        stream="mailgun",
        reason=reason,
        diagnostic="550 5.1.1 mailbox does not exist",
    )


def test_a_reason_is_required(cast):
    with pytest.raises(Refused, match="Give the reason"):
        suppression_reactivate(suppression=suppressed(), actor=cast.support, reason="  ")
    assert Suppression.objects.get().active


def test_a_spam_complaint_is_refused_without_the_clients_request(cast):
    suppression = suppressed(SuppressionReason.SPAM_COMPLAINT)
    with pytest.raises(Refused, match="only on the client's own request"):
        suppression_reactivate(suppression=suppression, actor=cast.support, reason="Asked")
    assert Suppression.objects.get().active


def verified_request(suppression, message_id: str) -> RemovalRequest:
    """The client's emailed request, as the inbound webhook files it once the ESP's own checks
    show the address's domain sent it."""
    return RemovalRequest.objects.create(
        suppression=suppression,
        from_address=suppression.address,
        message_id=message_id,
        esp="mailgun",
        dmarc="pass",
        verified=True,
        verification="Mailgun reports DMARC passed for example.test.",
    )


def emailed(suppression, message_id: str, from_address: str, **overrides) -> ClientRequest:
    request = verified_request(suppression, message_id)
    return ClientRequest(
        date(2026, 11, 20),
        "email",
        message_id,
        from_address,
        **{"removal_request_id": request.pk, **overrides},
    )


def test_an_emailed_request_needs_a_verified_removal_request(cast):
    suppression = suppressed(SuppressionReason.SPAM_COMPLAINT)
    typed_in = ClientRequest(date(2026, 11, 20), "email", "<msg-1@x>", "bob@example.test")
    unverified = RemovalRequest.objects.create(
        suppression=suppression, from_address="bob@example.test", message_id="<m@x>", esp="x"
    )
    for request in (
        typed_in,
        ClientRequest(date(2026, 11, 20), "email", "<m@x>", "bob@example.test", unverified.pk),
    ):
        with pytest.raises(Refused) as refusal:
            suppression_reactivate(
                suppression=suppression, actor=cast.support, reason="Asked", client_request=request
            )
        assert str(refusal.value) == EMAILED_REQUEST_WORDS
    assert Suppression.objects.get().active


def test_a_spam_complaint_needs_the_request_from_the_address_itself(cast):
    suppression = suppressed(SuppressionReason.SPAM_COMPLAINT)
    request = emailed(suppression, "msg-1", "someone.else@example.test")
    with pytest.raises(Refused, match=r"must come from bob@example\.test itself"):
        suppression_reactivate(
            suppression=suppression, actor=cast.support, reason="Asked", client_request=request
        )


def test_a_spam_complaint_is_lifted_on_the_clients_request(cast, esp_simulator):
    suppression = suppressed(SuppressionReason.SPAM_COMPLAINT)
    request = emailed(suppression, "<msg-123@example.test>", "BOB@example.test")
    suppression_reactivate(
        suppression=suppression, actor=cast.support, reason="Client asked", client_request=request
    )
    history = SuppressionHistory.objects.get(action="reactivated")
    assert history.actor == cast.support
    assert history.evidence["client_request"]["reference"] == "<msg-123@example.test>"


def test_history_is_written_for_every_change(
    cast, esp_simulator, django_capture_on_commit_callbacks
):
    suppression = suppressed()
    suppressed()
    with django_capture_on_commit_callbacks(execute=True):
        suppression_reactivate(suppression=suppression, actor=cast.support, reason="Typo fixed")
    suppressed()
    actions = list(SuppressionHistory.objects.order_by("at", "pk").values_list("action", flat=True))
    assert actions == [
        "suppressed",
        "suppressed again",
        "reactivated",
        "removed at the ESP",
        "suppressed again",
    ]


MAILGUN_LISTS = {
    "bounces": {"address": "bob@example.test", "code": "550", "error": "no such user"},
    "complaints": {"address": "bob@example.test"},
    "unsubscribes": {"address": "bob@example.test", "tags": ["*"]},
}


def test_reactivation_removes_the_address_from_each_of_mailguns_lists(
    cast, esp_simulator, settings, django_capture_on_commit_callbacks
):
    domain = settings.ANYMAIL["MAILGUN_SENDER_DOMAIN"]
    for kind, entry in MAILGUN_LISTS.items():
        esp_simulator.suppressions.add(kind, domain, entry)
        assert esp_simulator.suppressions.get(kind, domain, "bob@example.test"), kind
    # Someone else on the same lists stays there.
    esp_simulator.suppressions.add("complaints", domain, {"address": "dana@example.test"})
    complaint = suppressed(SuppressionReason.SPAM_COMPLAINT)
    with django_capture_on_commit_callbacks(execute=True):
        suppression_reactivate(
            suppression=complaint,
            actor=cast.support,
            reason="Client asked",
            client_request=emailed(complaint, "<msg-9@example.test>", "bob@example.test"),
        )
    assert Suppression.objects.get().esp_removal == "done"
    for kind in MAILGUN_LISTS:
        assert not esp_simulator.suppressions.get(kind, domain, "bob@example.test"), kind
    assert esp_simulator.suppressions.get("complaints", domain, "dana@example.test")


def test_an_esp_failure_leaves_it_pending_and_a_later_try_completes_it(
    cast, esp_simulator, settings, django_capture_on_commit_callbacks
):
    """One try at a time, as the task makes them (its retries and waits are in
    test_esp_removal_retries.py)."""
    working_url = settings.ANYMAIL["MAILGUN_API_URL"]
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_API_URL": "http://127.0.0.1:9/v3"}
    suppression = suppressed()
    with django_capture_on_commit_callbacks(execute=False) as queued:
        suppression_reactivate(suppression=suppression, actor=cast.support, reason="Fixed")
    assert len(queued) == 1  # the removal is asked for once the reactivation is committed
    assert esp_removal_attempt(suppression_id=suppression.pk) is False
    suppression.refresh_from_db()
    assert not suppression.active
    assert (suppression.esp_removal, suppression.esp_removal_attempts) == ("pending", 1)
    assert "could not reach the ESP" in suppression.esp_removal_error

    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_API_URL": working_url}
    assert esp_removal_attempt(suppression_id=suppression.pk) is True
    suppression.refresh_from_db()
    assert (suppression.esp_removal, suppression.esp_removal_attempts) == ("done", 2)
    assert suppression.esp_removal_error == ""
    assert esp_removal_attempt(suppression_id=suppression.pk) is True  # nothing left to do
    assert Suppression.objects.get().esp_removal_attempts == 2
