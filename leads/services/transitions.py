"""The status and grade changes of a lead. One function per business operation.

Each loads the lead under a row lock, checks the rule, calls the django-fsm transition (which
only changes fields in memory), saves exactly the fields that changed and writes the audit row.
"""

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed, has_transition_perm

from config.errors import ConflictError, InvalidTransition, NotFound, ValidationFailed
from dealers.models import Advisor, Dealer
from leads.models import OWNED_STATUSES, Grade, Lead, LeadEvent, Status
from leads.services.audit import consent_record, lead_event_record, lead_state_log_record


class PermissionRefused(InvalidTransition):
    code = "permission_denied"


_CONDITION_MESSAGES = {
    "qualify": gettext_lazy("客户尚未同意由该经销商联系，不能确认合格。"),
    "dispatch": gettext_lazy("客户尚未同意由该经销商联系，不能派发。"),
    "approve_defeat": gettext_lazy("战败申请缺少原因。"),
}


_ATTNAME_TO_NAME = {f.attname: f.name for f in Lead._meta.concrete_fields}


def lead_lock(*, lead_id: int) -> Lead:
    """Load a lead for change, holding its row lock until the transaction ends."""
    try:
        return Lead.objects.select_for_update().get(pk=lead_id)
    except Lead.DoesNotExist:
        raise NotFound(_("线索 #%(id)s 不存在。"), id=lead_id) from None


def snapshot(lead: Lead) -> dict[str, Any]:
    return {f.attname: getattr(lead, f.attname) for f in Lead._meta.concrete_fields}


def changed_fields(before: dict[str, Any], lead: Lead) -> list[str]:
    return [name for name, value in snapshot(lead).items() if before[name] != value]


def save_changes(lead: Lead, fields: list[str]) -> None:
    """Save only what changed (plus updated_at); never the whole row."""
    names = {_ATTNAME_TO_NAME[f] for f in fields}
    lead.save(update_fields=sorted(names | {"updated_at"}))


def transition_label(lead: Lead, name: str) -> str:
    method = getattr(lead, name)
    for transition in method._django_fsm.transitions.values():
        return str(transition.custom.get("label", name))
    return name


def state_label(field: str, value: str) -> str:
    return str(dict(Lead._meta.get_field(field).choices).get(value, value))


def run_transition(
    lead: Lead,
    name: str,
    *,
    actor,
    kind: str = LeadEvent.Kind.STATUS,
    reason: str = "",
    data: dict | None = None,
    params: dict | None = None,
    permission_checked: bool = False,
) -> list[str]:
    """Apply one transition to a locked lead: check state, permission and conditions, change
    the fields in memory, write the audit row. Returns the names of the changed fields."""
    method = getattr(lead, name)
    field = method._django_fsm.field.name
    before_state = getattr(lead, field)
    label = transition_label(lead, name)
    if not can_proceed(method, check_conditions=False):
        raise InvalidTransition(
            _("线索 #%(id)s 当前为“%(state)s”，不能执行“%(action)s”。"),
            id=lead.pk,
            state=state_label(field, before_state),
            action=label,
        )
    if not can_proceed(method):
        message = _CONDITION_MESSAGES.get(name) or _("不满足“%(action)s”的条件。")
        raise InvalidTransition(message, action=label)
    # has_transition_perm also re-checks state and conditions, so it comes after them.
    if actor is not None and not permission_checked and not has_transition_perm(method, actor):
        raise PermissionRefused(_("您没有权限执行“%(action)s”。"), action=label)
    before = snapshot(lead)
    method(**(params or {}))
    lead_state_log_record(
        lead=lead,
        transition=name,
        source=before_state,
        target=getattr(lead, field),
        actor=actor,
        reason=reason,
    )
    lead_event_record(
        lead=lead,
        kind=kind,
        action=name,
        actor=actor,
        from_value=before_state,
        to_value=getattr(lead, field),
        reason=reason,
        data=data,
    )
    return changed_fields(before, lead)


def _single(name: str, doc: str, *, stamp: str | None = None, needs_reason: bool = False):
    """Build a plain service: lock, one transition, save, audit."""

    def service(*, lead_id: int, actor=None, reason: str = "") -> Lead:
        reason = (reason or "").strip()
        if needs_reason and not reason:
            raise ValidationFailed(_("请填写原因。"))
        with transaction.atomic():
            lead = lead_lock(lead_id=lead_id)
            params: dict[str, Any] = {}
            if stamp:
                params[stamp] = timezone.now()
            if needs_reason:
                params["reason"] = reason
            fields = run_transition(lead, name, actor=actor, reason=reason, params=params)
            save_changes(lead, fields)
        return lead

    service.__name__ = service.__qualname__ = f"lead_{name}"
    service.__doc__ = doc
    return service


lead_send_to_cleansing = _single("send_to_cleansing", "Put a new lead in the HQ cleansing queue.")


def lead_qualify(*, lead_id: int, actor=None, reason: str = "") -> Lead:
    """Qualify a lead (only with a dealer the customer agreed to) and plan its dispatch."""
    from leads.services.dispatch import plan_dispatch

    with transaction.atomic():
        lead = lead_lock(lead_id=lead_id)
        now = timezone.now()
        before = snapshot(lead)
        run_transition(lead, "qualify", actor=actor, reason=reason, params={"at": now})
        plan_dispatch(lead, now=now)
        save_changes(lead, changed_fields(before, lead))
    return lead


lead_invalidate = _single(
    "invalidate", "Mark a lead invalid; a reason is required.", needs_reason=True
)
lead_nurture = _single("nurture", "Send a low-intent lead to HQ nurturing.")
lead_archive = _single(
    "archive", "Archive a lead whose nurturing failed; a reason is required.", needs_reason=True
)
lead_recall = _single("recall", "Take a lead back from its advisor into the dealer's pool.")
lead_silence = _single("silence", "Silence a lead before release: nobody may act on it.")
lead_unsilence = _single("unsilence", "Return a silenced lead to its advisor's stage.")
lead_release = _single("release", "Release a silenced lead to the dealer's pool.")
_reject_defeat = _single(
    "reject_defeat", "Refuse a defeat request: the advisor follows up again.", needs_reason=True
)


def lead_reject_defeat(*, lead_id: int, actor=None, reason: str = "") -> Lead:
    """Refuse a defeat request: the lead goes back to following and its advisor is told why."""
    from leads.models import Notification
    from leads.notifications import notification_send

    with transaction.atomic():
        lead = _reject_defeat(lead_id=lead_id, actor=actor, reason=reason)
        user_id = Advisor.objects.filter(pk=lead.advisor_id).values_list("user_id", flat=True)
        notification_send(
            lead=lead,
            kind=Notification.Kind.OTHER,
            message=_("线索 #%(id)s 战败申请被驳回：%(n)s") % {"id": lead.pk, "n": reason},
            recipient_id=user_id.first(),
        )
    return lead


def lead_dispatch(*, lead_id: int, actor=None, reason: str = "") -> Lead:
    """Dispatch a qualified lead to its dealer: the dealer must be active and consented to."""
    with transaction.atomic():
        lead = lead_lock(lead_id=lead_id)
        dealer = Dealer.objects.get(pk=lead.dealer_id) if lead.dealer_id else None
        if dealer is not None and not dealer.accepts_leads:
            raise InvalidTransition(
                _("经销商 %(dealer)s 状态为“%(status)s”，不能派发。"),
                dealer=dealer.name,
                status=dealer.get_status_display(),
            )
        now = timezone.now()
        fields = run_transition(
            lead,
            "dispatch",
            actor=actor,
            kind=LeadEvent.Kind.DISPATCHED,
            reason=reason,
            data={"consent": consent_record(lead, dealer=dealer)},
            params={"at": now},
        )
        save_changes(lead, fields)
    return lead


def lead_assign(
    *,
    lead_id: int,
    advisor_id: int,
    actor=None,
    reason: str = "",
    why: str = "",
    tier: int | None = None,
    grabbed: bool = False,
    permission_checked: bool = False,
) -> Lead:
    """Assign a lead waiting at its dealer to an active advisor of that same dealer; `why`
    (shown on the lead) says why that advisor was chosen."""
    with transaction.atomic():
        lead = lead_lock(lead_id=lead_id)
        if lead.advisor_id and lead.status in OWNED_STATUSES:
            owner = Advisor.objects.filter(pk=lead.advisor_id).values_list("name", flat=True)
            raise ConflictError(
                _("线索 #%(id)s 已分配给 %(name)s。"), id=lead.pk, name=owner.first() or ""
            )
        advisor = Advisor.objects.filter(pk=advisor_id).select_related("dealer").first()
        if advisor is None or advisor.dealer_id != lead.dealer_id:
            raise ValidationFailed(_("只能分配给本经销商的销售顾问。"))
        if not advisor.is_active:
            raise ValidationFailed(_("销售顾问 %(name)s 已离职，不能分配。"), name=advisor.name)
        before = snapshot(lead)
        why = (why or reason or _("经理手动分配")).strip()
        run_transition(
            lead,
            "assign",
            actor=actor,
            kind=LeadEvent.Kind.ASSIGNED,
            reason=why[:255],
            data={"advisor_id": advisor.pk, "advisor": advisor.name, "tier": tier},
            params={"advisor": advisor, "at": timezone.now()},
            permission_checked=permission_checked,
        )
        lead.assignment_reason = why[:255]
        lead.assignment_tier = tier
        lead.is_grabbed = lead.is_grabbed or grabbed
        lead.last_activity_at = timezone.now()
        save_changes(lead, changed_fields(before, lead))
    return lead


def lead_request_defeat(*, lead_id: int, reason: str, actor=None) -> Lead:
    """An advisor asks to close a lead as defeated; the manager approves or rejects."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("申请战败必须填写战败原因。"))
    with transaction.atomic():
        lead = lead_lock(lead_id=lead_id)
        fields = run_transition(
            lead, "request_defeat", actor=actor, reason=reason, params={"reason": reason}
        )
        save_changes(lead, fields)
    return lead


def lead_approve_defeat(*, lead_id: int, actor=None, reason: str = "") -> Lead:
    """Approving a defeat closes the lead in both machines: status defeated, grade F."""
    with transaction.atomic():
        lead = lead_lock(lead_id=lead_id)
        now = timezone.now()
        fields = run_transition(
            lead, "approve_defeat", actor=actor, reason=reason, params={"at": now}
        )
        fields += run_transition(lead, "grade_defeated", actor=actor, kind=LeadEvent.Kind.GRADE)
        save_changes(lead, fields)
    return lead


def lead_set_grade(*, lead_id: int, grade: str, actor=None, reason: str = "") -> Lead:
    """Re-grade an open lead (H, A, B, C or N); ordered and defeated have their own paths."""
    if grade not in (Grade.H, Grade.A, Grade.B, Grade.C, Grade.N):
        raise ValidationFailed(_("意向级别只能调整为 H、A、B、C 或 N。"))
    with transaction.atomic():
        lead = lead_lock(lead_id=lead_id)
        if lead.grade == grade:
            return lead
        fields = run_transition(
            lead,
            "set_grade",
            actor=actor,
            kind=LeadEvent.Kind.GRADE,
            reason=reason,
            params={"grade": grade},
        )
        save_changes(lead, fields)
    return lead


def lead_reactivate(*, lead_id: int, actor=None, reason: str = "") -> Lead:
    """Bring back a defeated, invalid, archived or released lead (flag 激)."""
    with transaction.atomic():
        lead = lead_lock(lead_id=lead_id)
        fields = run_transition(
            lead, "reactivate", actor=actor, kind=LeadEvent.Kind.REACTIVATED, reason=reason
        )
        if lead.grade == Grade.F:
            fields += run_transition(
                lead, "grade_reactivated", actor=actor, kind=LeadEvent.Kind.GRADE, reason=reason
            )
        save_changes(lead, fields)
    return lead


def lead_confirm_dealer(
    *, lead_id: int, dealer_id: int, actor=None, consent_note: str = ""
) -> Lead:
    """Record the dealer the customer chose and their consent to be contacted by it.

    Personal data may only go to a dealer the customer agreed to, so the consent is tied to
    that dealer. The uniqueness rule holds: a second lead of the customer at that dealer is
    refused by the database and reported.
    """
    with transaction.atomic():
        lead = lead_lock(lead_id=lead_id)
        if lead.status not in (Status.NEW, Status.CLEANSING, Status.NURTURING, Status.QUALIFIED):
            raise InvalidTransition(_("线索已派发到经销商，请使用转派。"))
        dealer = Dealer.objects.filter(pk=dealer_id).first()
        if dealer is None:
            raise NotFound(_("经销商不存在。"))
        if not dealer.accepts_leads:
            raise ValidationFailed(
                _("经销商 %(dealer)s 状态为“%(status)s”，不能接收线索。"),
                dealer=dealer.name,
                status=dealer.get_status_display(),
            )
        existing = (
            Lead.objects.filter(customer_id=lead.customer_id, dealer_id=dealer.pk)
            .exclude(pk=lead.pk)
            .values_list("pk", flat=True)
            .first()
        )
        if existing:
            raise ConflictError(
                _("该客户在 %(dealer)s 已有线索 #%(other)s（唯一性规则）。"),
                dealer=dealer.name,
                other=existing,
            )
        before = snapshot(lead)
        old_dealer = lead.dealer_id
        lead.dealer = dealer
        lead.consent_dealer = dealer
        lead.consent_at = timezone.now()
        lead.consent_by = actor if getattr(actor, "pk", None) else None
        lead.consent_note = consent_note[:100]
        lead_event_record(
            lead=lead,
            kind=LeadEvent.Kind.CONSENT,
            action="confirm_dealer",
            actor=actor,
            from_value=str(old_dealer or ""),
            to_value=dealer.code,
            reason=consent_note,
            data={"dealer_id": dealer.pk, "dealer": dealer.name},
        )
        try:
            with transaction.atomic():
                save_changes(lead, changed_fields(before, lead))
        except IntegrityError:
            raise ConflictError(_("该客户在该经销商已有线索（唯一性规则）。")) from None
    return lead
