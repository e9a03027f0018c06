"""Assignment: manual and batch, reassignment, the automatic strategies, the grab pool."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from config.errors import ConflictError, ValidationFailed
from dealers.models import AssignmentPolicy, PoolGrab
from leads.models import Grade, Lead, Status
from leads.services.assignment import (
    advisor_stats,
    assignment_policy_update,
    grab_allowance,
    lead_grab,
    lead_reassign,
    leads_assign_batch,
    leads_auto_assign,
    leads_grab_expire,
    leads_recall_batch,
    leads_tier_escalate,
)
from leads.services.follow_up import lead_follow_up_record
from tests.factories import AdvisorFactory, DealerFactory, UserFactory, lead_at_dealer

pytestmark = pytest.mark.django_db


@pytest.fixture
def dealer():
    return DealerFactory()


@pytest.fixture
def manager(dealer):
    return AdvisorFactory(dealer=dealer, role="manager", name="经理")


def _advisors(dealer, n, **kwargs):
    return [AdvisorFactory(dealer=dealer, name=f"顾问{i}", **kwargs) for i in range(n)]


def _superuser():
    return UserFactory(is_staff=True, is_superuser=True)


def test_batch_assignment_reports_each_lead(dealer, manager):
    advisor = _advisors(dealer, 1)[0]
    free = [lead_at_dealer(Status.DISPATCHED, dealer=dealer) for _ in range(2)]
    taken = lead_at_dealer(Status.FOLLOWING, dealer=dealer)

    results = leads_assign_batch(
        lead_ids=[free[0].pk, taken.pk, free[1].pk], advisor_id=advisor.pk, actor=_superuser()
    )

    assert [r.ok for r in results] == [True, False, True]
    assert "已分配给" in results[1].message
    assert Lead.objects.get(pk=free[0].pk).assignment_reason == "经理手动分配"


def test_reassignment_needs_a_reason_and_keeps_the_stage(dealer):
    a, b = _advisors(dealer, 2)
    lead = lead_at_dealer(Status.INVITED, advisor=a)

    with pytest.raises(ValidationFailed):
        lead_reassign(lead_id=lead.pk, advisor_id=b.pk, actor=_superuser(), reason="")
    lead_reassign(lead_id=lead.pk, advisor_id=b.pk, actor=_superuser(), reason="原顾问休假")

    lead.refresh_from_db()
    assert (lead.advisor, lead.status) == (b, Status.INVITED)
    assert "原顾问休假" in lead.assignment_reason


def test_recall_batch_returns_leads_to_the_pool(dealer):
    lead = lead_at_dealer(Status.FOLLOWING, dealer=dealer)

    results = leads_recall_batch(lead_ids=[lead.pk], actor=_superuser(), reason="长期未跟进")

    lead.refresh_from_db()
    assert results[0].ok and lead.status == Status.RECALLED and lead.advisor is None


def test_advisor_stats_count_open_month_and_conversion(dealer):
    advisor = _advisors(dealer, 1)[0]
    lead_at_dealer(Status.FOLLOWING, advisor=advisor, assigned_at=timezone.now())
    lead_at_dealer(Status.ORDERED, advisor=advisor, grade=Grade.O, assigned_at=timezone.now())

    [row] = advisor_stats(dealer.pk)

    assert (row["open_leads"], row["month_leads"], row["conversion_90"]) == (1, 2, 0.5)


def test_round_robin_takes_turns_and_says_why(dealer):
    assignment_policy_update(dealer_id=dealer.pk, actor=None, strategy="round_robin")
    a, b = _advisors(dealer, 2)
    leads = [lead_at_dealer(Status.DISPATCHED, dealer=dealer) for _ in range(3)]

    leads_auto_assign(lead_ids=[lead.pk for lead in leads])

    owners = [Lead.objects.get(pk=lead.pk).advisor for lead in leads]
    assert owners == [a, b, a]
    assert "轮流分配" in Lead.objects.get(pk=leads[0].pk).assignment_reason


def test_fewest_open_picks_the_least_busy_advisor(dealer):
    assignment_policy_update(dealer_id=dealer.pk, actor=None, strategy="fewest_open")
    busy, idle = _advisors(dealer, 2)
    lead_at_dealer(Status.FOLLOWING, advisor=busy)
    lead = lead_at_dealer(Status.DISPATCHED, dealer=dealer)

    leads_auto_assign(lead_ids=[lead.pk])

    lead.refresh_from_db()
    assert lead.advisor == idle and "最少（0 条）" in lead.assignment_reason


def test_grade_priority_gives_h_leads_to_the_best_converter(dealer):
    assignment_policy_update(dealer_id=dealer.pk, actor=None, strategy="grade_priority")
    star, other = _advisors(dealer, 2)
    lead_at_dealer(Status.ORDERED, advisor=star, grade=Grade.O, assigned_at=timezone.now())
    lead_at_dealer(Status.FOLLOWING, advisor=star, assigned_at=timezone.now())
    hot = lead_at_dealer(Status.DISPATCHED, dealer=dealer, grade=Grade.H)

    leads_auto_assign(lead_ids=[hot.pk])

    hot.refresh_from_db()
    assert hot.advisor == star and "转化率最高" in hot.assignment_reason


def test_manual_and_pool_dealers_keep_leads_in_the_inbox(dealer):
    _advisors(dealer, 1)
    lead = lead_at_dealer(Status.DISPATCHED, dealer=dealer)

    assert leads_auto_assign(lead_ids=[lead.pk]) == 0


def test_tiered_goes_to_tier_one_then_tier_two_after_the_timeout(dealer):
    assignment_policy_update(dealer_id=dealer.pk, actor=None, strategy="tiered", tier_minutes=30)
    first = AdvisorFactory(dealer=dealer, tier=1)
    second = AdvisorFactory(dealer=dealer, tier=2)
    lead = lead_at_dealer(Status.DISPATCHED, dealer=dealer)
    leads_auto_assign(lead_ids=[lead.pk])
    lead.refresh_from_db()
    assert (lead.advisor, lead.assignment_tier) == (first, 1)

    assert leads_tier_escalate(now=timezone.now() + datetime.timedelta(minutes=10)) == 0
    moved = leads_tier_escalate(now=timezone.now() + datetime.timedelta(minutes=31))

    lead.refresh_from_db()
    assert moved == 1 and (lead.advisor, lead.assignment_tier) == (second, 2)
    assert "转梯队2" in lead.assignment_reason


def test_grab_takes_a_pool_lead_with_flag(dealer):
    assignment_policy_update(dealer_id=dealer.pk, actor=None, strategy="pool")
    advisor = _advisors(dealer, 1)[0]
    lead = lead_at_dealer(Status.DISPATCHED, dealer=dealer)

    lead_grab(lead_id=lead.pk, advisor=advisor)

    lead.refresh_from_db()
    assert lead.advisor == advisor and "抢" in lead.flags and lead.status == Status.ASSIGNED


def test_second_grab_of_the_same_lead_is_told_it_is_gone(dealer):
    assignment_policy_update(dealer_id=dealer.pk, actor=None, strategy="pool")
    a, b = _advisors(dealer, 2)
    lead = lead_at_dealer(Status.DISPATCHED, dealer=dealer)
    lead_grab(lead_id=lead.pk, advisor=a)

    with pytest.raises(ConflictError) as error:
        lead_grab(lead_id=lead.pk, advisor=b)

    assert "已被其他顾问领走" in str(error.value)


def test_fresh_leads_of_a_manual_dealer_cannot_be_grabbed_but_released_ones_can(dealer):
    advisor = _advisors(dealer, 1)[0]
    fresh = lead_at_dealer(Status.DISPATCHED, dealer=dealer)
    released = lead_at_dealer(Status.RELEASED, dealer=dealer)

    with pytest.raises(Exception):  # noqa: B017 - InvalidTransition with the reason
        lead_grab(lead_id=fresh.pk, advisor=advisor)
    lead_grab(lead_id=released.pk, advisor=advisor)

    released.refresh_from_db()
    assert released.advisor == advisor


def test_daily_cap_stops_grabbing(dealer):
    assignment_policy_update(dealer_id=dealer.pk, actor=None, strategy="pool", pool_daily_cap=1)
    advisor = _advisors(dealer, 1)[0]
    leads = [lead_at_dealer(Status.DISPATCHED, dealer=dealer) for _ in range(2)]
    lead_grab(lead_id=leads[0].pk, advisor=advisor)

    with pytest.raises(ValidationFailed) as error:
        lead_grab(lead_id=leads[1].pk, advisor=advisor)

    assert "上限" in str(error.value)


def test_grab_not_followed_up_in_time_returns_to_pool_and_shrinks_the_cap(dealer):
    assignment_policy_update(
        dealer_id=dealer.pk,
        actor=None,
        strategy="pool",
        pool_daily_cap=5,
        grab_follow_up_hours=4,
        grab_penalty=3,
    )
    advisor = _advisors(dealer, 1)[0]
    lead = lead_at_dealer(Status.DISPATCHED, dealer=dealer)
    lead_grab(lead_id=lead.pk, advisor=advisor)

    later = timezone.now() + datetime.timedelta(hours=5)
    with time_machine.travel(later, tick=False):
        expired = leads_grab_expire()
        allowance = grab_allowance(advisor)

    lead.refresh_from_db()
    assert expired == 1 and lead.status == Status.RECALLED and lead.advisor is None
    assert allowance["cap"] == 2 and allowance["penalty"] == 3


def test_grab_followed_up_in_time_is_settled_without_penalty(dealer):
    assignment_policy_update(dealer_id=dealer.pk, actor=None, strategy="pool")
    advisor = _advisors(dealer, 1)[0]
    lead = lead_at_dealer(Status.DISPATCHED, dealer=dealer)
    lead_grab(lead_id=lead.pk, advisor=advisor)
    lead_follow_up_record(lead_id=lead.pk, method="phone", result="reached")

    with time_machine.travel(timezone.now() + datetime.timedelta(hours=5), tick=False):
        expired = leads_grab_expire()

    grab = PoolGrab.objects.get()
    assert expired == 0 and grab.settled_at is not None and grab.penalty == 0


def test_policy_update_refuses_unknown_settings(dealer):
    with pytest.raises(ValidationFailed):
        assignment_policy_update(dealer_id=dealer.pk, actor=None, last_advisor_id=1)

    assert not AssignmentPolicy.objects.filter(dealer=dealer).exclude(strategy="manual").exists()
