"""The status rules (docs/architecture.md): lowest to highest, held < sending < processed (and sent,
own SMTP) < deferred < delivered < opened < clicked < failed < spam_report; an email shows the
highest status among its events. The order here is the test's own, written from the rules."""

import itertools

import pytest

from messaging.status import EmailStatus, highest_status, status_rank

LOWEST_TO_HIGHEST = [
    ["held"],
    ["sending"],
    ["processed", "sent"],
    ["deferred"],
    ["delivered"],
    ["opened"],
    ["clicked"],
    ["failed"],
    ["spam_report"],
]
LEVEL = {status: level for level, tied in enumerate(LOWEST_TO_HIGHEST) for status in tied}


def test_every_status_has_a_place_in_the_order():
    assert set(LEVEL) == set(EmailStatus.values)


@pytest.mark.parametrize(("lower", "higher"), list(itertools.combinations(list(LEVEL), 2)))
def test_ranks_follow_the_order(lower, higher):
    if LEVEL[lower] < LEVEL[higher]:
        assert status_rank(lower) < status_rank(higher)
        assert highest_status([lower, higher]) == higher
        assert highest_status([higher, lower]) == higher
    else:  # own SMTP's `sent` sits with `processed`
        assert status_rank(lower) == status_rank(higher)


def test_held_ranks_lowest_and_sending_next():
    """A held email was never handed over: below `sending`, and every event status is above
    both."""
    assert status_rank("held") < status_rank("sending") == 0
    assert all(
        status_rank(status) > status_rank("sending")
        for status in LEVEL
        if status not in ("sending", "held")
    )


def test_ties_keep_the_first_seen():
    assert highest_status(["processed", "sent"]) == "processed"
    assert highest_status(["sent", "processed"]) == "sent"


def test_no_events_means_still_sending():
    assert highest_status([]) == "sending"


def test_the_highest_of_many_in_any_order():
    statuses = ["opened", "deferred", "spam_report", "delivered", "clicked", "failed"]
    for order in itertools.permutations(statuses, 4):
        assert highest_status(list(order)) == max(order, key=LEVEL.__getitem__)


def test_the_database_derives_the_same_ranks():
    """The SQL the database computes `status_rank` with: one WHEN per status, in the order,
    except `held`, which has no rank in SQL (NULL: no comparison raises it)."""
    from django.db.models import PositiveSmallIntegerField

    from messaging.status import status_rank_expression

    expression = status_rank_expression()
    ranks = {}
    for when in expression.cases:
        [(field, status)] = when.condition.children
        assert field == "status"
        ranks[status] = when.result.value
    assert set(ranks) == set(LEVEL) - {"held"}
    for lower, higher in itertools.combinations([status for status in LEVEL if status in ranks], 2):
        assert (ranks[lower] < ranks[higher]) is (LEVEL[lower] < LEVEL[higher])
        assert (ranks[lower] == ranks[higher]) is (LEVEL[lower] == LEVEL[higher])
    assert isinstance(expression.output_field, PositiveSmallIntegerField)


@pytest.mark.django_db
def test_no_rank_comparison_ever_raises_a_held_email():
    """In the database a held email's rank is NULL: `status_rank < n` is never true of it, so the
    drain's and the hand-over's raising UPDATEs leave it as it is."""
    from django_scopes import scopes_disabled

    from messaging.models import OutboundEmail
    from tests.factories import OutboundEmailFactory

    with scopes_disabled():
        held = OutboundEmailFactory(status="held")
        held.refresh_from_db()
        assert held.status_rank is None
        assert not OutboundEmail.objects.filter(pk=held.pk, status_rank__lt=70).exists()
