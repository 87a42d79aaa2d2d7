from django.core.management import call_command
from django_scopes import scopes_disabled

from clinic.models import Client, Clinic
from messaging.models import EmailEvent, OutboundEmail
from messaging.status import STATUS_RANK, highest_status


def test_seed_scale_fills_consistent_data(db):
    call_command("seed_scale", clinics=3, clients_per_clinic=20, emails=600)
    with scopes_disabled():
        assert Clinic.objects.count() == 3
        assert Client.objects.count() == 60
        emails = list(OutboundEmail.objects.select_related("client").prefetch_related("events"))
        per_client = sorted((c.emails.count() for c in Client.objects.all()), reverse=True)
        assert EmailEvent.objects.count() > 600
    assert len(emails) == 600
    for email in emails[:100]:
        assert email.status_rank == STATUS_RANK[email.status]
        assert email.to_email == email.client.email
        assert email.client.clinic_id == email.clinic_id
        assert highest_status([e.status for e in email.events.all()]) == email.status
    assert per_client[0] > 5 * per_client[len(per_client) // 2]  # a few heavy clients
