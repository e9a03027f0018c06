"""Lifecycle rules: recall, validity with silence then release, activation, directed
assignment, the follow-up escalation ladder, and an advisor leaving. Every automatic action
names its rule on the lead's timeline; running the rules twice changes nothing the second
time (each step moves the lead out of what the rule selects)."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import DomainError, ValidationFailed
from dealers.models import Advisor
from leads.models import (
    OPEN_GRADES,
    OWNED_STATUSES,
    WORKING_STATUSES,
    Lead,
    LeadEvent,
    LifecycleRule,
    Notification,
    Status,
)
from leads.notifications import notification_send
from leads.services.audit import lead_event_record
from leads.services.follow_up import grade_cycle_days
from leads.services.transitions import (
    changed_fields,
    lead_lock,
    lead_recall,
    run_transition,
    save_changes,
    snapshot,
)

Kind = LifecycleRule.Kind
STAGE_ORDER = [Status.INVITED, Status.ARRIVED, Status.TEST_DRIVE]


def _rule_reason(rule: LifecycleRule, detail: str) -> str:
    return (_("规则「%(name)s」：%(detail)s") % {"name": rule.name, "detail": detail})[:255]


def lifecycle_run(*, now: datetime | None = None) -> dict[int, str]:
    """Run every active rule once; record on each rule when it ran and what it did."""
    now = now or timezone.now()
    results = {}
    for rule in LifecycleRule.objects.filter(is_active=True).order_by("kind", "priority", "pk"):
        runner = {
            Kind.RECALL_NO_FIRST_FOLLOW_UP: _run_no_first,
            Kind.RECALL_CYCLE_OVERDUE: _run_cycle_overdue,
            Kind.VALIDITY: _run_validity,
            Kind.ESCALATION: _run_escalation,
        }[rule.kind]
        summary = runner(rule, now)
        LifecycleRule.objects.filter(pk=rule.pk).update(last_run_at=now, last_result=summary[:255])
        results[rule.pk] = summary
    return results


def _recall(lead_id: int, reason: str) -> bool:
    try:
        lead_recall(lead_id=lead_id, reason=reason)
    except DomainError:
        return False  # changed meanwhile (followed up, reassigned): nothing to do
    return True


def _run_no_first(rule: LifecycleRule, now: datetime) -> str:
    ids = Lead.objects.filter(
        rule.scope_q(), status=Status.ASSIGNED, assigned_at__lt=now - timedelta(hours=rule.hours)
    ).values_list("pk", flat=True)
    reason = _rule_reason(rule, _("分配后 %(h)s 小时未首次跟进，召回到公共池") % {"h": rule.hours})
    done = sum(_recall(pk, reason) for pk in list(ids))
    return _("召回 %(n)s 条") % {"n": done}


def _run_cycle_overdue(rule: LifecycleRule, now: datetime) -> str:
    done = 0
    for grade in OPEN_GRADES:
        cutoff = now - timedelta(days=(grade_cycle_days(grade) or 0) + rule.days)
        ids = (
            Lead.objects.filter(
                rule.scope_q(),
                grade=grade,
                status__in=WORKING_STATUSES,
                last_activity_at__lt=cutoff,
            )
            .exclude(status=Status.ASSIGNED)
            .values_list("pk", flat=True)
        )
        reason = _rule_reason(
            rule,
            _("%(g)s 级超过跟进周期 %(d)s 天未跟进，召回到公共池") % {"g": grade, "d": rule.days},
        )
        done += sum(_recall(pk, reason) for pk in list(ids))
    return _("召回 %(n)s 条") % {"n": done}


def validity_deadline(lead: Lead, rule: LifecycleRule) -> datetime | None:
    """Assigned time + the base days + the days each stage reached adds."""
    if lead.assigned_at is None:
        return None
    stage_days = (rule.params or {}).get("stage_days", {})
    status = lead.status_before_silence or lead.status
    days = rule.days
    if status in STAGE_ORDER:
        for stage in STAGE_ORDER[: STAGE_ORDER.index(status) + 1]:
            days += int(stage_days.get(stage, 0) or 0)
    return lead.assigned_at + timedelta(days=days)


def _matching_validity_rule(lead: Lead, rules: list[LifecycleRule]) -> LifecycleRule | None:
    for rule in rules:  # most specific first (priority)
        if Lead.objects.filter(rule.scope_q(), pk=lead.pk).exists():
            return rule
    return None


def _run_validity(rule: LifecycleRule, now: datetime) -> str:
    rules = list(
        LifecycleRule.objects.filter(is_active=True, kind=Kind.VALIDITY).order_by("priority", "pk")
    )
    silence_hours = int((rule.params or {}).get("silence_hours", 24) or 0)
    silenced = released = 0
    candidates = Lead.objects.filter(
        rule.scope_q(),
        status__in=WORKING_STATUSES,
        assigned_at__lt=now - timedelta(days=rule.days),
    )
    for lead in candidates:
        if _matching_validity_rule(lead, rules) != rule:
            continue  # a more specific rule decides this lead
        deadline = validity_deadline(lead, rule)
        if deadline is None or deadline > now:
            continue
        with transaction.atomic():
            locked = lead_lock(lead_id=lead.pk)
            if locked.status not in WORKING_STATUSES:
                continue
            before = snapshot(locked)
            run_transition(
                locked,
                "silence",
                actor=None,
                reason=_rule_reason(
                    rule,
                    _("有效期至 %(t)s 已到，静默 %(h)s 小时后释放")
                    % {
                        "t": timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M"),
                        "h": silence_hours,
                    },
                ),
            )
            locked.silenced_at = now
            locked.silence_until = now + timedelta(hours=silence_hours)
            save_changes(locked, changed_fields(before, locked))
        silenced += 1
    for lead_id in Lead.objects.filter(
        rule.scope_q(), status=Status.SILENCED, silence_until__lte=now
    ).values_list("pk", flat=True):
        with transaction.atomic():
            locked = lead_lock(lead_id=lead_id)
            if locked.status != Status.SILENCED:
                continue
            before = snapshot(locked)
            run_transition(
                locked,
                "release",
                actor=None,
                reason=_rule_reason(rule, _("静默期满，释放到公共池")),
            )
            save_changes(locked, changed_fields(before, locked))
        released += 1
    return _("静默 %(s)s 条，释放 %(r)s 条") % {"s": silenced, "r": released}


def _run_escalation(rule: LifecycleRule, now: datetime) -> str:
    params = rule.params or {}
    steps = [
        (0, rule.hours, "remind"),
        (1, int(params.get("manager_hours", 24) or 24), "manager"),
        (2, int(params.get("recall_hours", 72) or 72), "recall"),
    ]
    counts = {"remind": 0, "manager": 0, "recall": 0}
    for level, hours, step in steps:
        ids = list(
            Lead.objects.filter(
                rule.scope_q(),
                status__in=WORKING_STATUSES,
                escalation_level=level,
                next_follow_up_at__lt=now - timedelta(hours=hours),
            ).values_list("pk", flat=True)
        )
        for lead_id in ids:
            if _escalate(lead_id, rule, level, hours, step, now):
                counts[step] += 1
    return _("提醒 %(a)s 条，通知经理 %(b)s 条，召回 %(c)s 条") % {
        "a": counts["remind"],
        "b": counts["manager"],
        "c": counts["recall"],
    }


def _escalate(lead_id, rule, level, hours, step, now) -> bool:
    with transaction.atomic():
        lead = lead_lock(lead_id=lead_id)
        if lead.status not in WORKING_STATUSES or lead.escalation_level != level:
            return False
        overdue = timezone.localtime(lead.next_follow_up_at).strftime("%m-%d %H:%M")
        if step == "recall":
            reason = _rule_reason(
                rule, _("跟进逾期（应于 %(t)s）超过 %(h)s 小时，召回") % {"t": overdue, "h": hours}
            )
            before = snapshot(lead)
            run_transition(lead, "recall", actor=None, reason=reason)
            lead.escalation_level = level + 1
            save_changes(lead, changed_fields(before, lead))
            return True
        before = snapshot(lead)
        lead.escalation_level = level + 1
        text = _rule_reason(rule, _("跟进逾期（应于 %(t)s）") % {"t": overdue})
        if step == "remind":
            user_id = Advisor.objects.filter(pk=lead.advisor_id).values_list("user_id", flat=True)
            notification_send(
                lead=lead,
                kind=Notification.Kind.OTHER,
                recipient_id=user_id.get(),
                message=_("请尽快跟进线索 #%(id)s：%(t)s") % {"id": lead.pk, "t": text},
            )
        else:
            notification_send(
                lead=lead,
                kind=Notification.Kind.OTHER,
                dealer_id=lead.dealer_id,
                message=_("线索 #%(id)s 跟进严重逾期：%(t)s") % {"id": lead.pk, "t": text},
            )
        lead_event_record(
            lead=lead,
            kind=LeadEvent.Kind.NOTIFIED,
            action=f"escalation_{step}",
            reason=text,
            to_value=str(level + 1),
            at=now,
        )
        save_changes(lead, changed_fields(before, lead))
        return True


# --- activation and directed assignment, called by intake when customer activity arrives ---


def lead_on_activity_during_silence(lead: Lead, *, channel, now: datetime) -> str:
    """A silenced lead whose customer comes back. Back to the same advisor when the advisor
    caused it (their own channel) or when the advisor is senior; otherwise released for the
    dealer's assignment rules. Works on the caller's locked lead; returns what happened."""
    advisor = Advisor.objects.filter(pk=lead.advisor_id).first()
    own = channel.owner_advisor_id is not None and channel.owner_advisor_id == lead.advisor_id
    if own or (advisor is not None and advisor.level >= Advisor.Level.SENIOR):
        why = (
            _("客户经顾问专属渠道再次联系，回到原顾问")
            if own
            else _("静默期间客户再次留资，高级顾问直接收回")
        )
        run_transition(lead, "unsilence", actor=None, kind=LeadEvent.Kind.REACTIVATED, reason=why)
        lead.assigned_at = now  # a fresh validity period
        return "returned"
    run_transition(
        lead,
        "release",
        actor=None,
        kind=LeadEvent.Kind.REACTIVATED,
        reason=_("静默期间客户再次留资，按本店规则重新分配"),
    )
    lead_id = lead.pk
    transaction.on_commit(lambda: _auto_assign_later(lead_id))
    return "released"


def _auto_assign_later(lead_id: int) -> None:
    from django_q.tasks import async_task

    async_task("leads.tasks.leads_auto_assign_task", [lead_id], task_name="reassign-released")


def directed_advisor(lead: Lead, channel) -> Advisor | None:
    """After release, a customer coming back through an advisor's own channel (their WeChat
    card) goes to that advisor (定向分配), if they still work at the lead's dealer."""
    if channel.owner_advisor_id is None:
        return None
    advisor = Advisor.objects.filter(
        pk=channel.owner_advisor_id, dealer_id=lead.dealer_id, is_active=True
    ).first()
    return advisor


# --- an advisor leaves ---


def advisor_deactivate(
    *, advisor_id: int, actor, reason: str, hand_to_id: int | None = None
) -> dict[str, int]:
    """An advisor leaves: all their open leads go back to the pool, or to a named colleague,
    in one step; the advisor is deactivated. Audited lead by lead."""
    from leads.services.assignment import lead_reassign

    reason = (reason or "").strip() or _("顾问离职")
    with transaction.atomic():
        advisor = Advisor.objects.select_for_update().filter(pk=advisor_id).first()
        if advisor is None:
            raise ValidationFailed(_("销售顾问不存在。"))
        colleague = None
        if hand_to_id:
            colleague = (
                Advisor.objects.filter(pk=hand_to_id, dealer_id=advisor.dealer_id, is_active=True)
                .exclude(pk=advisor.pk)
                .first()
            )
            if colleague is None:
                raise ValidationFailed(_("接手的同事必须是本店在职顾问。"))
        counts = {"handed": 0, "recalled": 0}
        for lead_id in Lead.objects.filter(advisor=advisor, status__in=OWNED_STATUSES).values_list(
            "pk", flat=True
        ):
            lead = Lead.objects.get(pk=lead_id)
            if colleague is not None and lead.status != Status.SILENCED:
                lead_reassign(
                    lead_id=lead_id,
                    advisor_id=colleague.pk,
                    actor=actor,
                    reason=_("顾问 %(n)s 离职：%(r)s") % {"n": advisor.name, "r": reason},
                )
                counts["handed"] += 1
            else:
                locked = lead_lock(lead_id=lead_id)
                before = snapshot(locked)
                why = _("顾问 %(n)s 离职：%(r)s") % {"n": advisor.name, "r": reason}
                if locked.status == Status.DEFEAT_REQUESTED:
                    run_transition(
                        locked, "reject_defeat", actor=None, reason=why, params={"reason": why}
                    )
                run_transition(locked, "recall", actor=None, reason=why)
                save_changes(locked, changed_fields(before, locked))
                counts["recalled"] += 1
        advisor.is_active = False
        advisor.save(update_fields=["is_active"])
        advisor.user.is_active = False
        advisor.user.save(update_fields=["is_active"])
    return counts
