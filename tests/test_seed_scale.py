from collections import Counter
from datetime import date

from django.core.management import call_command
from django_scopes import scopes_disabled

from clinic.models import Client, Clinic
from messaging.models import EmailCountChange, EmailEvent, OutboundEmail
from messaging.reputation.figures import bounce_level, complaint_level, figures_of, thresholds
from messaging.reputation.rollups import day_counts, day_counts_recounted
from messaging.status import STATUS_RANK, highest_status

EPOCH = date(2000, 1, 1)


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
        if email.refusal:  # refused before sending: never handed over, no ESP events
            assert not email.esp_message_id and not email.events.all()
        else:
            assert highest_status([e.status for e in email.events.all()]) == email.status
            assert email.esp_message_id
    assert per_client[0] > 5 * per_client[len(per_client) // 2]  # a few heavy clients


def test_seed_scale_counts_are_folded_and_equal_the_recount(db):
    call_command("seed_scale", clinics=3, clients_per_clinic=20, emails=900)
    with scopes_disabled():
        assert not EmailCountChange.objects.exists()
    read = sorted(day_counts(since=EPOCH), key=repr)
    assert read == sorted(day_counts_recounted(), key=repr) != []


def test_seed_scale_rates_are_a_platforms_most_clinics_under_a_few_over(db):
    """Of ten clinics, the first is over the bounce hold, the second over the complaint hold,
    the third and fourth at a warning and the rest under every threshold, on the whole month."""
    call_command("seed_scale", clinics=10, clients_per_clinic=20, emails=30_000)
    limits = thresholds()
    per_clinic: dict[int, list] = {}
    for count in day_counts(since=EPOCH):
        per_clinic.setdefault(count.clinic_id, []).append(count)
    levels = []
    for clinic_id in sorted(per_clinic):
        figures = figures_of(per_clinic[clinic_id])
        levels.append((bounce_level(figures, limits), complaint_level(figures, limits)))
    assert levels[:4] == [("hold", ""), ("", "hold"), ("warning", ""), ("", "warning")]
    assert levels[4:] == [("", "")] * 6
    with scopes_disabled():
        shapes = Counter(OutboundEmail.objects.values_list("status", "failure_cause", "refusal"))
        handed_over = OutboundEmail.objects.exclude(esp_message_id="")
        assert handed_over.filter(status="failed", failure_cause="").exists()  # hard bounces
    assert shapes[("failed", "temporary", "")] and shapes[("failed", "sender", "")]
    assert shapes[("failed", "", "suppressed")] and shapes[("failed", "", "opted_out")]
