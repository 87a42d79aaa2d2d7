"""The delivery overview (/overview/) and the emails behind each reason for failure: figures equal
to what the clinic's emails imply, days on the clinic's clock, clinic admins only, another clinic
sees none of it; and support's platform overview in admin, riskiest first, in a fixed number of
queries."""

import re
from datetime import UTC, date, datetime, timedelta
from itertools import product

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from clinic.models import Clinic, Membership
from messaging.models import OutboundEmail
from messaging.reputation.figures import Figures
from messaging.reputation.overview import REASONS, clinic_days_of, reason_filter, reason_of
from messaging.reputation.platform_counts import clinic_days
from messaging.reputation.rollups import DayCount, counts_fold, day_counts
from messaging.status import EmailStatus
from suppression.models import Refusal
from tests.factories import (
    ClientFactory,
    ClinicFactory,
    GuardWarningFactory,
    MailHoldFactory,
    MembershipFactory,
    OutboundEmailFactory,
)
from tests.otp import support_login

URL = "/overview/"
EMAILS_URL = "/overview/emails/"
# 10:00 in New York on Friday 20 November 2026: the span is 22 October to 20 November.
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def emails(clinic, number: int, *, at: datetime, client=None, **state) -> list[OutboundEmail]:
    """`number` emails of the clinic saved at `at`, then moved to `state` by an update (the counts
    follow by the database's trigger). handed_over=True gives each a message id."""
    handed_over = state.pop("handed_over", state.get("status") not in ("sending", "held"))
    with scopes_disabled():
        client = client or ClientFactory(clinic=clinic)
        made = OutboundEmailFactory.create_batch(number, client=client)
        ids = [email.pk for email in made]
        for index, pk in enumerate(ids):
            OutboundEmail.objects.filter(pk=pk).update(
                created_at=at,
                esp_message_id=f"m-{pk}" if handed_over and not state.get("refusal") else "",
                **state,
            )
            del index
        return list(OutboundEmail.objects.filter(pk__in=ids))


@pytest.fixture
def new_york(cast, clock):
    clock.move_to(NOW)
    with scopes_disabled():
        Clinic.objects.filter(pk=cast.alice_clinic.pk).update(time_zone="America/New_York")
        cast.alice_clinic.refresh_from_db()
        cast.charlie_admin = MembershipFactory(
            clinic=cast.charlie_clinic,
            user__email="boss@charlie.test",
            role=Membership.Role.CLINIC_ADMIN,
        ).user
        cast.rita = MembershipFactory(
            clinic=cast.alice_clinic,
            user__email="rita@alice.test",
            role=Membership.Role.RECEPTIONIST,
        ).user
    return cast


def page(client, user, url=URL, **params):
    client.force_login(user)
    return client.get(url, params)


def test_the_figures_are_what_the_emails_imply(client, new_york, settings):
    settings.GUARD_MIN_SENDS, settings.GUARD_MIN_EVENTS = 10, 2
    clinic = new_york.alice_clinic
    today = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    emails(clinic, 17, at=today, status="delivered")
    emails(clinic, 2, at=today, status="failed")  # hard bounces
    emails(clinic, 1, at=today, status="spam_report")
    emails(clinic, 3, at=today, status="failed", refusal=Refusal.OPTED_OUT)  # not sends
    # Ten days ago: in the 30 days, not in the guard's 7.
    emails(clinic, 18, at=today - timedelta(days=10), status="opened")
    emails(clinic, 2, at=today - timedelta(days=10), status="failed")
    response = page(client, new_york.alice_admin)
    assert response.status_code == 200
    bounces, complaints = response.context["measures"]
    week, month = bounces.rates
    assert (week.span_days, week.sends, week.events) == (7, 20, 2)
    assert week.percent == pytest.approx(10.0) and week.standing == "hold"
    assert (month.sends, month.events, month.percent) == (40, 4, pytest.approx(10.0))
    assert complaints.rates[0].events == 1 and complaints.rates[0].standing == "few"
    body = response.content.decode()
    assert "10.00%" in body and "2 of 20 sent" in body and "4 of 40 sent" in body
    assert "At the hold threshold" in body and "Past the warning rate, on too few to act on" in body
    assert "This platform warns at 4% and holds at 8%" in body
    assert "warns at 0.08% and holds at 0.3%" in body
    assert "Amazon SES reviews the account at 5%" in body
    assert "Gmail and Yahoo refuse bulk mail above 0.3%" in body
    assert response.context["total"] == 43
    reasons = [(item.reason.code, item.emails) for item in response.context["reasons"]]
    assert reasons == [("hard_bounce", 4), ("opted_out", 3), ("complaint", 1)]
    today_row = response.context["days"][-1]
    assert today_row.day == date(2026, 11, 20)
    assert today_row.emails == {"delivered": 17, "failed": 2, "spam": 1, "not_sent": 3}


def test_days_are_the_clinics_own(client, new_york):
    clinic = new_york.alice_clinic
    # 04:30 UTC on the 20th is 23:30 on the 19th in New York; 05:30 UTC is 00:30 on the 20th.
    emails(clinic, 1, at=datetime(2026, 11, 20, 4, 30, tzinfo=UTC), status="delivered")
    emails(clinic, 2, at=datetime(2026, 11, 20, 5, 30, tzinfo=UTC), status="delivered")
    # The span's first day, 22 October, begins at 04:00 UTC (EDT): one just in, one just out.
    emails(clinic, 4, at=datetime(2026, 10, 22, 4, 0, tzinfo=UTC), status="failed")
    emails(clinic, 8, at=datetime(2026, 10, 22, 3, 59, tzinfo=UTC), status="failed")
    response = page(client, new_york.alice_admin)
    days = {day.day: day.total for day in response.context["days"]}
    assert len(days) == 30 and min(days) == date(2026, 10, 22)
    assert days[date(2026, 11, 19)] == 1 and days[date(2026, 11, 20)] == 2
    assert days[date(2026, 10, 22)] == 4
    assert response.context["total"] == 7
    body = response.content.decode()
    assert '<time datetime="2026-10-22">Thu 22 Oct</time></th><td>0</td>' in body
    assert "Fri 20 Nov: 2 delivered" in body  # the bar's own title
    # The emails behind the reason: the four inside the span, not the eight a minute before it.
    listed = page(client, new_york.alice_admin, EMAILS_URL, reason="hard_bounce")
    assert listed.context["page"].paginator.count == 4


def listed_ids(client, user, reason: str) -> set[str]:
    found, number = set(), 1
    while True:
        response = page(client, user, EMAILS_URL, reason=reason, page=number)
        assert response.status_code == 200
        found |= set(re.findall(r'data-email="([0-9a-f-]+)"', response.content.decode()))
        if not response.context["page"].has_next():
            return found
        number += 1


def test_each_reason_links_to_exactly_its_emails(client, new_york):
    clinic, at = new_york.alice_clinic, datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
    made = {
        "hard_bounce": emails(clinic, 27, at=at, status="failed"),  # two pages
        "not_handed_over": emails(clinic, 1, at=at, status="failed", handed_over=False),
        "temporary": emails(clinic, 2, at=at, status="failed", failure_cause="temporary"),
        "sender": emails(clinic, 1, at=at, status="failed", failure_cause="sender"),
        "complaint": emails(clinic, 2, at=at, status="spam_report"),
        "held": emails(clinic, 1, at=at, status="held"),
        "suppressed": emails(clinic, 1, at=at, status="failed", refusal=Refusal.SUPPRESSED),
        "no_address": emails(clinic, 1, at=at, status="failed", refusal=Refusal.NO_ADDRESS),
    }
    emails(clinic, 5, at=at, status="delivered")
    emails(clinic, 3, at=at - timedelta(days=40), status="failed")  # past the span
    emails(new_york.charlie_clinic, 4, at=at, status="failed")  # another clinic's
    overview = page(client, new_york.alice_admin)
    body = overview.content.decode()
    shown = {item.reason.code: item.emails for item in overview.context["reasons"]}
    assert shown == {code: len(rows) for code, rows in made.items()}
    for code, rows in made.items():
        assert f'href="/overview/emails/?reason={code}"' in body
        assert listed_ids(client, new_york.alice_admin, code) == {str(e.pk) for e in rows}
    first_page = page(client, new_york.alice_admin, EMAILS_URL, reason="hard_bounce")
    newest = max(made["hard_bounce"], key=lambda email: email.pk)  # same moment: by id
    text = first_page.content.decode()
    assert f"/clients/{newest.client_id}/?email={newest.pk}#email-{newest.pk}" in text
    assert "The address does not exist or refuses mail." in text
    assert 'href="?reason=hard_bounce&amp;page=2"' in text


@scopes_disabled()
def test_the_list_and_the_counts_agree_for_every_state(cast):
    """Every (status, cause, refusal, handed over) an email can be in: the emails a reason's
    filter finds are exactly those whose counted state `reason_of` gives that reason."""
    client = ClientFactory(clinic=cast.alice_clinic)
    states = list(
        product(
            EmailStatus.values, ["", "temporary", "sender"], ["", *Refusal.values], [True, False]
        )
    )
    rows = OutboundEmailFactory.create_batch(len(states), client=client)
    expected: dict[str, set] = {code: set() for code in REASONS}
    for email, (status, cause, refusal, handed_over) in zip(rows, states, strict=True):
        OutboundEmail.objects.filter(pk=email.pk).update(
            status=status,
            failure_cause=cause,
            refusal=refusal,
            esp_message_id=f"m-{email.pk}" if handed_over else "",
        )
        code = reason_of(DayCount(0, date.today(), status, cause, refusal, handed_over, 1))
        if code:
            expected[code].add(email.pk)
    for code in REASONS:
        found = set(OutboundEmail.objects.filter(reason_filter(code)).values_list("pk", flat=True))
        assert found == expected[code], code


@scopes_disabled()
def test_the_platforms_sums_are_the_figures_rules_for_every_state(cast):
    """PostgreSQL's per-clinic, per-day sums equal `figures.py`'s rules applied to every count,
    for every state an email can be in, folded or not, in two clinics on two days."""
    states = list(
        product(
            EmailStatus.values, ["", "temporary", "sender"], ["", *Refusal.values], [True, False]
        )
    )
    for clinic, day in ((cast.alice_clinic, 1), (cast.charlie_clinic, 2)):
        client = ClientFactory(clinic=clinic)
        rows = OutboundEmailFactory.create_batch(len(states), client=client)
        for email, (status, cause, refusal, handed_over) in zip(rows, states, strict=True):
            OutboundEmail.objects.filter(pk=email.pk).update(
                status=status,
                failure_cause=cause,
                refusal=refusal,
                esp_message_id=f"m-{email.pk}" if handed_over else "",
                created_at=NOW - timedelta(days=day),
            )
        if day == 1:
            counts_fold()
    since, until = date(2026, 11, 1), date(2026, 11, 21)
    read = clinic_days(since=since, until=until)
    assert read == clinic_days_of(day_counts(since=since), since=since, until=until)
    assert set(read) == {cast.alice_clinic.pk, cast.charlie_clinic.pk}
    alice = read[cast.alice_clinic.pk].figures(date(2026, 11, 19), until)
    assert alice.sends and alice.bounces and alice.complaints
    assert read[cast.alice_clinic.pk].figures(since, date(2026, 11, 18)) == Figures()


def test_a_standing_hold_is_shown_with_what_to_do(client, new_york):
    with scopes_disabled():
        MailHoldFactory(clinic=new_york.alice_clinic)
        MailHoldFactory(
            clinic=new_york.charlie_clinic, why="Complaints reached 0.4% of 900 emails."
        )
    body = page(client, new_york.alice_admin).content.decode()
    assert "Mail to new addresses is on hold" in body
    assert "Hard bounces reached 9.0% of 300 emails" in body
    assert "ask support to release the hold" in body
    charlie = page(client, new_york.charlie_admin).content.decode()
    assert "Complaints reached 0.4% of 900 emails." in charlie and "9.0% of 300" not in charlie


def test_a_released_hold_is_not_shown(client, new_york):
    with scopes_disabled():
        MailHoldFactory(clinic=new_york.alice_clinic, released_at=NOW)
    assert (
        "Mail to new addresses is on hold"
        not in page(client, new_york.alice_admin).content.decode()
    )


def test_charlie_sees_only_his_own_clinic(client, new_york):
    at = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
    alices = emails(new_york.alice_clinic, 3, at=at, status="failed")
    emails(new_york.charlie_clinic, 1, at=at, status="delivered")
    response = page(client, new_york.charlie_admin)
    assert response.context["total"] == 1 and response.context["reasons"] == []
    listed = page(client, new_york.charlie_admin, EMAILS_URL, reason="hard_bounce")
    assert listed.status_code == 200 and listed.context["page"].paginator.count == 0
    assert str(alices[0].pk) not in listed.content.decode()
    # The link an admin follows from the list: another clinic's client is not found.
    client.force_login(new_york.charlie_admin)
    assert client.get(f"/clients/{alices[0].client_id}/?email={alices[0].pk}").status_code == 404


@pytest.mark.parametrize("who", ["alice", "rita", "support"])
def test_only_clinic_admins_may_read_it(client, new_york, who):
    user = getattr(new_york, who)
    for url in (URL, EMAILS_URL + "?reason=hard_bounce"):
        client.force_login(user)
        assert client.get(url).status_code == 403
    client.force_login(user)
    assert 'href="/overview/"' not in client.get("/attention/").content.decode()


def test_the_nav_links_it_for_admins_and_strangers_are_sent_to_log_in(client, new_york):
    assert client.get(URL).status_code == 302
    body = page(client, new_york.alice_admin, "/attention/").content.decode()
    assert '<a href="/overview/">Delivery overview</a>' in body


def test_an_unknown_reason_is_not_found(client, new_york):
    assert page(client, new_york.alice_admin, EMAILS_URL, reason="nonsense").status_code == 404
    assert page(client, new_york.alice_admin, EMAILS_URL).status_code == 404


def queries_of(client, url, **params) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(captured)


def test_the_clinic_overview_reads_a_fixed_number_of_queries(client, new_york):
    at = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
    emails(new_york.alice_clinic, 2, at=at, status="failed")
    client.force_login(new_york.alice_admin)
    few = queries_of(client, URL), queries_of(client, EMAILS_URL, reason="hard_bounce")
    emails(new_york.alice_clinic, 30, at=at - timedelta(days=3), status="failed")
    emails(new_york.alice_clinic, 30, at=at, status="delivered")
    with scopes_disabled():
        MailHoldFactory(clinic=new_york.alice_clinic)
    many = queries_of(client, URL), queries_of(client, EMAILS_URL, reason="hard_bounce")
    assert few == many


# --- Support's platform overview -----------------------------------------------------------


def platform_rows(body: str) -> list[tuple[str, str]]:
    return re.findall(r'<tr data-clinic="(\d+)" data-level="(\w+)">', body)


def test_support_reads_every_clinic_riskiest_first(client, new_york, settings):
    settings.GUARD_MIN_SENDS, settings.GUARD_MIN_EVENTS = 10, 2
    at = datetime(2026, 11, 19, 12, 0, tzinfo=UTC)
    alice, charlie = new_york.alice_clinic, new_york.charlie_clinic
    emails(alice, 18, at=at, status="delivered")
    emails(alice, 2, at=at, status="failed")  # 10% bounces: hold
    emails(charlie, 97, at=at, status="delivered")
    emails(charlie, 3, at=at, status="failed")  # 3%: fine
    with scopes_disabled():
        quiet = ClinicFactory(name="Quiet Clinic", sending_connection=Clinic.Connection.OWN_SMTP)
        hold = MailHoldFactory(clinic=alice)
        GuardWarningFactory(clinic=alice)
    support_login(client, new_york.support)
    response = client.get("/admin/overview/")
    assert response.status_code == 200
    body = response.content.decode()
    assert platform_rows(body) == [
        (str(alice.pk), "hold"),
        (str(charlie.pk), "fine"),
        (str(quiet.pk), "evidence"),
    ]
    assert f'href="/admin/messaging/mailhold/{hold.pk}/change/"' in body or "On hold" in body
    assert "Own SMTP: never held" in body
    assert "Standing warning: Hard bounces: warning" in body
    assert "<td>10.00%</td>" in body and "<td>3.00%</td>" in body
    assert 'href="/admin/overview/"' in client.get("/admin/").content.decode()


@pytest.mark.parametrize("who", ["alice_admin", "charlie"])
def test_clinic_staff_never_open_the_platform_overview(client, new_york, who):
    client.force_login(getattr(new_york, who))
    response = client.get("/admin/overview/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_support_without_the_second_factor_is_asked_for_it(client, new_york):
    client.force_login(new_york.support)
    assert client.get("/admin/overview/").status_code == 302


def test_the_platform_overview_reads_a_fixed_number_of_queries(client, new_york):
    at = datetime(2026, 11, 19, 12, 0, tzinfo=UTC)
    emails(new_york.alice_clinic, 3, at=at, status="failed")
    support_login(client, new_york.support)
    before = queries_of(client, "/admin/overview/")
    with scopes_disabled():
        for _ in range(6):
            clinic = ClinicFactory()
            MailHoldFactory(clinic=clinic)
            GuardWarningFactory(clinic=clinic)
    for clinic in Clinic.objects.all()[:4]:
        emails(clinic, 2, at=at, status="failed")
    after = queries_of(client, "/admin/overview/")
    assert before == after
    with CaptureQueriesContext(connection) as captured:
        client.get("/admin/overview/")
    reads = [q["sql"] for q in captured if "emaildaycount" in q["sql"]]
    assert len(reads) == 1
