"""The intake pipeline: one service for every source (REST, Excel, admin, dealer entry)."""

import pytest

from config.errors import ConflictError, ValidationFailed
from dealers.models import Dealer
from leads.models import Grade, Lead, LeadEvent, Notification, RawLead, Status
from leads.services.intake import lead_intake
from tests.factories import (
    AdvisorFactory,
    ChannelFactory,
    DealerFactory,
    VehicleModelFactory,
    lead_at_dealer,
)

pytestmark = pytest.mark.django_db


def _intake(channel=None, **data):
    return lead_intake(channel=channel or ChannelFactory(), data=data, source="api")


@pytest.mark.parametrize(
    "given",
    [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "+86 138 0013 8000",
        "0086 13800138000",
        "１３８００１３８０００",
        "13800138000   ",
        "13800138000.0",
    ],
)
def test_mobile_in_any_common_format_finds_one_customer(given):
    result = _intake(mobile=given, external_id="A1")

    assert result.outcome == "created"
    assert Lead.objects.get(pk=result.lead_id).customer.mobile == "13800138000"


@pytest.mark.parametrize(
    ("given", "code"),
    [("", "missing_mobile"), ("12345", "invalid_mobile"), ("01088886666", "invalid_mobile")],
)
def test_unusable_mobile_is_stored_invalid_with_reason_and_fields_kept(given, code):
    result = _intake(mobile=given, name="张三", city="上海", external_id="B1")

    raw = RawLead.objects.get(pk=result.raw_lead_id)
    assert result.outcome == "invalid" and result.reasons == [code]
    assert raw.outcome == RawLead.Outcome.INVALID and raw.lead is None
    assert raw.payload == {"mobile": given, "name": "张三", "city": "上海", "external_id": "B1"}


def test_second_submission_at_same_dealer_merges_with_flag_and_count():
    dealer = DealerFactory()
    first = _intake(mobile="13900001111", dealer_code=dealer.code)

    second = _intake(mobile="139 0000 1111", dealer_code=dealer.code)

    lead = Lead.objects.get(pk=first.lead_id)
    assert second.outcome == "merged" and second.lead_id == first.lead_id
    assert lead.duplicate_count == 1 and "重" in lead.flags
    assert lead.events.filter(kind=LeadEvent.Kind.MERGED).count() == 1
    assert RawLead.objects.filter(lead=lead).count() == 2


def test_same_customer_at_another_dealer_gets_its_own_lead():
    a, b = DealerFactory(), DealerFactory()

    first = _intake(mobile="13900002222", dealer_code=a.code)
    second = _intake(mobile="13900002222", dealer_code=b.code)

    assert second.outcome == "created" and second.lead_id != first.lead_id


def test_merge_notifies_the_owning_advisor():
    advisor = AdvisorFactory()
    lead = lead_at_dealer(Status.FOLLOWING, advisor=advisor)

    _intake(mobile=lead.customer.mobile, dealer_code=lead.dealer.code)

    note = Notification.objects.get(lead=lead)
    assert note.recipient == advisor.user and note.kind == Notification.Kind.DUPLICATE


@pytest.mark.parametrize("closed", [Status.DEFEATED, Status.RELEASED])
def test_merge_into_closed_dealer_lead_reactivates_it(closed):
    lead = lead_at_dealer(
        closed,
        grade=Grade.F if closed == Status.DEFEATED else Grade.B,
        advisor=None if closed == Status.RELEASED else AdvisorFactory(),
    )
    if closed == Status.RELEASED:
        Lead.objects.filter(pk=lead.pk).update(advisor=None)

    result = _intake(mobile=lead.customer.mobile, dealer_code=lead.dealer.code)

    lead.refresh_from_db()
    assert result.outcome == "merged" and "reactivated" in result.reasons
    assert lead.status == Status.DISPATCHED and lead.is_reactivated
    assert lead.grade != Grade.F


def test_merge_into_invalid_hq_lead_reactivates_it_into_the_hq_queue():
    first = _intake(mobile="13900003333")
    from leads.services import lead_invalidate

    lead_invalidate(lead_id=first.lead_id, reason="空号")

    _intake(mobile="13900003333")

    lead = Lead.objects.get(pk=first.lead_id)
    assert lead.status == Status.CLEANSING and "激" in lead.flags


@pytest.mark.parametrize(
    ("status", "code"),
    [(Dealer.Status.SUSPENDED, "dealer_suspended"), (Dealer.Status.EXITED, "dealer_exited")],
)
def test_inactive_dealer_keeps_lead_at_hq_with_reason(status, code):
    dealer = DealerFactory(status=status)

    result = _intake(mobile="13900004444", dealer_code=dealer.code, consent=True)

    lead = Lead.objects.get(pk=result.lead_id)
    assert lead.dealer is None and code in result.reasons


def test_unknown_dealer_code_is_never_guessed():
    result = _intake(mobile="13900005555", dealer_code="NOPE", city="北京")

    assert Lead.objects.get(pk=result.lead_id).dealer is None
    assert "dealer_unknown" in result.reasons


def test_channel_needing_cleansing_routes_to_cleansing_queue():
    dealer = DealerFactory()

    result = _intake(
        ChannelFactory(needs_cleansing=True),
        mobile="13900006666",
        dealer_code=dealer.code,
        consent=True,
    )

    assert Lead.objects.get(pk=result.lead_id).status == Status.CLEANSING
    assert "needs_cleansing" in result.reasons


def test_trusted_channel_with_dealer_and_consent_is_qualified_with_consent_recorded():
    dealer = DealerFactory()

    result = _intake(
        ChannelFactory(needs_cleansing=False),
        mobile="13900007777",
        dealer_code=dealer.code,
        consent="true",
    )

    lead = Lead.objects.get(pk=result.lead_id)
    assert lead.status == Status.QUALIFIED and lead.consent_dealer == dealer


def test_trusted_channel_without_consent_goes_to_hq_queue():
    dealer = DealerFactory()

    result = _intake(
        ChannelFactory(needs_cleansing=False), mobile="13900008888", dealer_code=dealer.code
    )

    assert Lead.objects.get(pk=result.lead_id).status == Status.CLEANSING
    assert "no_consent" in result.reasons


def test_score_is_stored_with_a_breakdown_that_adds_up():
    model = VehicleModelFactory()

    result = _intake(
        ChannelFactory(score_weight=80),
        mobile="13900009999",
        name="李四",
        city="杭州",
        model_code=model.code,
        purchase_timeframe="两周内",
    )

    lead = Lead.objects.get(pk=result.lead_id)
    assert lead.score == sum(item["points"] for item in lead.score_breakdown)
    assert {item["kind"] for item in lead.score_breakdown} >= {
        "channel_weight",
        "has_name",
        "has_city",
        "model_named",
        "timeframe",
    }
    assert lead.purchase_timeframe == "2w" and lead.intended_model == model


def test_repeated_activity_raises_the_score():
    first = _intake(mobile="13700001111")
    before = Lead.objects.get(pk=first.lead_id).score

    _intake(mobile="13700001111")

    assert Lead.objects.get(pk=first.lead_id).score > before


def test_same_external_id_and_body_replays_the_first_answer():
    channel = ChannelFactory()
    first = _intake(channel, mobile="13700002222", external_id="X9")

    again = _intake(channel, mobile="13700002222", external_id="X9")

    assert (again.raw_lead_id, again.lead_id, again.outcome) == (
        first.raw_lead_id,
        first.lead_id,
        first.outcome,
    )
    assert again.replayed and RawLead.objects.count() == 1


def test_same_external_id_with_another_body_is_a_conflict():
    channel = ChannelFactory()
    _intake(channel, mobile="13700003333", external_id="X10")

    with pytest.raises(ConflictError):
        _intake(channel, mobile="13700004444", external_id="X10")


def test_level_two_channel_cannot_receive_leads():
    channel = ChannelFactory()

    with pytest.raises(ValidationFailed):
        _intake(channel.parent, mobile="13700005555")


def test_unknown_model_and_timeframe_are_reported_but_lead_is_created():
    result = _intake(mobile="13700006666", model_code="ZZZ", purchase_timeframe="明年吧")

    assert result.outcome == "created"
    assert {"model_unknown", "timeframe_unknown"} <= set(result.reasons)
