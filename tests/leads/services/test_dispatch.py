"""Automatic dispatch: the four conditions, the dealer's hours, the sweep."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from dealers.models import Dealer
from leads.models import DispatchPolicy, Lead, Notification, Status
from leads.services.dispatch import dispatch_check, leads_dispatch_due, plan_dispatch
from tests.factories import ChannelFactory, DealerFactory, LeadFactory

pytestmark = pytest.mark.django_db
TZ = timezone.get_current_timezone()
WEDNESDAY_10 = datetime.datetime(2026, 11, 25, 10, 0, tzinfo=TZ)
WEDNESDAY_02 = datetime.datetime(2026, 11, 25, 2, 0, tzinfo=TZ)


@pytest.fixture(autouse=True)
def _threshold():
    DispatchPolicy.objects.update_or_create(pk=1, defaults={"score_threshold": 30})


def ready_lead(**overrides) -> Lead:
    """A qualified lead meeting (a), (b) and (c); windows are 08:30–20:00 every day."""
    dealer = overrides.pop("dealer", None) or DealerFactory()
    fields = dict(
        status=Status.QUALIFIED,
        dealer=dealer,
        consent_dealer=dealer,
        consent_at=WEDNESDAY_02 - datetime.timedelta(hours=1),
        channel=ChannelFactory(needs_cleansing=True),
        intent="high",
        score=60,
        created_at=WEDNESDAY_02 - datetime.timedelta(hours=3),
    )
    fields.update(overrides)
    return LeadFactory(**fields)


def codes(lead, at=WEDNESDAY_10):
    return [item["code"] for item in dispatch_check(lead, at=at).reasons()]


def test_a_lead_meeting_all_four_conditions_is_ready():
    lead = ready_lead()

    assert dispatch_check(lead, at=WEDNESDAY_10).ok


def test_unknown_dealer_blocks_dispatch_with_its_reason():
    lead = LeadFactory(status=Status.CLEANSING, intent="high", score=60)

    # Without a dealer the lead cannot be qualified either: both reasons are given.
    assert codes(lead) == ["not_qualified", "no_dealer"]


def test_missing_consent_alone_blocks_dispatch_with_its_reason():
    lead = ready_lead(consent_dealer=None)

    assert codes(lead) == ["no_consent"]


def test_uncleansed_lead_of_a_cleansing_channel_alone_blocks_dispatch():
    lead = ready_lead(intent="")

    assert codes(lead) == ["not_cleansed"]


def test_trusted_channel_needs_no_cleansing_intent():
    lead = ready_lead(intent="", channel=ChannelFactory(needs_cleansing=False))

    assert codes(lead) == []


def test_score_below_threshold_alone_blocks_dispatch():
    lead = ready_lead(score=10)

    assert codes(lead) == ["score"]
    assert "评分 10 低于派发分数线 30" in dispatch_check(lead, at=WEDNESDAY_10).summary()


def test_channel_threshold_overrides_the_global_one():
    lead = ready_lead(score=50, channel=ChannelFactory(needs_cleansing=True, dispatch_threshold=70))

    assert codes(lead) == ["score"]


def test_closed_window_alone_says_when_the_lead_will_go():
    lead = ready_lead()

    check = dispatch_check(lead, at=WEDNESDAY_02)

    assert check.waits_for_window
    assert check.next_opening == WEDNESDAY_02.replace(hour=8, minute=30)
    assert "将于 2026-11-25 08:30 派发" in check.summary()


def test_exited_dealer_never_receives_leads():
    lead = ready_lead(dealer=DealerFactory(status=Dealer.Status.EXITED))

    assert codes(lead) == ["dealer_inactive"]


def test_plan_inside_the_window_makes_the_lead_due_now():
    lead = ready_lead()

    plan_dispatch(lead, now=WEDNESDAY_10)

    assert lead.dispatch_at == WEDNESDAY_10 == lead.eligible_at


def test_lead_left_at_two_is_dispatched_by_the_sweep_at_half_past_eight():
    lead = ready_lead()
    plan_dispatch(lead, now=WEDNESDAY_02)
    lead.save()

    early = leads_dispatch_due(now=WEDNESDAY_02.replace(hour=8, minute=29))
    on_time = leads_dispatch_due(now=WEDNESDAY_02.replace(hour=8, minute=31))

    lead.refresh_from_db()
    assert early["dispatched"] == 0 and on_time["dispatched"] == 1
    assert lead.status == Status.DISPATCHED
    assert lead.dispatched_at == WEDNESDAY_02.replace(hour=8, minute=31)
    assert lead.dispatch_latency_ms == 60_000  # one minute after the window opened


def test_dispatch_notifies_the_dealer_and_audits():
    lead = ready_lead(dispatch_at=WEDNESDAY_10, eligible_at=WEDNESDAY_10)

    leads_dispatch_due(now=WEDNESDAY_10)

    note = Notification.objects.get(dealer=lead.dealer)
    assert f"#{lead.pk}" in note.message and note.kind == "dispatched"
    assert lead.events.filter(action="dispatch", to_value="dispatched").exists()


def test_sweep_hands_the_dispatched_lead_ids_to_auto_assignment(
    monkeypatch, django_capture_on_commit_callbacks
):
    from leads.services import dispatch

    lead = ready_lead(dispatch_at=WEDNESDAY_10, eligible_at=WEDNESDAY_10)
    handed = []
    monkeypatch.setattr(dispatch, "enqueue_auto_assign", handed.append)

    with django_capture_on_commit_callbacks(execute=True):
        leads_dispatch_due(now=WEDNESDAY_10)

    assert handed == [[lead.pk]]


def test_sweep_takes_each_lead_once():
    lead = ready_lead(dispatch_at=WEDNESDAY_10, eligible_at=WEDNESDAY_10)

    first = leads_dispatch_due(now=WEDNESDAY_10)
    second = leads_dispatch_due(now=WEDNESDAY_10)

    assert (first["dispatched"], second["dispatched"]) == (1, 0)
    assert lead.events.filter(action="dispatch").count() == 1


def test_sweep_reschedules_a_lead_whose_dealer_closed_meanwhile():
    from dealers.models import DealerClosure

    lead = ready_lead(dispatch_at=WEDNESDAY_10, eligible_at=WEDNESDAY_10)
    DealerClosure.objects.create(
        dealer=lead.dealer,
        start_date=WEDNESDAY_10.date(),
        end_date=WEDNESDAY_10.date(),
        reason="停电",
    )

    result = leads_dispatch_due(now=WEDNESDAY_10)

    lead.refresh_from_db()
    assert result["rescheduled"] == 1
    assert lead.dispatch_at == datetime.datetime(2026, 11, 26, 8, 30, tzinfo=TZ)


def test_sweep_drops_the_plan_of_a_lead_whose_dealer_was_suspended():
    lead = ready_lead(dispatch_at=WEDNESDAY_10, eligible_at=WEDNESDAY_10)
    Dealer.objects.filter(pk=lead.dealer_id).update(status=Dealer.Status.SUSPENDED)

    result = leads_dispatch_due(now=WEDNESDAY_10)

    lead.refresh_from_db()
    assert result["blocked"] == 1 and lead.status == Status.QUALIFIED and lead.dispatch_at is None
    assert "暂停" in lead.events.get(action="dispatch_blocked").reason


def test_qualifying_inside_the_window_dispatches_through_the_task_on_commit(
    django_capture_on_commit_callbacks,
):
    from leads.services import lead_qualify

    lead = ready_lead(status=Status.CLEANSING)
    with (
        time_machine.travel(WEDNESDAY_10, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        lead_qualify(lead_id=lead.pk)

    lead.refresh_from_db()
    assert lead.status == Status.DISPATCHED and lead.dispatch_latency_ms == 0


def test_intake_at_night_plans_dispatch_for_the_morning():
    from leads.services.intake import lead_intake

    dealer = DealerFactory()
    with time_machine.travel(WEDNESDAY_02, tick=False):
        result = lead_intake(
            channel=ChannelFactory(needs_cleansing=False, score_weight=100),
            source="api",
            data={
                "mobile": "13911112222",
                "dealer_code": dealer.code,
                "consent": True,
                "name": "林",
                "city": "北京",
                "purchase_timeframe": "2w",
            },
        )

    lead = Lead.objects.get(pk=result.lead_id)
    assert lead.status == Status.QUALIFIED
    assert lead.dispatch_at == WEDNESDAY_02.replace(hour=8, minute=30)


def test_year_missing_from_calendar_is_a_reason_not_a_guess():
    lead = ready_lead()

    check = dispatch_check(lead, at=datetime.datetime(2027, 1, 4, 10, tzinfo=TZ))

    assert [code for code, _m in check.failures] == ["calendar_missing"]
    assert "2027" in check.summary()


def test_replan_picks_up_a_lead_blocked_by_a_missing_calendar_once_it_is_entered():
    from dealers.models import WorkCalendarDay
    from leads.services.dispatch import leads_dispatch_replan

    january = datetime.datetime(2027, 1, 4, 10, tzinfo=TZ)
    lead = ready_lead()
    assert leads_dispatch_replan(now=january)["still_blocked"] == 1

    WorkCalendarDay.objects.bulk_create(
        WorkCalendarDay(
            date=datetime.date(2027, 1, 1) + datetime.timedelta(days=i),
            is_workday=(datetime.date(2027, 1, 1) + datetime.timedelta(days=i)).weekday() < 5,
        )
        for i in range(365)
    )
    totals = leads_dispatch_replan(now=january)

    lead.refresh_from_db()
    assert totals["due_now"] == 1 and lead.dispatch_at == january
    assert leads_dispatch_due(now=january)["dispatched"] == 1
