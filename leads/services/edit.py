"""Corrections to a lead's descriptive fields, each change audited with old and new value."""

from django.db import transaction
from django.utils.translation import gettext as _

from config.errors import ValidationFailed
from leads.models import Intent, LeadEvent, PurchaseTimeframe, VehicleModel
from leads.services.audit import lead_event_record
from leads.services.transitions import lead_lock, save_changes

EDITABLE = (
    "intended_model_id",
    "purchase_timeframe",
    "intent",
    "customer_name",
    "customer_city",
    "customer_mobile",
)


def lead_update(*, lead_id: int, changes: dict, actor=None, reason: str = ""):
    """Change intended model, purchase timeframe, intent, or the customer's name and city.

    Channel, dealer, advisor, status, grade and the KPI timestamps are not editable here: they
    change only through their own services.
    """
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationFailed(
            _("以下字段不能在此修改：%(fields)s"), fields=", ".join(sorted(unknown))
        )
    with transaction.atomic():
        lead = lead_lock(lead_id=lead_id)
        customer = lead.customer
        lead_fields, customer_fields = [], []
        for name, value in changes.items():
            if name == "intended_model_id":
                if value and not VehicleModel.objects.filter(pk=value).exists():
                    raise ValidationFailed(_("车型不存在。"))
                old = lead.intended_model_id
                lead.intended_model_id = value or None
                target = lead_fields
            elif name == "purchase_timeframe":
                if value and value not in PurchaseTimeframe.values:
                    raise ValidationFailed(_("预计购车时间不合法。"))
                old, lead.purchase_timeframe, target = (
                    lead.purchase_timeframe,
                    value or "",
                    lead_fields,
                )
            elif name == "intent":
                if value and value not in Intent.values:
                    raise ValidationFailed(_("意向程度不合法。"))
                old, lead.intent, target = lead.intent, value or "", lead_fields
            elif name == "customer_mobile":
                value = _checked_mobile(value, customer)
                old, customer.mobile, target = customer.mobile, value, customer_fields
            else:
                attr = name.removeprefix("customer_")
                value = (value or "").strip()
                old = getattr(customer, attr)
                setattr(customer, attr, value)
                target = customer_fields
            if (old or "") == (value or ""):
                continue
            target.append(name.removeprefix("customer_"))
            lead_event_record(
                lead=lead,
                kind=LeadEvent.Kind.UPDATED,
                action=name,
                actor=actor,
                from_value=str(old or ""),
                to_value=str(value or ""),
                reason=reason,
            )
        if lead_fields:
            save_changes(lead, lead_fields)
        if customer_fields:
            customer.save(update_fields=[*customer_fields, "updated_at"])
    return lead


def _checked_mobile(value, customer) -> str:
    """A corrected mobile must be a real mainland mobile and not another customer's (merging
    two customers is HQ's decision, not a side effect of a correction)."""
    from leads.models import Customer
    from leads.phone import normalise_mobile

    mobile = normalise_mobile(value)
    if not mobile:
        raise ValidationFailed(_("手机号不是有效的中国大陆手机号。"))
    if Customer.objects.filter(mobile=mobile).exclude(pk=customer.pk).exists():
        raise ValidationFailed(_("该手机号已属于另一位客户，请联系总部合并。"))
    return mobile
