"""Assignment (分配), dealer → advisor: batches, reassignment, recall, the automatic strategies,
the grab pool with caps and penalties, and tiered delayed assignment."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import ConflictError, DomainError, InvalidTransition, ValidationFailed
from dealers.models import Advisor, AssignmentPolicy, PoolGrab
from leads.models import (
    OWNED_STATUSES,
    POOL_STATUSES,
    WORKING_STATUSES,
    Grade,
    Lead,
    LeadEvent,
    Notification,
    Status,
)
from leads.notifications import notification_send
from leads.services.audit import lead_event_record
from leads.services.transitions import (
    changed_fields,
    lead_assign,
    lead_lock,
    lead_recall,
    save_changes,
    snapshot,
)

Strategy = AssignmentPolicy.Strategy
OPEN_FOR_ADVISOR = [*WORKING_STATUSES, Status.DEFEAT_REQUESTED]


@dataclass
class LeadOutcome:
    lead_id: int
    ok: bool
    message: str


def policy_for(dealer_id: int) -> AssignmentPolicy:
    policy, _created = AssignmentPolicy.objects.get_or_create(dealer_id=dealer_id)
    return policy


def assignment_policy_update(*, dealer_id: int, actor, **fields) -> AssignmentPolicy:
    """The manager chooses the dealer's strategy and its numbers."""
    allowed = {"strategy", "pool_daily_cap", "grab_follow_up_hours", "grab_penalty", "tier_minutes"}
    if set(fields) - allowed:
        raise ValidationFailed(
            _("不能修改这些设置：%(f)s"), f=", ".join(sorted(set(fields) - allowed))
        )
    if fields.get("strategy") and fields["strategy"] not in Strategy.values:
        raise ValidationFailed(_("分配方式不正确。"))
    with transaction.atomic():
        policy = policy_for(dealer_id)
        for key, value in fields.items():
            setattr(policy, key, value)
        policy.save()
    return policy


def leads_assign_batch(*, lead_ids: list[int], advisor_id: int, actor) -> list[LeadOutcome]:
    """Assign each selected lead; one refusal does not stop the others."""
    results = []
    for lead_id in lead_ids:
        try:
            lead_assign(lead_id=lead_id, advisor_id=advisor_id, actor=actor, why=_("经理手动分配"))
        except DomainError as error:
            results.append(LeadOutcome(lead_id, False, str(error)))
        else:
            results.append(LeadOutcome(lead_id, True, _("已分配")))
    return results


def lead_reassign(*, lead_id: int, advisor_id: int, actor, reason: str) -> Lead:
    """Give an advisor's lead to another advisor of the dealer; a reason is required. The
    lead keeps its stage."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("重新分配必须填写原因。"))
    with transaction.atomic():
        lead = lead_lock(lead_id=lead_id)
        if lead.status not in OWNED_STATUSES or lead.status == Status.SILENCED:
            raise InvalidTransition(
                _("线索当前为“%(s)s”，不能重新分配。"), s=lead.get_status_display()
            )
        advisor = Advisor.objects.filter(pk=advisor_id, dealer_id=lead.dealer_id).first()
        if advisor is None or not advisor.is_active:
            raise ValidationFailed(_("只能分配给本经销商在职的销售顾问。"))
        if advisor.pk == lead.advisor_id:
            raise ValidationFailed(_("该线索已经是 %(name)s 的。"), name=advisor.name)
        before = snapshot(lead)
        previous = lead.advisor_id
        lead.advisor = advisor
        lead.assigned_at = timezone.now()
        lead.assignment_reason = (_("重新分配：%(r)s") % {"r": reason})[:255]
        lead_event_record(
            lead=lead,
            kind=LeadEvent.Kind.ASSIGNED,
            action="reassign",
            actor=actor,
            from_value=str(previous or ""),
            to_value=str(advisor.pk),
            reason=reason[:255],
            data={"advisor": advisor.name},
        )
        save_changes(lead, changed_fields(before, lead))
        notification_send(
            lead=lead,
            kind=Notification.Kind.ASSIGNED,
            message=_("线索 #%(id)s 已分配给您：%(r)s") % {"id": lead.pk, "r": reason},
            recipient_id=advisor.user_id,
        )
    return lead


def leads_recall_batch(*, lead_ids: list[int], actor, reason: str) -> list[LeadOutcome]:
    """Recall each selected lead from its advisor to the dealer's pool."""
    results = []
    for lead_id in lead_ids:
        try:
            lead_recall(lead_id=lead_id, actor=actor, reason=reason)
        except DomainError as error:
            results.append(LeadOutcome(lead_id, False, str(error)))
        else:
            results.append(LeadOutcome(lead_id, True, _("已召回到公共池")))
    return results


# --- the facts a manager assigns by, and the automatic strategies ---


def advisor_stats(dealer_id: int, *, now: datetime | None = None) -> list[dict]:
    """Per active advisor of the dealer: open leads now, leads this month, 90-day conversion
    (ordered / assigned in 90 days), years of experience, tenure — one query."""
    now = now or timezone.now()
    month_start = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    since = now - timedelta(days=90)
    rows = (
        Advisor.objects.filter(dealer_id=dealer_id, is_active=True)
        .annotate(
            open_leads=Count("leads", filter=Q(leads__status__in=OPEN_FOR_ADVISOR)),
            month_leads=Count("leads", filter=Q(leads__assigned_at__gte=month_start)),
            assigned_90=Count("leads", filter=Q(leads__assigned_at__gte=since)),
            ordered_90=Count(
                "leads", filter=Q(leads__assigned_at__gte=since, leads__status=Status.ORDERED)
            ),
        )
        .order_by("tier", "name")
    )
    today = timezone.localdate()
    facts = []
    for advisor in rows:
        conversion = advisor.ordered_90 / advisor.assigned_90 if advisor.assigned_90 else 0.0
        facts.append(
            {
                "advisor": advisor,
                "open_leads": advisor.open_leads,
                "month_leads": advisor.month_leads,
                "conversion_90": conversion,
                "years_experience": advisor.years_experience,
                "tenure_days": (today - advisor.hire_date).days,
            }
        )
    return facts


def _choose(
    policy: AssignmentPolicy, lead: Lead, stats: list[dict]
) -> tuple[Advisor, str, int | None] | None:
    sellers = [row for row in stats if row["advisor"].role == Advisor.Role.ADVISOR]
    if not sellers:
        return None
    fewest = min(sellers, key=lambda r: (r["open_leads"], r["advisor"].pk))
    match policy.strategy:
        case Strategy.ROUND_ROBIN:
            ordered = sorted(sellers, key=lambda r: r["advisor"].pk)
            ids = [r["advisor"].pk for r in ordered]
            after = policy.last_advisor_id
            index = next((i for i, pk in enumerate(ids) if pk > (after or 0)), 0)
            chosen = ordered[index]["advisor"]
            return chosen, _("轮流分配：按顺序轮到 %(n)s") % {"n": chosen.name}, None
        case Strategy.FEWEST_OPEN:
            return (
                fewest["advisor"],
                _("在跟线索最少（%(n)s 条）") % {"n": fewest["open_leads"]},
                None,
            )
        case Strategy.GRADE_PRIORITY:
            if lead.grade in (Grade.H, Grade.A):
                best = max(sellers, key=lambda r: (r["conversion_90"], -r["open_leads"]))
                return (
                    best["advisor"],
                    _("%(g)s级线索优先给90天转化率最高的顾问（%(c).0f%%）")
                    % {"g": lead.grade, "c": best["conversion_90"] * 100},
                    None,
                )
            return (
                fewest["advisor"],
                _("%(g)s级线索：在跟线索最少（%(n)s 条）")
                % {"g": lead.grade or "-", "n": fewest["open_leads"]},
                None,
            )
        case Strategy.TIERED:
            tier1 = [r for r in sellers if r["advisor"].tier == 1] or sellers
            first = min(tier1, key=lambda r: (r["open_leads"], r["advisor"].pk))
            return (
                first["advisor"],
                _("梯队1：在跟线索最少（%(n)s 条）") % {"n": first["open_leads"]},
                1,
            )
    return None


def leads_auto_assign(*, lead_ids: list[int]) -> int:
    """Assign freshly dispatched leads by their dealer's strategy (manual and pool leave them
    in the inbox). Returns how many were assigned."""
    leads = list(
        Lead.objects.filter(
            pk__in=lead_ids, status=Status.DISPATCHED, advisor__isnull=True
        ).order_by("dispatched_at", "pk")
    )
    assigned = 0
    policies: dict[int, AssignmentPolicy] = {}
    for lead in leads:
        policy = policies.get(lead.dealer_id) or policy_for(lead.dealer_id)
        policies[lead.dealer_id] = policy
        if policy.strategy in (Strategy.MANUAL, Strategy.POOL):
            continue
        choice = _choose(policy, lead, advisor_stats(lead.dealer_id))
        if choice is None:
            continue
        advisor, why, tier = choice
        try:
            lead_assign(lead_id=lead.pk, advisor_id=advisor.pk, why=why, tier=tier)
        except DomainError:
            continue
        if policy.strategy == Strategy.ROUND_ROBIN:
            policy.last_advisor = advisor
            AssignmentPolicy.objects.filter(pk=policy.pk).update(last_advisor=advisor)
        notification_send(
            lead=lead,
            kind=Notification.Kind.ASSIGNED,
            message=_("新线索 #%(id)s 已自动分配给您（%(why)s）") % {"id": lead.pk, "why": why},
            recipient_id=advisor.user_id,
        )
        assigned += 1
    return assigned


def leads_tier_escalate(*, now: datetime | None = None) -> int:
    """Tier-1 leads untouched after the dealer's minutes go to a tier-2 advisor."""
    now = now or timezone.now()
    moved = 0
    candidates = Lead.objects.filter(status=Status.ASSIGNED, assignment_tier=1).select_related(
        "dealer__assignment_policy"
    )
    for lead in candidates:
        policy = policy_for(lead.dealer_id)
        if lead.assigned_at is None or lead.assigned_at > now - timedelta(
            minutes=policy.tier_minutes
        ):
            continue
        stats = [
            r
            for r in advisor_stats(lead.dealer_id, now=now)
            if r["advisor"].tier == 2 and r["advisor"].role == Advisor.Role.ADVISOR
        ]
        if not stats:
            continue
        second = min(stats, key=lambda r: (r["open_leads"], r["advisor"].pk))
        with transaction.atomic():
            locked = lead_lock(lead_id=lead.pk)
            if locked.status != Status.ASSIGNED or locked.assignment_tier != 1:
                continue
            before = snapshot(locked)
            why = _("梯队1超过 %(m)s 分钟未跟进，转梯队2：%(n)s") % {
                "m": policy.tier_minutes,
                "n": second["advisor"].name,
            }
            lead_event_record(
                lead=locked,
                kind=LeadEvent.Kind.ASSIGNED,
                action="tier_escalate",
                from_value=str(locked.advisor_id),
                to_value=str(second["advisor"].pk),
                reason=why,
            )
            locked.advisor = second["advisor"]
            locked.assigned_at = now
            locked.assignment_tier = 2
            locked.assignment_reason = why[:255]
            save_changes(locked, changed_fields(before, locked))
        moved += 1
    return moved


# --- the grab pool ---


def grab_allowance(advisor: Advisor, *, now: datetime | None = None) -> dict:
    """Today's cap (shrunk by penalties of the last 24 hours), grabs today, and what is left."""
    now = now or timezone.now()
    policy = policy_for(advisor.dealer_id)
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    grabs = PoolGrab.objects.filter(advisor=advisor)
    today = grabs.filter(grabbed_at__gte=start).count()
    penalty = (
        grabs.filter(expired_at__gte=now - timedelta(hours=24)).aggregate(total=Sum("penalty"))[
            "total"
        ]
        or 0
    )
    cap = max(0, policy.pool_daily_cap - penalty)
    return {
        "cap": cap,
        "used": today,
        "left": max(0, cap - today),
        "penalty": penalty,
        "policy": policy,
    }


def lead_grab(*, lead_id: int, advisor: Advisor) -> Lead:
    """An advisor takes a lead from the dealer's pool: released and recalled leads always,
    fresh dispatched leads when the dealer runs the pool strategy; within the daily cap.
    Two advisors grabbing at once: exactly one gets it, the other is told (flag 抢)."""
    now = timezone.now()
    with transaction.atomic():
        # One advisor's grabs are serialised (the daily cap holds); then the lead's row.
        Advisor.objects.select_for_update().filter(pk=advisor.pk).first()
        lead = lead_lock(lead_id=lead_id)
        if lead.dealer_id != advisor.dealer_id:
            raise InvalidTransition(_("线索不存在。"))
        if lead.status not in POOL_STATUSES or lead.advisor_id:
            raise ConflictError(_("手慢了：线索 #%(id)s 已被其他顾问领走。"), id=lead.pk)
        allowance = grab_allowance(advisor, now=now)
        policy = allowance["policy"]
        if lead.status == Status.DISPATCHED and policy.strategy != Strategy.POOL:
            raise InvalidTransition(_("本店新线索由经理分配，公共池只能领取释放或召回的线索。"))
        if allowance["left"] <= 0:
            raise ValidationFailed(
                _("今日抢单已达上限（%(cap)s 条%(pen)s）。"),
                cap=allowance["cap"],
                pen=_("，因超时未跟进扣减 %(n)s") % {"n": allowance["penalty"]}
                if allowance["penalty"]
                else "",
            )
        # Same transaction, row still locked: nobody can take it between check and assign.
        # The grab rules above are the permission: advisors hold no "assign" right of their own.
        lead = lead_assign(
            lead_id=lead_id,
            advisor_id=advisor.pk,
            actor=advisor.user,
            grabbed=True,
            permission_checked=True,
            why=_("公共池抢单（%(h)s 小时内须首次跟进）") % {"h": policy.grab_follow_up_hours},
        )
        PoolGrab.objects.create(advisor=advisor, lead=lead, grabbed_at=now)
    return lead


def leads_grab_expire(*, now: datetime | None = None) -> int:
    """A grabbed lead not followed up within N hours goes back to the pool, and the advisor's
    cap shrinks for a day. Grabs followed up in time are settled without penalty."""
    now = now or timezone.now()
    expired = 0
    for grab in PoolGrab.objects.filter(settled_at__isnull=True).select_related("advisor"):
        policy = policy_for(grab.advisor.dealer_id)
        with transaction.atomic():
            lead = lead_lock(lead_id=grab.lead_id)
            untouched = lead.status == Status.ASSIGNED and lead.advisor_id == grab.advisor_id
            if not untouched:
                PoolGrab.objects.filter(pk=grab.pk).update(settled_at=now)
                continue
            if grab.grabbed_at > now - timedelta(hours=policy.grab_follow_up_hours):
                continue
            lead_recall(
                lead_id=lead.pk,
                reason=_("抢单后 %(h)s 小时未跟进，退回公共池")
                % {"h": policy.grab_follow_up_hours},
            )
            PoolGrab.objects.filter(pk=grab.pk).update(
                settled_at=now, expired_at=now, penalty=policy.grab_penalty
            )
        expired += 1
    return expired
