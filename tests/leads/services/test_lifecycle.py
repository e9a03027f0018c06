"""Lifecycle rules with moved time: recall, validity → silence → release, activation,
directed assignment, the escalation ladder, an advisor leaving, idempotent runs."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from config.errors import InvalidTransition
from dealers.models import Advisor
from leads.models import LeadEvent, LifecycleRule, Notification, Status
from leads.services import lead_assign, lead_follow_up_record
from leads.services.assignment import lead_grab
from leads.services.intake import lead_intake
from leads.services.lifecycle import advisor_deactivate, lifecycle_run
from tests.factories import AdvisorFactory, ChannelFactory, DealerFactory, lead_at_dealer

pytestmark = pytest.mark.django_db
T0 = datetime.datetime(2026, 11, 2, 10, 0, tzinfo=datetime.UTC)


def only(kind, **changes):
    """Switch every rule off except the default one of this kind (optionally changed)."""
    LifecycleRule.objects.exclude(kind=kind).update(is_active=False)
    rule = LifecycleRule.objects.get(kind=kind)
    for key, value in changes.items():
        setattr(rule, key, value)
    rule.save()
    return rule


def run_at(moment):
    with time_machine.travel(moment, tick=False):
        return lifecycle_run()


def assigned_lead(advisor=None, **kwargs):
    advisor = advisor or AdvisorFactory()
    lead = lead_at_dealer(Status.DISPATCHED, dealer=advisor.dealer, **kwargs)
    with time_machine.travel(T0, tick=False):
        lead_assign(lead_id=lead.pk, advisor_id=advisor.pk)
    lead.refresh_from_db()
    return lead


def test_no_first_follow_up_within_the_hours_recalls_with_the_rule_named():
    rule = only("no_first", hours=24)
    lead = assigned_lead()

    run_at(T0 + datetime.timedelta(hours=23))
    lead.refresh_from_db()
    assert lead.status == Status.ASSIGNED
    run_at(T0 + datetime.timedelta(hours=25))

    lead.refresh_from_db()
    assert lead.status == Status.RECALLED and lead.advisor is None
    assert rule.name in lead.events.get(action="recall").reason
    rule.refresh_from_db()
    assert rule.last_result == "召回 1 条" and rule.last_run_at is not None


def test_running_the_rules_twice_changes_nothing_the_second_time():
    only("no_first", hours=24)
    lead = assigned_lead()
    moment = T0 + datetime.timedelta(hours=30)

    run_at(moment)
    events = LeadEvent.objects.filter(lead=lead).count()
    second = run_at(moment)

    assert LeadEvent.objects.filter(lead=lead).count() == events
    assert list(second.values()) == ["召回 0 条"]


def test_a_rule_scoped_to_another_grade_leaves_the_lead_alone():
    only("no_first", hours=1, grade="H")
    lead = assigned_lead(grade="C")

    run_at(T0 + datetime.timedelta(hours=5))

    lead.refresh_from_db()
    assert lead.status == Status.ASSIGNED


def test_cycle_overdue_recalls_a_lead_not_followed_past_its_grade_cycle():
    only("cycle_overdue", days=7)
    lead = assigned_lead(grade="H")
    with time_machine.travel(T0 + datetime.timedelta(hours=1), tick=False):
        lead_follow_up_record(lead_id=lead.pk, method="phone", result="reached")

    run_at(T0 + datetime.timedelta(days=13))  # H cycle 7 + 7 days not yet passed
    lead.refresh_from_db()
    assert lead.status == Status.FOLLOWING
    run_at(T0 + datetime.timedelta(days=15))

    lead.refresh_from_db()
    assert lead.status == Status.RECALLED


def _validity_rule():
    return only(
        "validity", days=5, params={"stage_days": {"invited": 1, "arrived": 3}, "silence_hours": 24}
    )


def test_validity_expiry_silences_then_releases_to_the_pool():
    _validity_rule()
    advisor = AdvisorFactory()
    lead = assigned_lead(advisor)

    run_at(T0 + datetime.timedelta(days=5, hours=1))
    lead.refresh_from_db()
    assert lead.status == Status.SILENCED and lead.advisor == advisor
    run_at(T0 + datetime.timedelta(days=6, hours=2))

    lead.refresh_from_db()
    assert lead.status == Status.RELEASED and lead.advisor is None
    assert lead.released_from == advisor


def test_validity_grows_with_the_stage_reached():
    _validity_rule()
    lead = assigned_lead()
    with time_machine.travel(T0 + datetime.timedelta(hours=2), tick=False):
        lead_follow_up_record(lead_id=lead.pk, method="phone", result="invited")

    run_at(T0 + datetime.timedelta(days=5, hours=12))  # 5 + 1 day for the invitation

    lead.refresh_from_db()
    assert lead.status == Status.INVITED


def test_during_silence_the_old_advisor_cannot_act_and_nobody_can_be_given_it():
    _validity_rule()
    advisor = AdvisorFactory()
    other = AdvisorFactory(dealer=advisor.dealer)
    lead = assigned_lead(advisor)
    run_at(T0 + datetime.timedelta(days=5, hours=1))

    with pytest.raises(InvalidTransition):
        lead_follow_up_record(lead_id=lead.pk, method="phone", result="reached")
    with pytest.raises(Exception):  # noqa: B017 - the assignment is refused
        lead_assign(lead_id=lead.pk, advisor_id=other.pk)
    with pytest.raises(Exception):  # noqa: B017 - and so is a grab
        lead_grab(lead_id=lead.pk, advisor=other)

    lead.refresh_from_db()
    assert lead.status == Status.SILENCED and lead.advisor == advisor


def _silenced_lead(level):
    _validity_rule()
    advisor = AdvisorFactory(level=level)
    lead = assigned_lead(advisor)
    run_at(T0 + datetime.timedelta(days=5, hours=1))
    return lead, advisor


def test_activity_in_silence_returns_the_lead_to_a_senior_advisor():
    lead, advisor = _silenced_lead(Advisor.Level.SENIOR)

    result = lead_intake(
        channel=ChannelFactory(),
        source="api",
        data={"mobile": lead.customer.mobile, "dealer_code": lead.dealer.code},
    )

    lead.refresh_from_db()
    assert "silence_returned" in result.reasons
    assert lead.status == Status.ASSIGNED and lead.advisor == advisor


def test_activity_in_silence_of_a_junior_advisor_releases_for_the_dealer_rules():
    lead, _advisor = _silenced_lead(Advisor.Level.JUNIOR)

    result = lead_intake(
        channel=ChannelFactory(),
        source="api",
        data={"mobile": lead.customer.mobile, "dealer_code": lead.dealer.code},
    )

    lead.refresh_from_db()
    assert "silence_released" in result.reasons
    assert lead.advisor is None and lead.status in (Status.RELEASED, Status.DISPATCHED)


def test_activity_through_the_advisors_own_channel_always_returns_the_lead():
    lead, advisor = _silenced_lead(Advisor.Level.JUNIOR)
    card = ChannelFactory(owner_advisor=advisor, name="李娜的微信名片")

    lead_intake(
        channel=card,
        source="api",
        data={"mobile": lead.customer.mobile, "dealer_code": lead.dealer.code},
    )

    lead.refresh_from_db()
    assert lead.advisor == advisor and lead.status == Status.ASSIGNED


def test_after_release_the_advisors_own_channel_assigns_the_lead_back_directed():
    lead, advisor = _silenced_lead(Advisor.Level.JUNIOR)
    run_at(T0 + datetime.timedelta(days=6, hours=2))
    card = ChannelFactory(owner_advisor=advisor)

    result = lead_intake(
        channel=card,
        source="api",
        data={"mobile": lead.customer.mobile, "dealer_code": lead.dealer.code},
    )

    lead.refresh_from_db()
    assert "directed" in result.reasons
    assert lead.advisor == advisor and "定向分配" in lead.assignment_reason
    assert "激" in lead.flags


def test_escalation_reminds_then_tells_the_manager_then_recalls():
    only("escalation", hours=2, params={"manager_hours": 24, "recall_hours": 72})
    advisor = AdvisorFactory()
    lead = assigned_lead(advisor)
    due = T0 + datetime.timedelta(days=1)
    with time_machine.travel(T0 + datetime.timedelta(hours=1), tick=False):
        lead_follow_up_record(
            lead_id=lead.pk, method="phone", result="reached", next_follow_up_at=due
        )

    run_at(due + datetime.timedelta(hours=3))
    assert Notification.objects.filter(recipient=advisor.user, lead=lead).count() == 1
    run_at(due + datetime.timedelta(hours=25))
    assert Notification.objects.filter(dealer=advisor.dealer, lead=lead).count() == 1
    run_at(due + datetime.timedelta(hours=73))

    lead.refresh_from_db()
    assert lead.status == Status.RECALLED and lead.escalation_level == 3
    assert {"escalation_remind", "escalation_manager"} <= set(
        lead.events.values_list("action", flat=True)
    )


def test_a_follow_up_resets_the_escalation_ladder():
    only("escalation", hours=2, params={"manager_hours": 24, "recall_hours": 72})
    lead = assigned_lead()
    due = T0 + datetime.timedelta(days=1)
    with time_machine.travel(T0 + datetime.timedelta(hours=1), tick=False):
        lead_follow_up_record(
            lead_id=lead.pk, method="phone", result="reached", next_follow_up_at=due
        )
    run_at(due + datetime.timedelta(hours=3))

    with time_machine.travel(due + datetime.timedelta(hours=4), tick=False):
        lead_follow_up_record(lead_id=lead.pk, method="wechat", result="reached")

    lead.refresh_from_db()
    assert lead.escalation_level == 0


def test_advisor_leaving_hands_open_leads_to_a_colleague_in_one_step():
    dealer = DealerFactory()
    leaving = AdvisorFactory(dealer=dealer)
    colleague = AdvisorFactory(dealer=dealer)
    leads = [
        lead_at_dealer(status, advisor=leaving)
        for status in (Status.ASSIGNED, Status.INVITED, Status.FOLLOWING)
    ]

    counts = advisor_deactivate(
        advisor_id=leaving.pk, actor=None, reason="辞职", hand_to_id=colleague.pk
    )

    leaving.refresh_from_db()
    assert counts == {"handed": 3, "recalled": 0} and not leaving.is_active
    assert {lead.__class__.objects.get(pk=lead.pk).advisor for lead in leads} == {colleague}


def test_advisor_leaving_without_a_colleague_recalls_everything_to_the_pool():
    leaving = AdvisorFactory()
    lead = lead_at_dealer(Status.DEFEAT_REQUESTED, advisor=leaving, defeat_reason="价格")

    counts = advisor_deactivate(advisor_id=leaving.pk, actor=None, reason="辞职")

    lead.refresh_from_db()
    assert counts == {"handed": 0, "recalled": 1} and lead.status == Status.RECALLED
    assert timezone.now()  # the lead's timeline names the reason
    assert "辞职" in lead.events.get(action="recall").reason
