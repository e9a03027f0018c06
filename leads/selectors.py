"""Reads of leads: querysets with their joins, the timeline, and mobile search."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from leads.models import Customer, FollowUp, Lead, LeadEvent, RawLead
from leads.phone import normalise_mobile


def lead_list_admin() -> QuerySet[Lead]:
    """The admin lead list: every column it shows comes from these joins (no N+1)."""
    return Lead.objects.select_related(
        "customer", "channel__parent__parent", "dealer__region", "advisor", "intended_model"
    )


def leads_matching(queryset: QuerySet[Lead], term: str) -> QuerySet[Lead]:
    """Search as an agent types: a mobile in any format finds the customer exactly (index),
    the last four digits or a name fragment find candidates."""
    term = term.strip()
    if not term:
        return queryset
    mobile = normalise_mobile(term)
    if mobile:
        return queryset.filter(customer__mobile=mobile)
    digits = term.replace(" ", "").replace("-", "")
    if digits.isdigit():
        if len(digits) <= 4:
            return queryset.filter(customer__mobile__endswith=digits)
        return queryset.filter(customer__mobile__startswith=digits)
    if term.startswith("#") and term[1:].isdigit():
        return queryset.filter(pk=int(term[1:]))
    return queryset.filter(customer__name__icontains=term)


def customers_matching(queryset: QuerySet[Customer], term: str) -> QuerySet[Customer]:
    term = term.strip()
    mobile = normalise_mobile(term)
    if mobile:
        return queryset.filter(mobile=mobile)
    if term.isdigit():
        return (
            queryset.filter(mobile__endswith=term)
            if len(term) <= 4
            else queryset.filter(mobile__startswith=term)
        )
    return queryset.filter(name__icontains=term)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # event | raw_lead | follow_up
    title: str
    actor: str
    detail: str
    change: str = ""


def lead_timeline(lead: Lead) -> list[TimelineEntry]:
    """Everything that happened to a lead, newest first: events, follow-ups and raw leads."""
    entries: list[TimelineEntry] = []
    for event in LeadEvent.objects.filter(lead=lead).exclude(kind=LeadEvent.Kind.FOLLOW_UP):
        change = ""
        if event.from_value or event.to_value:
            change = (
                f"{_state_label(event, event.from_value)} → {_state_label(event, event.to_value)}"
            )
        entries.append(
            TimelineEntry(
                at=event.created_at,
                kind="event",
                title=f"{event.get_kind_display()} · {_action_label(event.action)}",
                actor=event.actor_label,
                detail=event.reason,
                change=change,
            )
        )
    for follow_up in FollowUp.objects.filter(lead=lead).select_related("advisor"):
        detail = follow_up.notes
        if follow_up.next_follow_up_at:
            detail = f"{detail}（{_('下次跟进')} {follow_up.next_follow_up_at:%Y-%m-%d %H:%M}）"
        entries.append(
            TimelineEntry(
                at=follow_up.created_at,
                kind="follow_up",
                title=f"{_('跟进')} · {follow_up.get_method_display()} · "
                f"{follow_up.get_result_display()}",
                actor=follow_up.advisor.name if follow_up.advisor else "",
                detail=detail,
                change=follow_up.grade_after and f"{_('级别')} {follow_up.grade_after}",
            )
        )
    for raw in RawLead.objects.filter(lead=lead).select_related("channel"):
        entries.append(
            TimelineEntry(
                at=raw.received_at,
                kind="raw_lead",
                title=f"{_('收到原始线索')} · {raw.channel.name}",
                actor=raw.get_source_display(),
                detail=raw.outcome_detail or raw.get_outcome_display(),
            )
        )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries


def _state_label(event: LeadEvent, value: str) -> str:
    if event.kind == LeadEvent.Kind.GRADE:
        field = "grade"
    elif event.kind in (
        LeadEvent.Kind.STATUS,
        LeadEvent.Kind.DISPATCHED,
        LeadEvent.Kind.ASSIGNED,
        LeadEvent.Kind.REACTIVATED,
        LeadEvent.Kind.TRANSFERRED,
        LeadEvent.Kind.CREATED,
    ):
        field = "status"
    else:
        return value or "—"
    label = dict(Lead._meta.get_field(field).choices).get(value, value)
    return str(label) or "—"


def _action_label(action: str) -> str:
    method = getattr(Lead, action, None)
    meta = getattr(method, "_django_fsm", None)
    if meta is not None:
        for transition in meta.transitions.values():
            return str(transition.custom.get("label", action))
    return str(_ACTION_LABELS.get(action, action))


_ACTION_LABELS = {
    "create": "新建线索",
    "merge": "重复线索合并",
    "confirm_dealer": "确认经销商并记录客户同意",
    "follow_up": "跟进",
    "intended_model_id": "修改意向车型",
    "purchase_timeframe": "修改预计购车时间",
    "intent": "修改意向程度",
    "customer_name": "修改客户姓名",
    "customer_city": "修改客户城市",
}


def raw_lead_status_for_channel(*, channel, external_id: str) -> dict | None:
    """The status a channel may see of its own submission; nothing personal."""
    raw = (
        RawLead.objects.filter(channel=channel, external_id=external_id)
        .select_related("lead")
        .first()
    )
    if raw is None:
        return None
    lead = raw.lead
    outcome = {
        RawLead.Outcome.NEW: "created",
        RawLead.Outcome.MERGED: "merged",
        RawLead.Outcome.REACTIVATED: "merged",
        RawLead.Outcome.INVALID: "invalid",
    }.get(raw.outcome, raw.outcome)
    return {
        "external_id": raw.external_id,
        "raw_lead_id": raw.pk,
        "received_at": raw.received_at,
        "outcome": outcome,
        "reasons": [code for code in raw.outcome_reason.split(",") if code],
        "lead_id": lead.pk if lead else None,
        "status": lead.status if lead else None,
        "status_label": lead.get_status_display() if lead else None,
        "grade": lead.grade if lead else None,
        "updated_at": lead.updated_at if lead else None,
    }
