from datetime import date

import pytest

from suppression.models import Suppression, SuppressionHistory, SuppressionReason
from suppression.services import ClientRequest, Refused, suppression_reactivate, suppression_record
from suppression.tasks import esp_removal_task

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


def test_a_spam_complaint_needs_the_request_from_the_address_itself(cast):
    suppression = suppressed(SuppressionReason.SPAM_COMPLAINT)
    request = ClientRequest(date(2026, 11, 20), "email", "msg-1", "someone.else@example.test")
    with pytest.raises(Refused, match=r"must come from bob@example\.test itself"):
        suppression_reactivate(
            suppression=suppression, actor=cast.support, reason="Asked", client_request=request
        )


def test_a_spam_complaint_is_lifted_on_the_clients_request(cast, esp_simulator):
    suppression = suppressed(SuppressionReason.SPAM_COMPLAINT)
    request = ClientRequest(
        date(2026, 11, 20), "email", "<msg-123@example.test>", "BOB@example.test"
    )
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


def test_reactivation_removes_the_address_from_mailguns_lists(
    cast, esp_simulator, settings, django_capture_on_commit_callbacks
):
    domain = settings.ANYMAIL["MAILGUN_SENDER_DOMAIN"]
    esp_simulator.suppressions.add(
        "bounces", domain, {"address": "bob@example.test", "code": "550", "error": "no such user"}
    )
    assert esp_simulator.suppressions.get("bounces", domain, "bob@example.test")
    with django_capture_on_commit_callbacks(execute=True):
        suppression_reactivate(suppression=suppressed(), actor=cast.support, reason="Typo fixed")
    assert Suppression.objects.get().esp_removal == "done"
    assert not esp_simulator.suppressions.get("bounces", domain, "bob@example.test")


def test_an_esp_failure_leaves_it_pending_and_a_retry_completes_it(
    cast, esp_simulator, settings, django_capture_on_commit_callbacks
):
    working_url = settings.ANYMAIL["MAILGUN_API_URL"]
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_API_URL": "http://127.0.0.1:9/v3"}
    suppression = suppressed()
    esp_removal_task.max_retries = 0
    try:
        with django_capture_on_commit_callbacks(execute=True):
            suppression_reactivate(suppression=suppression, actor=cast.support, reason="Fixed")
    finally:
        esp_removal_task.max_retries = 8
    suppression.refresh_from_db()
    assert not suppression.active
    assert suppression.esp_removal == "pending"
    assert "could not reach the ESP" in suppression.esp_removal_error

    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_API_URL": working_url}
    esp_removal_task.apply(args=[suppression.pk])
    suppression.refresh_from_db()
    assert suppression.esp_removal == "done"
    assert suppression.esp_removal_error == ""
