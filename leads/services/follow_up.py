"""Follow-ups: what an advisor records after each contact with the customer."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import InvalidTransition, ValidationFailed
from leads.models import (
    OPEN_GRADES,
    WORKING_STATUSES,
    FollowUp,
    Grade,
    GradeCycle,
    LeadEvent,
    Status,
)
from leads.services.audit import lead_event_record
from leads.services.transitions import lead_lock, run_transition, save_changes, snapshot

DEFAULT_CYCLE_DAYS = {"H": 7, "A": 15, "B": 30, "C": 90}

# The stage a follow-up result moves the lead to, and the transition that does it.
_RESULT_TRANSITIONS = {
    FollowUp.Result.INVITED: "invite",
    FollowUp.Result.ARRIVED: "arrive",
    FollowUp.Result.TEST_DRIVE: "test_drive",
    FollowUp.Result.ORDERED: "order",
    FollowUp.Result.DEFEAT: "request_defeat",
}


def grade_cycle_days(grade: str) -> int | None:
    """The follow-up cycle of an open grade, from the editable table (defaults if missing)."""
    if grade not in OPEN_GRADES:
        return None
    days = GradeCycle.objects.filter(grade=grade).values_list("days", flat=True).first()
    return days or DEFAULT_CYCLE_DAYS[grade]


def lead_follow_up_record(
    *,
    lead_id: int,
    method: str,
    result: str,
    actor=None,
    grade: str = "",
    next_follow_up_at: datetime | None = None,
    notes: str = "",
) -> FollowUp:
    """Record one follow-up of the lead's advisor and move the lead along with it.

    The first follow-up ends "pending first follow-up"; a result (invited, arrived, test drive,
    ordered, defeat) moves the status; the next due time defaults from the grade's cycle.
    """
    if method not in FollowUp.Method.values:
        raise ValidationFailed(_("请选择跟进方式。"))
    if result not in FollowUp.Result.values:
        raise ValidationFailed(_("请选择跟进结果。"))
    notes = (notes or "").strip()
    if result == FollowUp.Result.DEFEAT and not notes:
        raise ValidationFailed(_("申请战败必须在备注中填写战败原因。"))
    with transaction.atomic():
        lead = lead_lock(lead_id=lead_id)
        if lead.status not in WORKING_STATUSES:
            raise InvalidTransition(
                _("线索当前为“%(state)s”，不能记录跟进。"), state=lead.get_status_display()
            )
        now = timezone.now()
        if next_follow_up_at is not None and next_follow_up_at <= now:
            raise ValidationFailed(_("下次跟进时间必须晚于现在。"))
        before = snapshot(lead)
        fields: list[str] = []
        if lead.status == Status.ASSIGNED:
            fields += run_transition(lead, "start_following", actor=actor, params={"at": now})
        if grade and grade != lead.grade:
            if grade not in (*OPEN_GRADES, Grade.N):
                raise ValidationFailed(_("跟进时级别只能选 H、A、B、C 或 N。"))
            fields += run_transition(
                lead, "set_grade", actor=actor, kind=LeadEvent.Kind.GRADE, params={"grade": grade}
            )
        transition = _RESULT_TRANSITIONS.get(result)
        if transition and not (transition == "invite" and lead.status == Status.INVITED):
            params: dict = {}
            if transition in ("arrive", "order"):
                params["at"] = now
            if transition == "request_defeat":
                params["reason"] = notes
            fields += run_transition(lead, transition, actor=actor, reason=notes, params=params)
            if transition == "order":
                fields += run_transition(
                    lead, "grade_ordered", actor=actor, kind=LeadEvent.Kind.GRADE
                )
        if lead.status in WORKING_STATUSES:
            if next_follow_up_at is None:
                days = grade_cycle_days(lead.grade)
                next_follow_up_at = now + timedelta(days=days) if days else None
            lead.next_follow_up_at = next_follow_up_at
        else:
            next_follow_up_at = None
            lead.next_follow_up_at = None
        lead.last_activity_at = now
        lead.escalation_level = 0  # a follow-up ends any escalation of an overdue one
        follow_up = FollowUp.objects.create(
            lead=lead,
            advisor_id=lead.advisor_id,
            author=actor if getattr(actor, "pk", None) else None,
            method=method,
            result=result,
            grade_after=lead.grade,
            next_follow_up_at=next_follow_up_at,
            notes=notes,
            created_at=now,
        )
        lead_event_record(
            lead=lead,
            kind=LeadEvent.Kind.FOLLOW_UP,
            action="follow_up",
            actor=actor,
            to_value=result,
            reason=notes[:255],
            data={"follow_up_id": follow_up.pk, "method": method},
            at=now,
        )
        save_changes(
            lead,
            fields
            + [
                f
                for f in ("next_follow_up_at", "last_activity_at", "escalation_level")
                if before[f] != getattr(lead, f)
            ],
        )
    return follow_up
