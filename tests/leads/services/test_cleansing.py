"""The HQ cleansing desk: claims, call outcomes, merge on confirmation, nurturing, sampling."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from config.errors import ConflictError, InvalidTransition, ValidationFailed
from leads.models import (
    CallRecord,
    CleansingPolicy,
    Grade,
    InvalidReason,
    Lead,
    NurtureTouch,
    RawLead,
    Status,
    SupervisionSample,
)
from leads.services.cleansing import (
    lead_call_record,
    lead_claim_next,
    lead_claim_release,
    lead_nurture_touch_record,
    supervision_sample_record,
    supervision_samples_draw,
)
from leads.services.intake import lead_intake
from tests.doubles import RecordingSender
from tests.factories import (
    ChannelFactory,
    DealerFactory,
    LeadFactory,
    UserFactory,
    lead_at_dealer,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(db):
    return UserFactory(username="agent1", is_staff=True, is_superuser=True)


@pytest.fixture
def other_agent(db):
    return UserFactory(username="agent2", is_staff=True, is_superuser=True)


def _queued(**kwargs) -> Lead:
    return LeadFactory(status=Status.CLEANSING, **kwargs)


def test_next_lead_gives_the_oldest_unclaimed_lead(agent):
    old = _queued(created_at=timezone.now() - datetime.timedelta(days=2))
    _queued(created_at=timezone.now() - datetime.timedelta(hours=1))

    claimed = lead_claim_next(agent=agent)

    assert claimed.pk == old.pk
    assert claimed.claimed_by == agent and claimed.claim_expires_at > timezone.now()


def test_two_agents_get_different_leads(agent, other_agent):
    _queued()
    _queued()

    first = lead_claim_next(agent=agent)
    second = lead_claim_next(agent=other_agent)

    assert first.pk != second.pk


def test_agent_asking_again_keeps_their_current_claim(agent):
    _queued()
    _queued()

    first = lead_claim_next(agent=agent)
    again = lead_claim_next(agent=agent)

    assert again.pk == first.pk


def test_expired_claim_returns_the_lead_to_the_queue(agent, other_agent):
    lead = _queued()
    lead_claim_next(agent=agent)
    minutes = CleansingPolicy.current().claim_minutes

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=minutes + 1)):
        claimed = lead_claim_next(agent=other_agent)

    assert claimed.pk == lead.pk and claimed.claimed_by == other_agent


def test_released_claim_can_be_taken_by_another_agent(agent, other_agent):
    lead = _queued()
    lead_claim_next(agent=agent)

    lead_claim_release(lead_id=lead.pk, agent=agent)

    assert lead_claim_next(agent=other_agent).pk == lead.pk


def test_empty_queue_gives_nothing(agent):
    lead_at_dealer(Status.DISPATCHED)

    assert lead_claim_next(agent=agent) is None


def test_unanswered_calls_make_the_lead_invalid_at_the_configured_count(agent):
    lead = _queued()
    CleansingPolicy.objects.filter(pk=1).update(max_unanswered_calls=3)

    results = [lead_call_record(lead_id=lead.pk, agent=agent, reached=False) for _ in range(3)]

    lead.refresh_from_db()
    assert [r.outcome for r in results] == ["no_answer", "no_answer", "unreachable"]
    assert lead.status == Status.INVALID and "无法联系" in lead.invalid_reason
    assert CallRecord.objects.filter(lead=lead).count() == 3


def test_unanswered_call_releases_the_claim_so_the_lead_returns_to_the_queue(agent):
    lead = _queued()
    lead_claim_next(agent=agent)

    lead_call_record(lead_id=lead.pk, agent=agent, reached=False)

    lead.refresh_from_db()
    assert lead.status == Status.CLEANSING and lead.claimed_by is None


def test_high_intent_with_dealer_and_consent_qualifies_with_consent_recorded(agent):
    lead = _queued()
    dealer = DealerFactory()

    result = lead_call_record(
        lead_id=lead.pk,
        agent=agent,
        reached=True,
        intent="high",
        grade="H",
        dealer_id=dealer.pk,
        consent=True,
        name="周先生",
    )

    lead.refresh_from_db()
    assert result.outcome == "qualified"
    assert lead.status == Status.QUALIFIED and lead.grade == Grade.H
    assert (lead.dealer, lead.consent_dealer, lead.consent_by) == (dealer, dealer, agent)
    assert lead.customer.name == "周先生"
    assert lead.events.filter(action="customer_name", actor=agent).exists()


def test_high_intent_without_consent_is_refused(agent):
    lead = _queued()

    with pytest.raises(ValidationFailed) as error:
        lead_call_record(
            lead_id=lead.pk,
            agent=agent,
            reached=True,
            intent="normal",
            grade="A",
            dealer_id=DealerFactory().pk,
            consent=False,
        )

    assert "同意" in str(error.value)
    lead.refresh_from_db()
    assert lead.status == Status.CLEANSING


def test_low_intent_goes_to_nurturing_with_a_due_touch(agent):
    lead = _queued(purchase_timeframe="6m")

    result = lead_call_record(lead_id=lead.pk, agent=agent, reached=True, intent="low")

    lead.refresh_from_db()
    assert result.outcome == "nurturing" and lead.status == Status.NURTURING
    assert 13 <= (lead.nurture_due_at - timezone.now()).days <= 14


def test_grade_n_goes_to_nurturing_even_with_normal_intent(agent):
    lead = _queued()

    lead_call_record(lead_id=lead.pk, agent=agent, reached=True, intent="normal", grade="N")

    lead.refresh_from_db()
    assert (lead.status, lead.grade) == (Status.NURTURING, Grade.N)


def test_invalid_intent_needs_a_reason_from_the_list(agent):
    lead = _queued()
    with pytest.raises(ValidationFailed):
        lead_call_record(lead_id=lead.pk, agent=agent, reached=True, intent="invalid")

    reason = InvalidReason.objects.get(code="peer")
    lead_call_record(
        lead_id=lead.pk, agent=agent, reached=True, intent="invalid", invalid_reason_id=reason.pk
    )

    lead.refresh_from_db()
    assert lead.status == Status.INVALID and lead.invalid_reason == reason.name


def test_confirming_a_dealer_where_the_customer_has_a_lead_merges_into_it(agent):
    existing = lead_at_dealer(Status.FOLLOWING)
    hq = lead_intake(
        channel=ChannelFactory(), source="api", data={"mobile": existing.customer.mobile}
    )

    result = lead_call_record(
        lead_id=hq.lead_id,
        agent=agent,
        reached=True,
        intent="high",
        grade="A",
        dealer_id=existing.dealer_id,
        consent=True,
    )

    existing.refresh_from_db()
    assert result.outcome == "merged" and result.lead_id == existing.pk
    assert "已有线索" in result.message
    assert not Lead.objects.filter(pk=hq.lead_id).exists()
    assert RawLead.objects.get(pk=hq.raw_lead_id).lead_id == existing.pk
    assert existing.duplicate_count == 1 and existing.grade == Grade.A


def test_confirming_a_dealer_with_a_defeated_lead_reactivates_it(agent):
    existing = lead_at_dealer(Status.DEFEATED, grade=Grade.F, defeat_reason="价格")
    hq = lead_intake(
        channel=ChannelFactory(), source="api", data={"mobile": existing.customer.mobile}
    )

    lead_call_record(
        lead_id=hq.lead_id,
        agent=agent,
        reached=True,
        intent="high",
        grade="H",
        dealer_id=existing.dealer_id,
        consent=True,
    )

    existing.refresh_from_db()
    assert existing.status == Status.DISPATCHED and existing.is_reactivated
    assert existing.grade == Grade.H


def test_lead_claimed_by_another_agent_cannot_be_recorded(agent, other_agent):
    lead = _queued()
    lead_claim_next(agent=other_agent)

    with pytest.raises(ConflictError):
        lead_call_record(lead_id=lead.pk, agent=agent, reached=False)


def test_lead_already_dispatched_cannot_be_recorded(agent):
    lead = lead_at_dealer(Status.DISPATCHED)

    with pytest.raises(InvalidTransition):
        lead_call_record(lead_id=lead.pk, agent=agent, reached=False)


def test_nurture_touch_goes_through_the_sender_after_commit_and_moves_the_due_date(
    agent, settings, django_capture_on_commit_callbacks
):
    lead = LeadFactory(status=Status.NURTURING, purchase_timeframe="later")
    settings.NURTURE_SENDER = "tests.doubles.RecordingSender"
    RecordingSender.sent = []

    with django_capture_on_commit_callbacks(execute=True):
        touch = lead_nurture_touch_record(
            lead_id=lead.pk, agent=agent, medium="sms", content="新车上市邀您试驾"
        )

    lead.refresh_from_db()
    assert RecordingSender.sent == [
        {"lead_id": lead.pk, "medium": "sms", "content": "新车上市邀您试驾"}
    ]
    assert touch.sent_ok and 29 <= (lead.nurture_due_at - timezone.now()).days <= 30


def test_nurture_cadence_is_two_weeks_for_a_3_month_horizon_and_monthly_beyond(agent):
    near = LeadFactory(status=Status.NURTURING, purchase_timeframe="3m")
    far = LeadFactory(status=Status.NURTURING, purchase_timeframe="later")

    with time_machine.travel(datetime.datetime(2026, 3, 1, 10, tzinfo=datetime.UTC), tick=False):
        lead_nurture_touch_record(lead_id=near.pk, agent=agent, medium="call", content="")
        lead_nurture_touch_record(lead_id=far.pk, agent=agent, medium="call", content="")

    near.refresh_from_db()
    far.refresh_from_db()
    assert near.nurture_due_at.date() == datetime.date(2026, 3, 15)
    assert far.nurture_due_at.date() == datetime.date(2026, 3, 31)


def test_nurtured_lead_regraded_with_dealer_and_consent_qualifies(agent):
    lead = LeadFactory(status=Status.NURTURING)

    lead_call_record(
        lead_id=lead.pk,
        agent=agent,
        reached=True,
        intent="high",
        grade="B",
        dealer_id=DealerFactory().pk,
        consent=True,
    )

    lead.refresh_from_db()
    assert lead.status == Status.QUALIFIED and lead.nurture_due_at is None


def test_sms_touch_without_content_is_refused(agent):
    lead = LeadFactory(status=Status.NURTURING)

    with pytest.raises(ValidationFailed):
        lead_nurture_touch_record(lead_id=lead.pk, agent=agent, medium="sms", content=" ")

    assert NurtureTouch.objects.count() == 0


def test_sample_draws_the_configured_number_of_defeated_leads_once_per_period():
    day = timezone.now()
    for _ in range(5):
        lead_at_dealer(Status.DEFEATED, grade=Grade.F, defeat_reason="价格", defeated_at=day)
    period = dict(period_start=day.date(), period_end=day.date())

    first = supervision_samples_draw(kind="defeated", size=3, seed=1, **period)
    second = supervision_samples_draw(kind="defeated", size=3, seed=2, **period)

    assert (first, second) == (3, 2)
    assert SupervisionSample.objects.filter(kind="defeated").count() == 5


def test_sample_result_must_fit_the_sample_kind(agent):
    day = timezone.now()
    lead_at_dealer(Status.DISPATCHED, dispatched_at=day)
    supervision_samples_draw(kind="dispatched", period_start=day.date(), period_end=day.date())
    sample = SupervisionSample.objects.get()

    with pytest.raises(ValidationFailed):
        supervision_sample_record(sample_id=sample.pk, result="confirmed", actor=agent)
    supervision_sample_record(
        sample_id=sample.pk, result="not_contacted", actor=agent, notes="客户称无人联系"
    )

    sample.refresh_from_db()
    assert (sample.result, sample.checked_by) == ("not_contacted", agent)
