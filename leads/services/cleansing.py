"""The HQ cleansing desk: claiming leads, recording calls, merging on dealer confirmation,
nurturing, and sampling supervision."""

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import ConflictError, InvalidTransition, NotFound, ValidationFailed
from dealers.models import Dealer
from leads.models import (
    CallRecord,
    CleansingPolicy,
    Grade,
    Intent,
    InvalidReason,
    Lead,
    LeadEvent,
    Notification,
    NurtureTouch,
    Status,
    SupervisionSample,
)
from leads.nurture import get_sender, next_nurture_due
from leads.services.audit import lead_event_record
from leads.services.dispatch import plan_dispatch
from leads.services.edit import lead_update
from leads.services.merge import lead_merge_into
from leads.services.transitions import (
    changed_fields,
    lead_lock,
    run_transition,
    save_changes,
    snapshot,
)

WORKABLE = (Status.CLEANSING, Status.NURTURING)


def _claim_free(now) -> Q:
    return Q(claimed_by__isnull=True) | Q(claim_expires_at__lt=now)


def lead_claim_next(*, agent, channel_id: int | None = None, city: str = "") -> Lead | None:
    """Give the agent the oldest unclaimed lead of the cleansing queue (or their own current
    claim). Two agents never get the same lead: the row is skipped while another agent's
    transaction holds it, and the claim itself is a compare-and-set UPDATE."""
    policy = CleansingPolicy.current()
    now = timezone.now()
    queue = Lead.objects.filter(status=Status.CLEANSING)
    if channel_id:
        queue = queue.filter(
            Q(channel_id=channel_id)
            | Q(channel__parent_id=channel_id)
            | Q(channel__parent__parent_id=channel_id)
        )
    if city:
        queue = queue.filter(customer__city=city)
    own = queue.filter(claimed_by=agent, claim_expires_at__gte=now).order_by("created_at").first()
    if own is not None:
        Lead.objects.filter(pk=own.pk).update(
            claim_expires_at=now + timedelta(minutes=policy.claim_minutes)
        )
        own.refresh_from_db()
        return own
    skip_locked = connection.features.has_select_for_update_skip_locked
    for _attempt in range(20):
        with transaction.atomic():
            candidates = queue.filter(_claim_free(now)).order_by("created_at", "id")
            if skip_locked:
                candidates = candidates.select_for_update(skip_locked=True, of=("self",))
            candidate = candidates.values_list("pk", flat=True).first()
            if candidate is None:
                return None
            won = (
                Lead.objects.filter(pk=candidate, status=Status.CLEANSING)
                .filter(_claim_free(now))
                .update(
                    claimed_by=agent,
                    claim_expires_at=now + timedelta(minutes=policy.claim_minutes),
                )
            )
        if won:
            return Lead.objects.select_related("customer", "channel").get(pk=candidate)
    return None


def lead_claim_release(*, lead_id: int, agent) -> None:
    """Give a claimed lead back to the queue."""
    Lead.objects.filter(pk=lead_id, claimed_by=agent).update(claimed_by=None, claim_expires_at=None)


@dataclass
class CallResult:
    outcome: str
    lead_id: int
    message: str


def lead_call_record(
    *,
    lead_id: int,
    agent,
    reached: bool,
    intent: str = "",
    invalid_reason_id: int | None = None,
    grade: str = "",
    model_id: int | None = None,
    timeframe: str = "",
    dealer_id: int | None = None,
    consent: bool = False,
    name: str | None = None,
    city: str | None = None,
    notes: str = "",
) -> CallResult:
    """Record one call and apply its outcome.

    Not reached: after the policy's number of unanswered calls the lead is invalid
    ("unreachable"). Reached: invalid intent needs a reason from the HQ list; low intent or
    grade N goes to nurturing; high or normal intent needs the dealer the customer chose and
    their consent, and then qualifies — or merges into the customer's existing lead at that
    dealer (uniqueness rule).
    """
    policy = CleansingPolicy.current()
    notes = (notes or "").strip()
    if reached:
        _check_reached_input(intent, grade, invalid_reason_id, dealer_id, consent)
    with transaction.atomic():
        lead = lead_lock(lead_id=lead_id)
        _check_workable(lead, agent)
        corrections = {
            key: value
            for key, value in (
                ("customer_name", name),
                ("customer_city", city),
                ("intended_model_id", model_id),
                ("purchase_timeframe", timeframe),
                ("intent", intent if reached and intent != Intent.INVALID else None),
            )
            if value not in (None, "")
        }
        if corrections:
            lead_update(lead_id=lead.pk, changes=corrections, actor=agent, reason=_("清洗外呼"))
            lead = lead_lock(lead_id=lead_id)
        now = timezone.now()
        before = snapshot(lead)
        fields: list[str] = []
        target = lead
        dealer = None
        if not reached:
            lead.call_attempts += 1
            if lead.call_attempts >= policy.max_unanswered_calls:
                reason = InvalidReason.objects.filter(code="unreachable").first()
                text = reason.name if reason else _("多次未接通，无法联系")
                fields += run_transition(
                    lead, "invalidate", actor=agent, reason=text, params={"reason": text}
                )
                outcome = CallRecord.Outcome.UNREACHABLE
                message = _("连续 %(n)s 次未接通，线索判为无效（无法联系）。") % {
                    "n": lead.call_attempts
                }
            else:
                outcome = CallRecord.Outcome.NO_ANSWER
                message = _("未接通（第 %(n)s 次），线索回到队列。") % {"n": lead.call_attempts}
        elif intent == Intent.INVALID:
            reason = InvalidReason.objects.get(pk=invalid_reason_id)
            fields += run_transition(
                lead, "invalidate", actor=agent, reason=reason.name, params={"reason": reason.name}
            )
            outcome, message = (
                CallRecord.Outcome.INVALID,
                _("线索已标记无效：%(r)s") % {"r": reason.name},
            )
        elif intent == Intent.LOW or grade == Grade.N:
            if grade:
                fields += _regrade(lead, grade, agent)
            if lead.status != Status.NURTURING:
                fields += run_transition(lead, "nurture", actor=agent, reason=notes)
            lead.nurture_due_at = next_nurture_due(
                timeframe=lead.purchase_timeframe, grade=lead.grade, after=now, policy=policy
            )
            outcome = CallRecord.Outcome.NURTURING
            message = _("已转入培育，下次培育时间 %(t)s。") % {
                "t": timezone.localtime(lead.nurture_due_at).strftime("%Y-%m-%d")
            }
        else:
            dealer = _active_dealer(dealer_id)
            existing = (
                Lead.objects.select_for_update()
                .filter(customer_id=lead.customer_id, dealer=dealer)
                .exclude(pk=lead.pk)
                .first()
            )
            if existing is not None:
                target = _merge_hq_lead_into(lead, existing, agent=agent, grade=grade, now=now)
                outcome = CallRecord.Outcome.MERGED
                message = _(
                    "客户在 %(dealer)s 已有线索 #%(id)s（唯一性规则），本线索已合并到该线索。"
                ) % {"dealer": dealer.name, "id": target.pk}
            else:
                fields += _regrade(lead, grade, agent)
                lead.dealer = dealer
                lead.consent_dealer, lead.consent_at, lead.consent_by = dealer, now, agent
                lead.consent_note = _("清洗外呼确认")
                lead_event_record(
                    lead=lead,
                    kind=LeadEvent.Kind.CONSENT,
                    action="confirm_dealer",
                    actor=agent,
                    to_value=dealer.code,
                    reason=_("清洗外呼确认"),
                    data={"dealer_id": dealer.pk, "dealer": dealer.name},
                )
                fields += run_transition(lead, "qualify", actor=agent, params={"at": now})
                plan_dispatch(lead, now=now)
                outcome = CallRecord.Outcome.QUALIFIED
                message = _("线索合格，确认经销商 %(dealer)s，等待派发。") % {"dealer": dealer.name}
        if target is lead:
            lead.claimed_by, lead.claim_expires_at = None, None
            lead.last_activity_at = now
            save_changes(lead, fields + changed_fields(before, lead))
        CallRecord.objects.create(
            lead=target,
            agent=agent,
            reached=reached,
            intent=intent if reached else "",
            grade=grade if reached else "",
            invalid_reason_id=invalid_reason_id if intent == Intent.INVALID else None,
            dealer=dealer,
            consent=bool(consent and dealer),
            outcome=outcome,
            notes=notes,
            created_at=now,
        )
    return CallResult(outcome=outcome, lead_id=target.pk, message=message)


def _check_reached_input(intent, grade, invalid_reason_id, dealer_id, consent) -> None:
    if intent not in Intent.values:
        raise ValidationFailed(_("请选择客户意向程度。"))
    if grade and grade not in (Grade.H, Grade.A, Grade.B, Grade.C, Grade.N):
        raise ValidationFailed(_("意向级别只能是 H、A、B、C 或 N。"))
    if intent == Intent.INVALID:
        if not InvalidReason.objects.filter(pk=invalid_reason_id, is_active=True).exists():
            raise ValidationFailed(_("无效线索必须选择无效原因。"))
        return
    if intent in (Intent.HIGH, Intent.NORMAL) and grade != Grade.N:
        if not grade:
            raise ValidationFailed(_("高/一般意向请选择意向级别（H、A、B、C）。"))
        if not dealer_id:
            raise ValidationFailed(_("高/一般意向需要确认客户选择的经销商。"))
        if not consent:
            raise ValidationFailed(
                _("需要客户同意由该经销商联系；客户不同意时请选择低意向转入培育。")
            )


def _check_workable(lead: Lead, agent) -> None:
    if lead.status not in WORKABLE:
        raise InvalidTransition(
            _("线索 #%(id)s 当前为“%(state)s”，不在清洗或培育中。"),
            id=lead.pk,
            state=lead.get_status_display(),
        )
    now = timezone.now()
    if (
        lead.claimed_by_id
        and lead.claimed_by_id != agent.pk
        and lead.claim_expires_at
        and lead.claim_expires_at > now
    ):
        raise ConflictError(_("该线索已被其他坐席领取，请领取下一条。"))


def _active_dealer(dealer_id) -> Dealer:
    dealer = Dealer.objects.filter(pk=dealer_id).first()
    if dealer is None:
        raise NotFound(_("经销商不存在。"))
    if not dealer.accepts_leads:
        raise ValidationFailed(
            _("经销商 %(dealer)s 状态为“%(status)s”，不能接收线索。"),
            dealer=dealer.name,
            status=dealer.get_status_display(),
        )
    return dealer


def _regrade(lead: Lead, grade: str, agent) -> list[str]:
    if not grade or grade == lead.grade or lead.grade in (Grade.O, Grade.F):
        return []
    return run_transition(
        lead, "set_grade", actor=agent, kind=LeadEvent.Kind.GRADE, params={"grade": grade}
    )


def _merge_hq_lead_into(source: Lead, target: Lead, *, agent, grade: str, now) -> Lead:
    """The customer already has a lead at the confirmed dealer: the HQ lead's history moves
    into it and the HQ lead goes away (one lead per customer per dealer)."""
    lead_merge_into(
        source,
        target,
        actor=agent,
        reason=_("总部线索 #%(id)s 清洗确认经销商后合并") % {"id": source.pk},
        now=now,
        consent_note=_("清洗外呼确认"),
        grade=grade,
    )
    if target.advisor_id:
        from dealers.models import Advisor
        from leads.notifications import notification_send

        user_id = Advisor.objects.filter(pk=target.advisor_id).values_list("user_id", flat=True)
        notification_send(
            lead=target,
            kind=Notification.Kind.DUPLICATE,
            message=_("线索 #%(id)s 客户经总部清洗再次确认意向，请及时跟进。") % {"id": target.pk},
            recipient_id=user_id.get(),
        )
    return target


# --- nurturing ---


def lead_nurture_touch_record(*, lead_id: int, agent, medium: str, content: str) -> NurtureTouch:
    """Send one nurture touch through the pluggable sender and schedule the next one."""
    if medium not in NurtureTouch.Medium.values:
        raise ValidationFailed(_("请选择培育方式。"))
    content = (content or "").strip()
    if medium != NurtureTouch.Medium.CALL and not content:
        raise ValidationFailed(_("短信和邮件需要填写内容。"))
    policy = CleansingPolicy.current()
    with transaction.atomic():
        lead = lead_lock(lead_id=lead_id)
        if lead.status != Status.NURTURING:
            raise InvalidTransition(_("只有培育中的线索可以培育触达。"))
        now = timezone.now()
        touch = NurtureTouch.objects.create(
            lead=lead, agent=agent, medium=medium, content=content[:500], created_at=now
        )
        before = snapshot(lead)
        lead.nurture_due_at = next_nurture_due(
            timeframe=lead.purchase_timeframe, grade=lead.grade, after=now, policy=policy
        )
        lead.last_activity_at = now
        lead_event_record(
            lead=lead,
            kind=LeadEvent.Kind.NOTE,
            action="nurture_touch",
            actor=agent,
            to_value=medium,
            reason=content[:255],
            data={"touch_id": touch.pk},
            at=now,
        )
        save_changes(lead, changed_fields(before, lead))
        touch_id, lead_pk = touch.pk, lead.pk

        def send():
            ok = get_sender().send(lead_id=lead_pk, medium=medium, content=content)
            if not ok:
                NurtureTouch.objects.filter(pk=touch_id).update(sent_ok=False)

        transaction.on_commit(send)
    return touch


# --- sampling supervision ---


def supervision_samples_draw(
    *, kind: str, period_start: date, period_end: date, size: int | None = None, seed=None
) -> int:
    """Draw a random sample of the period's defeated or dispatched leads for HQ call-backs.
    Drawing again for the same period adds only leads not drawn yet."""
    if kind not in SupervisionSample.Kind.values:
        raise ValidationFailed(_("抽样类型不正确。"))
    if period_start > period_end:
        raise ValidationFailed(_("抽样期开始不能晚于结束。"))
    policy = CleansingPolicy.current()
    if size is None:
        size = (
            policy.defeated_sample_size
            if kind == SupervisionSample.Kind.DEFEATED
            else policy.dispatched_sample_size
        )
    start = timezone.make_aware(datetime.combine(period_start, time.min))
    end = timezone.make_aware(datetime.combine(period_end + timedelta(days=1), time.min))
    field = "defeated_at" if kind == SupervisionSample.Kind.DEFEATED else "dispatched_at"
    population = Lead.objects.filter(
        **{f"{field}__gte": start, f"{field}__lt": end}, dealer__isnull=False
    )
    if kind == SupervisionSample.Kind.DEFEATED:
        population = population.filter(status=Status.DEFEATED)
    drawn = SupervisionSample.objects.filter(kind=kind, period_start=period_start).values("lead_id")
    candidates = list(population.exclude(pk__in=drawn).values_list("pk", "dealer_id"))
    chosen = random.Random(seed).sample(candidates, min(size, len(candidates)))
    SupervisionSample.objects.bulk_create(
        [
            SupervisionSample(
                kind=kind,
                period_start=period_start,
                period_end=period_end,
                lead_id=lead_id,
                dealer_id=dealer_id,
            )
            for lead_id, dealer_id in chosen
        ],
        ignore_conflicts=True,
    )
    return len(chosen)


def supervision_sample_record(*, sample_id: int, result: str, notes: str = "", actor) -> None:
    """Record what the call-back found."""
    if result not in SupervisionSample.Result.values or result == SupervisionSample.Result.PENDING:
        raise ValidationFailed(_("请选择回访结果。"))
    sample = SupervisionSample.objects.filter(pk=sample_id).first()
    if sample is None:
        raise NotFound(_("抽样记录不存在。"))
    allowed = {
        SupervisionSample.Kind.DEFEATED: {"confirmed", "not_confirmed", "unreachable"},
        SupervisionSample.Kind.DISPATCHED: {"contacted", "not_contacted", "unreachable"},
    }[sample.kind]
    if result not in allowed:
        raise ValidationFailed(_("该回访结果不适用于“%(kind)s”。"), kind=sample.get_kind_display())
    sample.result, sample.notes = result, (notes or "")[:255]
    sample.checked_by, sample.checked_at = actor, timezone.now()
    sample.save(update_fields=["result", "notes", "checked_by", "checked_at"])


def lead_claim(*, lead_id: int, agent) -> bool:
    """Claim one given lead (an agent opened it from the list). False when another agent's
    claim is still running."""
    policy = CleansingPolicy.current()
    now = timezone.now()
    return bool(
        Lead.objects.filter(pk=lead_id, status__in=WORKABLE)
        .filter(_claim_free(now) | Q(claimed_by=agent))
        .update(claimed_by=agent, claim_expires_at=now + timedelta(minutes=policy.claim_minutes))
    )
