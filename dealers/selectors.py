"""Reads for the dealer pages: inbox, today's list, pool, defeat queue, timeliness figures."""

from datetime import datetime, timedelta

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from dealers.access import leads_visible_to
from dealers.models import Advisor
from leads.models import POOL_STATUSES, WORKING_STATUSES, Lead, Status

LIST_JOINS = ("customer", "channel", "advisor", "intended_model")


def inbox(
    member: Advisor, *, sort: str = "age", grade: str = "", channel: str = "", q: str = ""
) -> QuerySet[Lead]:
    """Dispatched leads waiting for an advisor (and released/recalled ones)."""
    leads = leads_visible_to(member).filter(status__in=POOL_STATUSES, advisor__isnull=True)
    leads = _filtered(leads, grade=grade, channel=channel, q=q)
    order = {
        "age": ("dispatched_at", "pk"),
        "grade": ("grade", "dispatched_at"),
        "score": ("-score", "dispatched_at"),
    }.get(sort, ("dispatched_at", "pk"))
    return leads.select_related(*LIST_JOINS).order_by(*order)


def dealer_leads(
    member: Advisor, *, status: str = "", advisor: str = "", grade: str = "", q: str = ""
) -> QuerySet[Lead]:
    leads = leads_visible_to(member)
    if status:
        leads = leads.filter(status=status)
    if advisor:
        leads = leads.filter(advisor_id=advisor)
    return _filtered(leads, grade=grade, q=q).select_related(*LIST_JOINS).order_by("-dispatched_at")


def _filtered(leads, *, grade="", channel="", q=""):
    from leads.selectors import leads_matching

    if grade:
        leads = leads.filter(grade="" if grade == "-" else grade)
    if channel:
        leads = leads.filter(channel_id=channel)
    return leads_matching(leads, q) if q else leads


def defeat_queue(member: Advisor) -> QuerySet[Lead]:
    return (
        leads_visible_to(member)
        .filter(status=Status.DEFEAT_REQUESTED)
        .select_related(*LIST_JOINS)
        .order_by("last_activity_at")
    )


def advisor_today(member: Advisor, *, now: datetime | None = None) -> dict:
    """New (never followed up), due today, overdue."""
    now = now or timezone.now()
    end_of_day = timezone.localtime(now).replace(hour=23, minute=59, second=59)
    mine = Lead.objects.filter(advisor=member).select_related(*LIST_JOINS)
    return {
        "new": mine.filter(status=Status.ASSIGNED).order_by("assigned_at"),
        "overdue": mine.filter(status__in=WORKING_STATUSES, next_follow_up_at__lt=now)
        .exclude(status=Status.ASSIGNED)
        .order_by("next_follow_up_at"),
        "due": mine.filter(
            status__in=WORKING_STATUSES,
            next_follow_up_at__gte=now,
            next_follow_up_at__lte=end_of_day,
        )
        .exclude(status=Status.ASSIGNED)
        .order_by("next_follow_up_at"),
    }


def pool(member: Advisor) -> QuerySet[Lead]:
    return (
        Lead.objects.filter(
            dealer_id=member.dealer_id, status__in=POOL_STATUSES, advisor__isnull=True
        )
        .select_related(*LIST_JOINS)
        .order_by("dispatched_at", "pk")
    )


def dealer_timeliness(dealer_id: int, *, now: datetime | None = None) -> dict:
    """This month at the dealer: dispatched, assigned, followed up within 24 h and the rate;
    median minutes from dispatch to assignment, hours from assignment to first follow-up."""
    now = now or timezone.now()
    start = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    month = Lead.objects.filter(dealer_id=dealer_id, dispatched_at__gte=start)
    counts = month.aggregate(
        dispatched=Count("id"),
        assigned=Count("id", filter=Q(assigned_at__isnull=False)),
        followed=Count("id", filter=Q(first_followed_at__isnull=False)),
        within_24h=Count(
            "id",
            filter=Q(
                first_followed_at__isnull=False,
                first_followed_at__lte=F("assigned_at") + timedelta(hours=24),
            ),
        ),
    )
    assign_minutes = sorted(
        (a - d).total_seconds() / 60
        for d, a in month.filter(assigned_at__isnull=False).values_list(
            "dispatched_at", "assigned_at"
        )[:5000]
    )
    follow_hours = sorted(
        (f - a).total_seconds() / 3600
        for a, f in month.filter(
            first_followed_at__isnull=False, assigned_at__isnull=False
        ).values_list("assigned_at", "first_followed_at")[:5000]
    )
    return {
        **counts,
        "rate_24h": counts["within_24h"] / counts["assigned"] if counts["assigned"] else None,
        "median_assign_minutes": _median(assign_minutes),
        "median_follow_hours": _median(follow_hours),
    }


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def followed_within_24h(lead: Lead) -> bool | None:
    """The 24-hour follow-up flag: None while the 24 hours are still running."""
    if lead.assigned_at is None:
        return None
    if lead.first_followed_at is not None:
        return lead.first_followed_at - lead.assigned_at <= timedelta(hours=24)
    if timezone.now() - lead.assigned_at > timedelta(hours=24):
        return False
    return None
