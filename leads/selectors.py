"""Reads of leads: querysets with their joins, the timeline, and mobile search."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from leads.masking import mask_mobiles
from leads.models import Customer, FollowUp, Lead, LeadEvent, RawLead
from leads.phone import normalise_mobile


def lead_list_admin() -> QuerySet[Lead]:
    """The admin lead list: every column it shows comes from these joins (no N+1)."""
    return Lead.objects.select_related(
        "customer", "channel__parent__parent", "dealer__region", "advisor", "intended_model"
    )


def leads_matching(queryset: QuerySet[Lead], term: str) -> QuerySet[Lead]:
    """Search as an agent types: a mobile in any format finds the customer exactly (index),
    the last four digits or a name fragment find candidates.

    Never a prefix or a longer suffix: the lists show 138****8000, and a search that matched
    on the hidden middle digits would let anyone recover a number digit by digit without the
    logged reveal."""
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
        return queryset.none()
    if term.startswith("#") and term[1:].isdigit():
        return queryset.filter(pk=int(term[1:]))
    return queryset.filter(customer__name__icontains=term)


def customers_matching(queryset: QuerySet[Customer], term: str) -> QuerySet[Customer]:
    term = term.strip()
    mobile = normalise_mobile(term)
    if mobile:
        return queryset.filter(mobile=mobile)
    if term.isdigit():  # the last four digits only (see leads_matching)
        return queryset.filter(mobile__endswith=term) if len(term) <= 4 else queryset.none()
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
                detail=mask_mobiles(_with_consent(event)),
                change=mask_mobiles(change),
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
                detail=mask_mobiles(detail),
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


def _with_consent(event: LeadEvent) -> str:
    """An event's reason, and for a handing of the customer's data to a dealer (dispatch,
    transfer) the consent it rests on, as recorded at that moment."""
    consent = (event.data or {}).get("consent")
    if not consent:
        return event.reason
    parts = [consent.get("dealer", ""), consent.get("at", ""), consent.get("by", "")]
    basis = _("依据客户同意：%(facts)s%(note)s") % {
        "facts": "，".join(p for p in parts if p),
        "note": f"（{consent['note']}）" if consent.get("note") else "",
    }
    return f"{event.reason}；{basis}" if event.reason else basis


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
        .select_related("lead__dealer", "lead__channel")
        .first()
    )
    if raw is None:
        return None
    lead = raw.lead
    from leads.services.intake import OUTCOME_FOR_API

    outcome = OUTCOME_FOR_API.get(raw.outcome, raw.outcome)
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
        **_dispatch_status(lead),
    }


def _dispatch_status(lead: Lead | None) -> dict:
    """Why the lead is not dispatched yet, and when it will go (no dealer name: the channel
    learns the reasons, not who the customer chose)."""
    from leads.models import HQ_STATUSES, Status
    from leads.services.dispatch import dispatch_check

    if (
        lead is None
        or lead.status not in HQ_STATUSES
        or lead.status
        in (
            Status.INVALID,
            Status.ARCHIVED,
        )
    ):
        return {
            "dispatched_at": lead.dispatched_at if lead else None,
            "not_dispatched_because": [],
            "dispatch_at": None,
        }
    check = dispatch_check(lead)
    return {
        "dispatched_at": None,
        "not_dispatched_because": check.reasons(),
        "dispatch_at": check.next_opening if check.waits_for_window else None,
    }


# --- the HQ cleansing desk ---


def cleansing_queue() -> QuerySet[Lead]:
    """The cleansing queue, oldest first, with what its list shows."""
    from leads.models import Status

    return (
        Lead.objects.filter(status=Status.CLEANSING)
        .select_related("customer", "channel__parent__parent", "claimed_by", "dealer")
        .order_by("created_at", "id")
    )


def nurturing_pool() -> QuerySet[Lead]:
    """Nurtured leads, the most overdue touch first, with the time of the last call and
    whether their intent is due for a check (no call within the policy's days)."""
    from django.db.models import BooleanField, Case, F, Max, Q, When

    from leads.models import CleansingPolicy, Status

    cutoff = timezone.now() - timedelta(days=CleansingPolicy.current().intent_check_days)
    return (
        Lead.objects.filter(status=Status.NURTURING)
        .select_related("customer", "channel__parent__parent", "intended_model")
        .annotate(last_call_at=Max("calls__created_at"))
        .annotate(
            intent_check_due=Case(
                When(Q(last_call_at__isnull=True) | Q(last_call_at__lt=cutoff), then=True),
                default=False,
                output_field=BooleanField(),
            )
        )
        .order_by(F("nurture_due_at").asc(nulls_first=True), "created_at")
    )


def dealers_for_customer(customer: Customer):
    """The dealers an agent offers: those of the customer's city, else of the province, else
    all active dealers (the customer chooses; the system never picks one)."""
    from dealers.models import Dealer

    active = Dealer.objects.filter(status=Dealer.Status.ACTIVE).order_by("name")
    if customer.city and active.filter(city=customer.city).exists():
        return active.filter(city=customer.city)
    if customer.province and active.filter(province=customer.province).exists():
        return active.filter(province=customer.province)
    return active


def customer_history(lead: Lead) -> dict:
    """Beside the call form: the customer's raw leads and their leads at other dealers."""
    raw_leads = (
        RawLead.objects.filter(customer_id=lead.customer_id)
        .select_related("channel")
        .order_by("-received_at")[:50]
    )
    others = (
        Lead.objects.filter(customer_id=lead.customer_id)
        .exclude(pk=lead.pk)
        .select_related("dealer", "channel", "advisor")
        .order_by("-created_at")
    )
    return {"raw_leads": list(raw_leads), "other_leads": list(others)}


def cleansing_workload(day) -> dict:
    """Per agent: calls and outcomes of the day; the queue's size and oldest age."""
    from datetime import datetime, time, timedelta

    from django.db.models import Count, Min, Q
    from django.utils import timezone

    from leads.models import CallRecord, Status

    start = timezone.make_aware(datetime.combine(day, time.min))
    end = start + timedelta(days=1)
    outcome = CallRecord.Outcome
    agents = (
        CallRecord.objects.filter(created_at__gte=start, created_at__lt=end)
        .values("agent__username", "agent__first_name", "agent__last_name")
        .annotate(
            calls=Count("id"),
            leads=Count("lead", distinct=True),
            qualified=Count("id", filter=Q(outcome=outcome.QUALIFIED)),
            merged=Count("id", filter=Q(outcome=outcome.MERGED)),
            nurturing=Count("id", filter=Q(outcome=outcome.NURTURING)),
            invalid=Count("id", filter=Q(outcome__in=[outcome.INVALID, outcome.UNREACHABLE])),
            no_answer=Count("id", filter=Q(outcome=outcome.NO_ANSWER)),
        )
        .order_by("-calls")
    )
    queue = Lead.objects.filter(status=Status.CLEANSING).aggregate(
        size=Count("id"), oldest=Min("created_at")
    )
    now = timezone.now()
    nurture_due = Lead.objects.filter(status=Status.NURTURING, nurture_due_at__lte=now).count()
    claimed = Lead.objects.filter(
        status=Status.CLEANSING, claimed_by__isnull=False, claim_expires_at__gte=now
    ).count()
    return {
        "agents": list(agents),
        "queue_size": queue["size"],
        "oldest_age": (now - queue["oldest"]) if queue["oldest"] else None,
        "claimed": claimed,
        "nurture_due": nurture_due,
    }


def supervision_summary(samples) -> list[dict]:
    """Call-back results per dealer for the samples shown."""
    from django.db.models import Count, Q

    from leads.models import SupervisionSample

    result = SupervisionSample.Result
    return list(
        samples.values("dealer__code", "dealer__name")
        .annotate(
            total=Count("id"),
            pending=Count("id", filter=Q(result=result.PENDING)),
            confirmed=Count("id", filter=Q(result=result.CONFIRMED)),
            not_confirmed=Count("id", filter=Q(result=result.NOT_CONFIRMED)),
            contacted=Count("id", filter=Q(result=result.CONTACTED)),
            not_contacted=Count("id", filter=Q(result=result.NOT_CONTACTED)),
            unreachable=Count("id", filter=Q(result=result.UNREACHABLE)),
        )
        .order_by("-not_confirmed", "-not_contacted", "dealer__code")
    )


# --- the mobile reveal log (auditors) ---


@dataclass(frozen=True)
class RevealDay:
    user_id: int
    username: str
    day: date
    count: int
    baseline: float  # the user's average reveals per day over the BASELINE_DAYS before `day`
    flagged: bool


def reveal_daily_summary(
    *, day_from: date, day_to: date, user_id: int | None = None
) -> list[RevealDay]:
    """Reveals per user and day, each compared with that user's own usual volume.

    A day is flagged when the user revealed at least REVEAL_FLAG_MIN numbers and at least
    REVEAL_FLAG_FACTOR times their daily average of the REVEAL_BASELINE_DAYS before (days
    without reveals count as zero): far more numbers than usual.
    """
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db.models.functions import TruncDate

    from leads.models import MobileReveal

    baseline_days = settings.REVEAL_BASELINE_DAYS
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(day_from - timedelta(baseline_days), time()), tz)
    end = timezone.make_aware(datetime.combine(day_to + timedelta(1), time()), tz)
    rows = MobileReveal.objects.filter(created_at__gte=start, created_at__lt=end)
    if user_id is not None:
        rows = rows.filter(user_id=user_id)
    counts: dict[tuple[int, date], int] = {
        (row["user_id"], row["day"]): row["n"]
        for row in rows.annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("user_id", "day")
        .annotate(n=Count("id"))
    }
    names = dict(
        get_user_model()
        .objects.filter(pk__in={uid for uid, _day in counts})
        .values_list("pk", "username")
    )
    result = []
    for (uid, day), count in counts.items():
        if not day_from <= day <= day_to:
            continue
        before = sum(
            counts.get((uid, day - timedelta(offset)), 0) for offset in range(1, baseline_days + 1)
        )
        baseline = before / baseline_days
        flagged = (
            count >= settings.REVEAL_FLAG_MIN and count >= settings.REVEAL_FLAG_FACTOR * baseline
        )
        result.append(RevealDay(uid, names.get(uid, ""), day, count, round(baseline, 1), flagged))
    result.sort(key=lambda r: (-r.day.toordinal(), not r.flagged, -r.count, r.username))
    return result
