"""Reveal-on-reason: the only way a customer's full number reaches a screen.

Numbers are masked everywhere (138****8000). Who needs to call — a cleansing agent, the lead's
advisor, the dealer's manager or DCC, an HQ administrator — clicks "查看号码" with a reason;
`mobile_reveal` checks that they may, writes a `MobileReveal` row (who, lead, customer, when,
why, from which page and IP) and the page then shows the number for REVEAL_MINUTES, read back
through `revealed_mobile` (a reload inside that time writes nothing more).
"""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.errors import NotFound, ValidationFailed
from leads.models import Lead, MobileReveal, Status, SupervisionSample
from leads.services.transitions import PermissionRefused

REVEAL_PERMISSION = "leads.reveal_mobile"
REVEAL_MINUTES = 10
AGENT_CALLS = (Status.CLEANSING, Status.NURTURING)


def may_reveal(user, lead: Lead) -> bool:
    """Whether the user may see this lead's number: they hold the reveal permission and the
    lead is theirs to call. Dealer staff: a lead of their dealer (advisors: only their own);
    HQ cleansing agents: leads they work (cleansing, nurturing) and leads drawn for a
    supervision call-back not yet made; HQ administrators: any lead."""
    if not (user.is_authenticated and user.is_active and user.has_perm(REVEAL_PERMISSION)):
        return False
    if lead.customer.anonymised_at is not None:
        return False
    from dealers.access import is_manager, member_of

    member = member_of(user)
    if member is not None:
        if lead.dealer_id != member.dealer_id:
            return False
        return is_manager(member) or lead.advisor_id == member.pk
    if user.has_perm("leads.change_lead"):
        return True  # HQ administrator
    if not user.has_perm("leads.cleanse_lead"):
        return False
    if lead.status in AGENT_CALLS:
        return True
    return SupervisionSample.objects.filter(
        lead_id=lead.pk, result=SupervisionSample.Result.PENDING
    ).exists()


def mobile_reveal(
    *,
    actor,
    lead_id: int,
    reason: str,
    note: str = "",
    source: str,
    ip: str | None = None,
) -> MobileReveal:
    """Record that `actor` looks at the lead's full number, and why; refuse if they may not."""
    lead = Lead.objects.select_related("customer").filter(pk=lead_id).first()
    if lead is None:
        raise NotFound(_("线索 #%(id)s 不存在。"), id=lead_id)
    if not may_reveal(actor, lead):
        raise PermissionRefused(_("您无权查看这条线索的完整手机号。"))
    if reason not in MobileReveal.Reason.values:
        raise ValidationFailed(_("请选择查看号码的原因。"))
    note = (note or "").strip()[:200]
    if reason == MobileReveal.Reason.OTHER and not note:
        raise ValidationFailed(_("原因选择“其他”时，请填写说明。"))
    if source not in MobileReveal.Source.values:
        raise ValidationFailed(_("未知的页面来源。"))
    return MobileReveal.objects.create(
        user=actor,
        lead=lead,
        customer_id=lead.customer_id,
        reason=reason,
        note=note,
        source=source,
        ip=ip or None,
    )


def revealed_mobile(*, user, lead: Lead, reveal_id) -> str:
    """The full number if `reveal_id` is this user's reveal of this lead from the last
    REVEAL_MINUTES minutes (and they still may see it), else ""."""
    try:
        reveal_pk = int(reveal_id)
    except (TypeError, ValueError):
        return ""
    fresh = MobileReveal.objects.filter(
        pk=reveal_pk,
        user_id=user.pk,
        lead_id=lead.pk,
        created_at__gte=timezone.now() - timedelta(minutes=REVEAL_MINUTES),
    ).exists()
    if not fresh or not may_reveal(user, lead):
        return ""
    return lead.customer.mobile
