"""Manual dispatch (转派): HQ moves a lead from dealer A to dealer B, and dealer exit (退网).

Uniqueness decides, with four cases: B has no lead for the customer → the lead moves; B's lead
is ordered → nothing moves and HQ is told why; B's lead is open → A's history merges into it;
B's lead is closed (defeated, released …) → it is reactivated (激) with A's history. In every
case the customer is told of the dealer now serving them (a CustomerNotice), B's manager gets
a message, and the move is audited."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.errors import InvalidTransition, NotFound, ValidationFailed
from dealers.models import Dealer
from leads.models import (
    OWNED_STATUSES,
    POOL_STATUSES,
    CustomerNotice,
    Lead,
    LeadEvent,
    Notification,
    Status,
)
from leads.notifications import notification_send
from leads.services.audit import consent_record, lead_event_record
from leads.services.merge import lead_merge_into
from leads.services.transitions import changed_fields, lead_lock, run_transition, save_changes
from leads.services.transitions import snapshot as lead_snapshot

TRANSFERABLE = [*POOL_STATUSES, *OWNED_STATUSES]
MOVED, TARGET_ORDERED, MERGED, REACTIVATED = "moved", "target_ordered", "merged", "reactivated"
MISSING_CONSENT = gettext_lazy(
    "转派须写明客户同意由新经销商联系的依据（例如：客户来电同意，时间、坐席）。"
)


@dataclass
class TransferResult:
    case: str
    lead_id: int
    message: str


def lead_transfer(
    *,
    lead_id: int,
    to_dealer_id: int,
    actor,
    reason: str,
    consent_basis: str,
    notice_kind: str = CustomerNotice.Kind.TRANSFER,
) -> TransferResult:
    """Move one lead to another dealer under the uniqueness rule (see the module docstring).

    Handing the customer's data to another dealer needs the customer's consent (PIPL art. 23):
    `consent_basis` says what it rests on (e.g. "客户 11-25 来电同意转至 B 店，坐席陈静"); it is
    stored as the lead's consent to the new dealer and shown on the transfer event."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("转派必须填写原因。"))
    consent_basis = (consent_basis or "").strip()
    if not consent_basis:
        raise ValidationFailed(MISSING_CONSENT)
    with transaction.atomic():
        lead = lead_lock(lead_id=lead_id)
        if lead.dealer_id is None or lead.status not in TRANSFERABLE:
            raise InvalidTransition(
                _("线索 #%(id)s 当前为“%(state)s”，只有经销商处未结束的线索可以转派。"),
                id=lead.pk,
                state=lead.get_status_display(),
            )
        to = Dealer.objects.filter(pk=to_dealer_id).first()
        if to is None:
            raise NotFound(_("目标经销商不存在。"))
        if to.pk == lead.dealer_id:
            raise ValidationFailed(_("目标经销商与当前经销商相同。"))
        if not to.accepts_leads:
            raise ValidationFailed(
                _("经销商 %(dealer)s 状态为“%(status)s”，不能接收线索。"),
                dealer=to.name,
                status=to.get_status_display(),
            )
        source = Dealer.objects.get(pk=lead.dealer_id)
        now = timezone.now()
        target = (
            Lead.objects.select_for_update().filter(customer_id=lead.customer_id, dealer=to).first()
        )
        why = _("%(a)s → %(b)s：%(reason)s") % {"a": source.name, "b": to.name, "reason": reason}
        if target is None:
            result = _move(lead, to, actor=actor, why=why, now=now, basis=consent_basis)
        elif target.status == Status.ORDERED:
            lead_event_record(
                lead=lead,
                kind=LeadEvent.Kind.TRANSFERRED,
                action="transfer_refused",
                actor=actor,
                reason=why[:255],
                data={"to_dealer_id": to.pk, "target": target.pk},
                at=now,
            )
            result = TransferResult(
                TARGET_ORDERED,
                lead.pk,
                _("客户已在 %(b)s 成交（线索 #%(t)s），线索 #%(id)s 未转派。")
                % {"b": to.name, "t": target.pk, "id": lead.pk},
            )
        else:
            reactivated = lead_merge_into(
                lead,
                target,
                actor=actor,
                reason=why[:255],
                now=now,
                consent_note=consent_basis[:100],
            )
            case = REACTIVATED if reactivated else MERGED
            template = (
                _("客户在 %(b)s 的线索 #%(t)s 已激活，并合并了原线索 #%(id)s 的历史。")
                if reactivated
                else _("客户在 %(b)s 已有跟进中的线索 #%(t)s，原线索 #%(id)s 的历史已合并进去。")
            )
            result = TransferResult(
                case, target.pk, template % {"b": to.name, "t": target.pk, "id": lead_id}
            )
        # Never .only() on Lead: django-fsm reloads deferred state fields, recursively.
        CustomerNotice.objects.create(
            customer_id=lead.customer_id,
            lead_id=result.lead_id,
            kind=notice_kind,
            from_dealer=source,
            to_dealer=to,
            message=_("您好，您的购车咨询将由 %(b)s 为您服务%(phone)s。")
            % {"b": to.name, "phone": f"（{to.phone}）" if to.phone else ""},
            created_by=actor if getattr(actor, "pk", None) else None,
            created_at=now,
        )
        notification_send(
            lead_id=result.lead_id,
            kind=Notification.Kind.DISPATCHED,
            message=_("总部转派：%(msg)s") % {"msg": result.message},
            dealer_id=to.pk,
        )
    return result


def _move(lead: Lead, to: Dealer, *, actor, why: str, now, basis: str) -> TransferResult:
    before = lead_snapshot(lead)
    from_id = lead.dealer_id
    lead.consent_dealer, lead.consent_at = to, now
    lead.consent_by = actor if getattr(actor, "pk", None) else None
    lead.consent_note = basis[:100]
    run_transition(
        lead,
        "transfer",
        actor=actor,
        kind=LeadEvent.Kind.TRANSFERRED,
        reason=why[:255],
        data={
            "from_dealer_id": from_id,
            "to_dealer_id": to.pk,
            "consent": consent_record(lead, dealer=to, actor=actor),
        },
        params={"dealer": to, "at": now},
    )
    save_changes(lead, changed_fields(before, lead))
    return TransferResult(
        MOVED, lead.pk, _("线索 #%(id)s 已转派到 %(b)s。") % {"id": lead.pk, "b": to.name}
    )


def dealer_exit(
    *, dealer_id: int, to_dealer_id: int, actor, reason: str, consent_basis: str
) -> dict[str, int]:
    """A dealer leaves the network: every open lead goes to the chosen dealer under the same
    rules, the dealer is marked exited (it never receives leads again); returns the counts."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("退网必须填写原因。"))
    if not (consent_basis or "").strip():
        raise ValidationFailed(MISSING_CONSENT)
    counts = {MOVED: 0, TARGET_ORDERED: 0, MERGED: 0, REACTIVATED: 0}
    with transaction.atomic():
        dealer = Dealer.objects.select_for_update().filter(pk=dealer_id).first()
        if dealer is None:
            raise NotFound(_("经销商不存在。"))
        if dealer_id == to_dealer_id:
            raise ValidationFailed(_("接收经销商不能是退网经销商本身。"))
        lead_ids = list(
            Lead.objects.filter(dealer=dealer, status__in=TRANSFERABLE)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for lead_id in lead_ids:
            result = lead_transfer(
                lead_id=lead_id,
                to_dealer_id=to_dealer_id,
                actor=actor,
                reason=_("经销商退网：%(r)s") % {"r": reason},
                consent_basis=consent_basis,
                notice_kind=CustomerNotice.Kind.DEALER_EXIT,
            )
            counts[result.case] += 1
        dealer.status = Dealer.Status.EXITED
        dealer.save(update_fields=["status"])
    return counts
