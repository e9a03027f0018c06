"""The one intake pipeline (归集清洗) for every source: REST, Excel, admin entry, dealer entry.

Receive → store the raw lead → validate and normalise → oneID customer → dedup and merge or
create → score → route. The raw lead and its outcome are written in one transaction, so nothing
received is lost, invalid submissions included.
"""

import logging
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from channels.models import Channel
from config.errors import ConflictError, ValidationFailed
from dealers.models import Advisor, Dealer
from leads.models import (
    REACTIVATABLE_STATUSES,
    Customer,
    Grade,
    Lead,
    LeadEvent,
    Notification,
    PurchaseTimeframe,
    RawLead,
    ScoringRule,
    Status,
    VehicleModel,
)
from leads.notifications import notification_send
from leads.phone import normalise_mobile
from leads.scoring import ScoreInput, active_rules, score
from leads.services.audit import audit_batched, audit_discard, lead_event_record
from leads.services.dispatch import plan_dispatch
from leads.services.lifecycle import directed_advisor, lead_on_activity_during_silence
from leads.services.transitions import changed_fields, run_transition, save_changes, snapshot

logger = logging.getLogger(__name__)

# Reason codes, stable for API clients, with their Chinese explanation.
REASONS = {
    "missing_mobile": gettext_lazy("未提供手机号"),
    "invalid_mobile": gettext_lazy("手机号不是有效的中国大陆手机号"),
    "dealer_unknown": gettext_lazy("经销商代码不存在，线索留在总部待确认"),
    "dealer_suspended": gettext_lazy("经销商已暂停，线索留在总部待确认"),
    "dealer_exited": gettext_lazy("经销商已退网，线索留在总部待确认"),
    "model_unknown": gettext_lazy("车型代码不存在"),
    "timeframe_unknown": gettext_lazy("预计购车时间无法识别"),
    "needs_cleansing": gettext_lazy("渠道需要清洗，进入清洗队列"),
    "no_dealer": gettext_lazy("未指定经销商，进入总部队列"),
    "no_consent": gettext_lazy("客户未同意经销商联系，进入总部队列"),
    "duplicate": gettext_lazy("客户在该经销商已有线索，已合并"),
    "reactivated": gettext_lazy("合并到已关闭的线索并激活"),
    "silence_returned": gettext_lazy("静默期间客户再次留资，线索回到原顾问"),
    "silence_released": gettext_lazy("静默期间客户再次留资，线索按本店规则重新分配"),
    "directed": gettext_lazy("客户经顾问专属渠道回来，定向分配给该顾问"),
}

TIMEFRAME_WORDS = {
    **{value: value for value in PurchaseTimeframe.values},
    "两周内": "2w",
    "2周内": "2w",
    "一个月内": "1m",
    "1个月内": "1m",
    "三个月内": "3m",
    "3个月内": "3m",
    "六个月内": "6m",
    "6个月内": "6m",
    "半年以上": "later",
    "半年后": "later",
}

OUTCOME_FOR_API = {
    RawLead.Outcome.NEW: "created",
    RawLead.Outcome.MERGED: "merged",
    RawLead.Outcome.REACTIVATED: "merged",
    RawLead.Outcome.INVALID: "invalid",
}

MAX_ATTEMPTS = 5


@dataclass
class IntakeResult:
    raw_lead_id: int
    lead_id: int | None
    outcome: str  # created | merged | invalid
    reasons: list[str] = field(default_factory=list)
    replayed: bool = False

    @property
    def messages(self) -> list[str]:
        return [str(REASONS.get(code, code)) for code in self.reasons]


def reason_text(code: str) -> str:
    return str(REASONS.get(code, code))


def _text(data: dict, key: str, limit: int) -> str:
    value = data.get(key)
    if value is None:
        return ""
    return str(value).strip()[:limit]


def _truthy(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in {"1", "true", "yes", "y", "是", "同意", "t"}


def _result_of(raw: RawLead, *, replayed: bool = False) -> IntakeResult:
    reasons = [code for code in raw.outcome_reason.split(",") if code]
    return IntakeResult(
        raw_lead_id=raw.pk,
        lead_id=raw.lead_id,
        outcome=OUTCOME_FOR_API.get(raw.outcome, raw.outcome),
        reasons=reasons,
        replayed=replayed,
    )


class IntakeLookups:
    """Dealers, models and scoring rules, loaded once per batch instead of once per lead."""

    def __init__(self, rules: list[ScoringRule] | None = None):
        self.rules = active_rules() if rules is None else rules
        self._dealers: dict[str, Dealer | None] = {}
        self._models: dict[str, VehicleModel | None] = {}

    def dealer(self, code: str) -> Dealer | None:
        if code not in self._dealers:
            self._dealers[code] = Dealer.objects.filter(code=code).first()
        return self._dealers[code]

    def model(self, code: str) -> VehicleModel | None:
        if code not in self._models:
            self._models[code] = VehicleModel.objects.filter(code=code).first()
        return self._models[code]


def lead_intake(
    *,
    channel: Channel,
    data: dict,
    source: str,
    submitted_by=None,
    dealer: Dealer | None = None,
    rules: list[ScoringRule] | None = None,
    lookups: IntakeLookups | None = None,
) -> IntakeResult:
    """Take one submission through the whole pipeline; see the module docstring.

    `data` is stored as received. `dealer` forces the dealer (a dealer entering its own
    walk-in customers: their consent is implied by the visit). With an `external_id`, the same
    submission again returns the first answer; a different body with that id is a conflict.
    Batches pass one `lookups` so that dealers, models and rules are read once.
    """
    if not channel.receives_leads:
        raise ValidationFailed(
            _("渠道 %(code)s 不是启用的三级渠道，不能接收线索。"), code=channel.code
        )
    if not isinstance(data, dict):
        raise ValidationFailed(_("线索数据必须是一个对象。"))
    lookups = lookups or IntakeLookups(rules)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with transaction.atomic(), audit_batched():
                return _intake_once(
                    channel=channel,
                    data=data,
                    source=source,
                    submitted_by=submitted_by,
                    forced_dealer=dealer,
                    lookups=lookups,
                )
        except IntegrityError:
            # A concurrent submission created the same raw lead, customer or lead first; on
            # the next attempt we find it (replay) or merge into it.
            if attempt == MAX_ATTEMPTS:
                raise
            logger.info("intake retry %s for channel %s", attempt, channel.code)
    raise AssertionError("unreachable")


def _intake_once(*, channel, data, source, submitted_by, forced_dealer, lookups) -> IntakeResult:
    external_id = _text(data, "external_id", 64) or None
    if external_id:
        previous = RawLead.objects.filter(channel=channel, external_id=external_id).first()
        if previous is not None:
            if previous.payload != data:
                raise ConflictError(
                    _("渠道线索ID %(id)s 已提交过且内容不同。"),
                    code="external_id_conflict",
                    id=external_id,
                )
            return _result_of(previous, replayed=True)

    now = timezone.now()
    # Built now, inserted last with its outcome, in this same transaction: all or nothing.
    raw = RawLead(
        channel=channel,
        external_id=external_id,
        source=source,
        payload=data,
        received_at=now,
        submitted_by=submitted_by if getattr(submitted_by, "pk", None) else None,
    )
    reasons: list[str] = []

    given_mobile = data.get("mobile")
    mobile = normalise_mobile(given_mobile)
    if not mobile:
        reasons.append("invalid_mobile" if str(given_mobile or "").strip() else "missing_mobile")
        return _finish(raw, RawLead.Outcome.INVALID, reasons, detail=reason_text(reasons[0]))
    raw.mobile = mobile

    dealer, dealer_consent = forced_dealer, forced_dealer is not None
    dealer_code = _text(data, "dealer_code", 20)
    if dealer is None and dealer_code:
        dealer = lookups.dealer(dealer_code)
        if dealer is None:
            reasons.append("dealer_unknown")
        elif dealer.status != Dealer.Status.ACTIVE:
            reasons.append(f"dealer_{dealer.status}")
            dealer = None
    consent = dealer is not None and (dealer_consent or _truthy(data.get("consent")))

    model = None
    model_code = _text(data, "model_code", 30)
    if model_code:
        model = lookups.model(model_code)
        if model is None:
            reasons.append("model_unknown")
    timeframe = ""
    given_timeframe = _text(data, "purchase_timeframe", 20)
    if given_timeframe:
        timeframe = TIMEFRAME_WORDS.get(given_timeframe, "")
        if not timeframe:
            reasons.append("timeframe_unknown")

    customer = _customer_for(mobile, data, now)
    raw.customer = customer
    existing = Lead.objects.select_for_update().filter(customer=customer)
    existing = existing.filter(dealer=dealer) if dealer else existing.filter(dealer__isnull=True)
    lead = existing.first()
    if Customer.objects.filter(pk=customer.pk, anonymised_at__isnull=False).exists():
        # The customer was erased (anonymised) while we waited for the lock: the number is
        # free again, and nothing of this submission may join the erased record. Start over.
        raise IntegrityError("customer anonymised meanwhile")
    facts = dict(model=model, timeframe=timeframe, consent=consent, dealer=dealer, now=now)
    if lead is None:
        lead, created_event = _new_lead(raw, customer, channel, lookups.rules, reasons, **facts)
        if lead is not None:
            result = _finish(raw, RawLead.Outcome.NEW, reasons, lead=lead)
            created_event.data["raw_lead_id"] = raw.pk
            return result
        # Lost a race for this customer and dealer: merge into the winner's lead.
        lead = existing.get()
    outcome, merged_event = _merge(lead, raw, channel, customer, lookups.rules, reasons, **facts)
    result = _finish(raw, outcome, reasons, lead=lead)
    merged_event.data["raw_lead_id"] = raw.pk
    return result


_CUSTOMER_INSERT = (
    "INSERT INTO leads_customer (mobile, name, province, city, created_at, updated_at) "
    "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (mobile) DO NOTHING RETURNING id"
)


def _customer_for(mobile: str, data: dict, now) -> Customer:
    """The oneID: one customer per normalised mobile; blanks are filled, names never replaced."""
    name = _text(data, "name", 50)
    province, city = _text(data, "province", 20), _text(data, "city", 30)
    customer = Customer.objects.filter(mobile=mobile).first()
    if customer is None:
        # ON CONFLICT DO NOTHING: a concurrent first submission of this mobile does not abort
        # our transaction; we read its row instead.
        with connection.cursor() as cursor:
            cursor.execute(_CUSTOMER_INSERT, [mobile, name, province, city, now, now])
            row = cursor.fetchone()
        if row:
            return Customer(
                pk=row[0],
                mobile=mobile,
                name=name,
                province=province,
                city=city,
                created_at=now,
                updated_at=now,
            )
        customer = Customer.objects.get(mobile=mobile)
    fill = {
        key: value
        for key, value in (("name", name), ("province", province), ("city", city))
        if value and not getattr(customer, key)
    }
    if fill:
        for key, value in fill.items():
            setattr(customer, key, value)
        customer.save(update_fields=[*fill, "updated_at"])
    return customer


def _score_facts(lead: Lead, customer: Customer, channel: Channel) -> ScoreInput:
    return ScoreInput(
        channel_weight=channel.score_weight,
        has_name=bool(customer.name),
        has_city=bool(customer.city),
        model_named=lead.intended_model_id is not None,
        dealer_named=lead.dealer_id is not None,
        consent=lead.has_dealer_consent(),
        timeframe=lead.purchase_timeframe,
        duplicate_count=lead.duplicate_count,
    )


def _consent_note(channel: Channel) -> str:
    return _("渠道提交时客户同意（%(channel)s）") % {"channel": channel.name}


def _new_lead(raw, customer, channel, rules, reasons, *, model, timeframe, consent, dealer, now):
    """Build the lead, route it in memory (its audit rows wait in the batch), insert it once."""
    lead = Lead(
        customer=customer,
        dealer=dealer,
        channel=channel,
        intended_model=model,
        purchase_timeframe=timeframe,
        created_at=now,
        last_activity_at=now,
    )
    if consent:
        lead.consent_dealer, lead.consent_at = dealer, now
        lead.consent_note = _consent_note(channel)
    lead.score, lead.score_breakdown = score(_score_facts(lead, customer, channel), rules)
    created = lead_event_record(
        lead=lead,
        kind=LeadEvent.Kind.CREATED,
        action="create",
        actor_label=channel.name,
        to_value=lead.status,
        data={"raw_lead_id": None, "channel": channel.code, "score": lead.score},
        at=now,
    )
    if channel.needs_cleansing:
        route, why = "send_to_cleansing", "needs_cleansing"
    elif lead.has_dealer_consent():
        route, why = "qualify", ""
    else:
        route, why = "send_to_cleansing", "no_dealer" if dealer is None else "no_consent"
    if why:
        reasons.append(why)
    params = {"at": now} if route == "qualify" else {"reason": reason_text(why)}
    run_transition(lead, route, actor=None, reason=reason_text(why) if why else "", params=params)
    if route == "qualify":
        plan_dispatch(lead, now=now)
    try:
        with transaction.atomic():
            lead.save(force_insert=True)
    except IntegrityError:
        audit_discard(lead)
        return None, None
    return lead, created


def _merge(lead, raw, channel, customer, rules, reasons, *, model, timeframe, consent, dealer, now):
    before = snapshot(lead)
    lead.duplicate_count += 1
    lead.last_activity_at = now
    if model is not None and lead.intended_model_id is None:
        lead.intended_model = model
    if timeframe and not lead.purchase_timeframe:
        lead.purchase_timeframe = timeframe
    if consent and not lead.has_dealer_consent():
        lead.consent_dealer, lead.consent_at = dealer, now
        lead.consent_note = _consent_note(channel)
    reasons.append("duplicate")
    merged = lead_event_record(
        lead=lead,
        kind=LeadEvent.Kind.MERGED,
        action="merge",
        actor_label=channel.name,
        reason=_("%(channel)s 重复留资，第 %(n)s 次")
        % {"channel": channel.name, "n": lead.duplicate_count},
        data={"raw_lead_id": None, "channel": channel.code},
        at=now,
    )
    outcome = RawLead.Outcome.MERGED
    if lead.status == Status.SILENCED:
        what = lead_on_activity_during_silence(lead, channel=channel, now=now)
        reasons.append(f"silence_{what}")
    directed = directed_advisor(lead, channel) if lead.status == Status.RELEASED else None
    if lead.status in REACTIVATABLE_STATUSES:
        reasons.append("reactivated")
        outcome = RawLead.Outcome.REACTIVATED
        why = _("客户再次留资（%(channel)s）") % {"channel": channel.name}
        run_transition(lead, "reactivate", actor=None, kind=LeadEvent.Kind.REACTIVATED, reason=why)
        if lead.grade == Grade.F:
            run_transition(
                lead, "grade_reactivated", actor=None, kind=LeadEvent.Kind.GRADE, reason=why
            )
    lead.score, lead.score_breakdown = score(_score_facts(lead, customer, channel), rules)
    if lead.status == Status.QUALIFIED:  # consent or score may have changed: plan again
        plan_dispatch(lead, now=now)
    save_changes(lead, changed_fields(before, lead))
    if directed is not None:
        from leads.services.transitions import lead_assign

        reasons.append("directed")
        lead_assign(
            lead_id=lead.pk,
            advisor_id=directed.pk,
            permission_checked=True,
            why=_("定向分配：客户经 %(n)s 的专属渠道（%(c)s）回来")
            % {"n": directed.name, "c": channel.name},
        )
        lead.advisor_id = directed.pk
    _notify_owner(lead, outcome, channel)
    return outcome, merged


def _notify_owner(lead: Lead, outcome: str, channel: Channel) -> None:
    reactivated = outcome == RawLead.Outcome.REACTIVATED
    kind = Notification.Kind.REACTIVATED if reactivated else Notification.Kind.DUPLICATE
    if reactivated:
        message = _("线索 #%(id)s 客户再次留资（%(channel)s），线索已激活。")
    else:
        message = _("线索 #%(id)s 客户再次留资（%(channel)s），请及时跟进。")
    message = message % {"id": lead.pk, "channel": channel.name}
    if lead.advisor_id:
        user_id = Advisor.objects.filter(pk=lead.advisor_id).values_list("user_id", flat=True).get()
        notification_send(lead=lead, kind=kind, message=message, recipient_id=user_id)
    elif lead.dealer_id:
        notification_send(lead=lead, kind=kind, message=message, dealer_id=lead.dealer_id)


def _finish(
    raw: RawLead, outcome: str, reasons: list[str], *, lead=None, detail=""
) -> IntakeResult:
    raw.outcome = outcome
    raw.outcome_reason = ",".join(reasons)[:200]
    raw.outcome_detail = (detail or "；".join(reason_text(c) for c in reasons))[:255]
    raw.lead = lead
    raw.save(force_insert=True)
    return _result_of(raw)
