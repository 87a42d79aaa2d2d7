"""Retries made at the end of their waits, with the clock moved there (tests/conftest.py `clock`),
never at once as eager Celery would make them."""

from datetime import timedelta

from django_scopes import scope

from messaging.models import OutboundEmail
from messaging.sending.delivery import Delivery, email_deliver


def deliver_on_time(email: OutboundEmail, clock) -> list[Delivery]:
    """Each attempt the send task makes, each at the end of its wait: a second before it the
    email is left alone; then the clock is moved to it."""
    deliveries = []
    with scope(clinic=email.clinic_id):
        while True:
            delivery = email_deliver(email_id=email.id, only_if_due=True)
            deliveries.append(delivery)
            if delivery.outcome != "retry":
                return deliveries
            due = OutboundEmail.objects.get(pk=email.pk).next_attempt_at
            assert due - clock() == timedelta(seconds=delivery.retry_in)
            clock.move_to(due - timedelta(seconds=1))
            assert email_deliver(email_id=email.id, only_if_due=True).outcome == "skipped"
            clock.move_to(due)
