"""The import engine applies lead_intake's rules to many rows at once: the same submissions sent
one by one through lead_intake and as a chunk through the engine leave the same rows behind
(customers, leads, raw leads, events, state logs, notifications) and the same outcomes."""

import datetime

import pytest
from django.db import transaction
from django.utils import timezone
from django_fsm_log.models import StateLog

from config.errors import DomainError
from dealers.models import Dealer
from leads.imports.engine import Engine, Row
from leads.models import Customer, Grade, Lead, LeadEvent, Notification, RawLead, Status
from leads.services.intake import lead_intake
from tests.factories import (
    AdvisorFactory,
    ChannelFactory,
    CustomerFactory,
    DealerFactory,
    LeadFactory,
    VehicleModelFactory,
    lead_at_dealer,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Dealers, a model, and customers who already have leads in every interesting state."""
    active, other = DealerFactory(code="DA"), DealerFactory(code="DB")
    DealerFactory(code="DS", status=Dealer.Status.SUSPENDED)
    VehicleModelFactory(code="M1")
    defeated = lead_at_dealer(
        Status.DEFEATED,
        dealer=active,
        customer=CustomerFactory(mobile="13900000001", name=""),
        grade=Grade.F,
        defeat_reason="价格",
        defeated_at=timezone.now(),
    )
    invalid_at_hq = LeadFactory(
        status=Status.INVALID,
        customer=CustomerFactory(mobile="13900000002"),
        invalid_reason="空号",
    )
    advisor = AdvisorFactory(dealer=other)
    owned = lead_at_dealer(
        Status.FOLLOWING,
        dealer=other,
        advisor=advisor,
        customer=CustomerFactory(mobile="13900000003"),
    )
    qualified = lead_at_dealer(
        Status.QUALIFIED,
        dealer=active,
        customer=CustomerFactory(mobile="13900000004"),
        dispatched_at=None,
        qualified_at=timezone.now(),
    )
    return {"defeated": defeated, "invalid": invalid_at_hq, "owned": owned, "q": qualified}


def _submissions():
    return [
        {"external_id": "E1", "mobile": "13800000001", "name": "张三", "dealer_code": "DA",
         "consent": "是", "model_code": "M1", "purchase_timeframe": "一个月内", "city": "北京"},
        {"external_id": "E2", "mobile": "138 0000 0001", "dealer_code": "DA", "consent": "是",
         "purchase_timeframe": "2w"},
        {"external_id": "E3", "mobile": "13800000001", "name": "张三", "dealer_code": "DB"},
        {"external_id": "E4", "mobile": "13800000002", "name": "李四"},
        {"external_id": "E5", "mobile": "13800000003", "dealer_code": "DA", "consent": "否"},
        {"external_id": "E6", "mobile": "13800000004", "dealer_code": "NOPE"},
        {"external_id": "E7", "mobile": "13800000005", "dealer_code": "DS", "consent": "是"},
        {"external_id": "E8", "mobile": "13800000006", "model_code": "X9",
         "purchase_timeframe": "明年"},
        {"external_id": "E9", "mobile": "12345", "name": "王五"},
        {"external_id": "E10", "name": "没留电话"},
        {"external_id": "E11", "mobile": "13900000001", "name": "回头客", "dealer_code": "DA",
         "consent": "是", "province": "河北"},
        {"external_id": "E12", "mobile": "13900000002", "city": "上海"},
        {"external_id": "E13", "mobile": "13900000003", "dealer_code": "DB", "consent": "是"},
        {"external_id": "E1", "mobile": "13800000001", "name": "张三", "dealer_code": "DA",
         "consent": "是", "model_code": "M1", "purchase_timeframe": "一个月内", "city": "北京"},
        {"external_id": "E2", "mobile": "13899999999"},
        {"external_id": "E14", "mobile": "+86 139-0000-0004", "dealer_code": "DA", "consent": "是"},
        {"external_id": "E15", "mobile": "13800000001", "dealer_code": "DA"},
        {"mobile": "13800000007", "name": "无编号"},
    ]  # fmt: skip


def _by_intake(channel, submissions, dealer=None):
    outcomes = []
    for data in submissions:
        try:
            result = lead_intake(channel=channel, data=dict(data), source="excel", dealer=dealer)
        except DomainError as error:
            outcomes.append(("error", str(error)))
        else:
            kind = "replayed" if result.replayed else result.outcome
            outcomes.append((kind, tuple(result.reasons)))
    return outcomes


def _by_engine(channel, submissions, dealer=None, chunk=100, dry_run=False):
    engine = Engine(source="excel", dealer=dealer, submitted_by=None, dry_run=dry_run)
    rows = [Row(number, dict(data), channel) for number, data in enumerate(submissions, 2)]
    outcomes = []
    for start in range(0, len(rows), chunk):
        for outcome in engine.run(rows[start : start + chunk]):
            detail = outcome.error if outcome.outcome == "error" else tuple(outcome.reasons)
            outcomes.append((outcome.outcome, detail))
    return outcomes


def _state():
    """Everything intake writes, with ids replaced by natural keys and times by their presence."""

    def key(lead_id):
        lead = Lead.objects.select_related("customer", "dealer").get(pk=lead_id)
        return (lead.customer.mobile, lead.dealer.code if lead.dealer else None)

    raws = list(RawLead.objects.order_by("id"))
    raw_index = {raw.pk: index for index, raw in enumerate(raws)}
    leads = {}
    for lead in Lead.objects.select_related("customer", "dealer", "channel", "intended_model"):
        values = {}
        for field in Lead._meta.concrete_fields:
            value = getattr(lead, field.attname)
            if field.name in ("id", "updated_at"):
                continue
            if isinstance(value, datetime.datetime):
                value = "time"
            elif field.name == "customer":
                value = lead.customer.mobile
            elif field.name in ("dealer", "consent_dealer") and value:
                value = Dealer.objects.get(pk=value).code
            values[field.name] = value
        leads[key(lead.pk)] = values
    events = {}
    for event in LeadEvent.objects.order_by("id"):
        data = dict(event.data)
        if data.get("raw_lead_id"):
            data["raw_lead_id"] = raw_index[data["raw_lead_id"]]
        events.setdefault(key(event.lead_id), []).append(
            (event.kind, event.action, event.actor_label, event.from_value, event.to_value,
             event.reason, data, event.actor_id)
        )  # fmt: skip
    logs = {}
    for log in StateLog.objects.order_by("id"):
        logs.setdefault(key(log.object_id), []).append(
            (log.transition, log.source_state, log.state, log.description, log.by_id)
        )
    notices = []
    for notice in Notification.objects.order_by("id"):
        message = notice.message.replace(f"#{notice.lead_id}", f"#{key(notice.lead_id)}")
        notices.append((key(notice.lead_id), notice.kind, message, notice.recipient_id,
                        notice.dealer_id))  # fmt: skip
    return {
        "customers": sorted(Customer.objects.values_list("mobile", "name", "province", "city")),
        "leads": leads,
        "raws": [
            (
                r.channel_id,
                r.external_id,
                r.source,
                r.payload,
                r.mobile,
                r.outcome,
                r.outcome_reason,
                r.outcome_detail,
                Customer.objects.get(pk=r.customer_id).mobile if r.customer_id else None,
                key(r.lead_id) if r.lead_id else None,
            )
            for r in raws
        ],  # fmt: skip
        "events": events,
        "logs": logs,
        "notices": notices,
    }


def _compare(channel, submissions, *, dealer=None, chunk=100):
    with transaction.atomic():
        expected = _by_intake(channel, submissions, dealer)
        expected_state = _state()
        transaction.set_rollback(True)
    with transaction.atomic():
        got = _by_engine(channel, submissions, dealer, chunk=chunk)
        got_state = _state()
        transaction.set_rollback(True)
    return expected, expected_state, got, got_state


@pytest.mark.parametrize("needs_cleansing", [True, False])
@pytest.mark.parametrize("chunk", [100, 3])
def test_engine_writes_what_intake_writes(world, needs_cleansing, chunk):
    channel = ChannelFactory(needs_cleansing=needs_cleansing, score_weight=70)

    expected, expected_state, got, got_state = _compare(channel, _submissions(), chunk=chunk)

    assert got == expected
    for part in ("customers", "leads", "raws", "events", "logs", "notices"):
        assert got_state[part] == expected_state[part], part


def test_engine_for_a_dealer_upload_writes_what_intake_writes(world):
    channel = ChannelFactory(needs_cleansing=False, score_weight=80)
    dealer = Dealer.objects.get(code="DB")

    expected, expected_state, got, got_state = _compare(
        channel, _submissions(), dealer=dealer, chunk=4
    )

    assert got == expected
    assert got_state == expected_state


def test_dry_run_predicts_the_outcomes_and_writes_nothing(world):
    channel = ChannelFactory(needs_cleansing=True)
    with transaction.atomic():
        expected = _by_intake(channel, _submissions())
        transaction.set_rollback(True)
    before = (RawLead.objects.count(), Lead.objects.count(), LeadEvent.objects.count())

    predicted = _by_engine(channel, _submissions(), chunk=5, dry_run=True)

    assert predicted == expected
    assert (RawLead.objects.count(), Lead.objects.count(), LeadEvent.objects.count()) == before
