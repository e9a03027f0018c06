"""Dispatch (派发), HQ → dealer: the four conditions, the timing, the sweep.

A qualified lead is dispatched when (a) its dealer is known, active and consented to by the
customer, (b) a lead of a channel that needs cleansing was cleansed with high or normal intent,
(c) its score reaches the threshold (the channel's, else the global one), and (d) the dealer's
dispatch window is open. When only (d) fails, `dispatch_at` is the next opening, and the
per-minute sweep dispatches it then. Nothing is missed (the sweep takes every due lead) and
nothing goes twice (rows are locked, skipped by other sweepers, and re-checked)."""

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dealers.calendar import CalendarMissing, HoursBook
from dealers.models import Dealer
from leads.models import DispatchPolicy, Intent, Lead, LeadEvent, Notification, Status
from leads.notifications import notification_send
from leads.services.audit import audit_batched, consent_record, lead_event_record
from leads.services.transitions import run_transition

logger = logging.getLogger(__name__)


@dataclass
class DispatchCheck:
    """Why a lead is or is not dispatched (yet)."""

    failures: list[tuple[str, str]] = field(default_factory=list)
    window_open: bool = False
    next_opening: datetime | None = None

    @property
    def ok(self) -> bool:
        return not self.failures and self.window_open

    @property
    def waits_for_window(self) -> bool:
        return not self.failures and not self.window_open and self.next_opening is not None

    def reasons(self) -> list[dict]:
        items = [{"code": code, "message": message} for code, message in self.failures]
        if not self.failures and not self.window_open:
            if self.next_opening is not None:
                when = timezone.localtime(self.next_opening).strftime("%Y-%m-%d %H:%M")
                items.append(
                    {
                        "code": "window_closed",
                        "message": _("经销商派发时段未开放，将于 %(t)s 派发") % {"t": when},
                    }
                )
            else:
                items.append(
                    {
                        "code": "no_window",
                        "message": _("经销商近期没有派发时段（请检查派发时段或停业设置）"),
                    }
                )
        return items

    def summary(self) -> str:
        return "；".join(item["message"] for item in self.reasons())


class DispatchContext:
    """What checks share across many leads: the policy, the calendar, each dealer's hours."""

    def __init__(self):
        self.policy = DispatchPolicy.current()
        self.hours = HoursBook()


def dispatch_check(
    lead: Lead, *, at: datetime | None = None, context: DispatchContext | None = None
) -> DispatchCheck:
    """Evaluate the four conditions for a lead (its dealer and channel should be loaded)."""
    at = at or timezone.now()
    context = context or DispatchContext()
    check = DispatchCheck()
    if lead.status != Status.QUALIFIED:
        if lead.status in (Status.NEW, Status.CLEANSING, Status.NURTURING):
            check.failures.append(
                ("not_qualified", _("线索尚未清洗合格（%(s)s）") % {"s": lead.get_status_display()})
            )
        else:
            check.failures.append(
                ("status", _("线索状态为“%(s)s”，不在待派发中") % {"s": lead.get_status_display()})
            )
    dealer = lead.dealer if lead.dealer_id else None
    if dealer is None:
        check.failures.append(("no_dealer", _("尚未确认客户选择的经销商")))
    elif not lead.has_dealer_consent():
        check.failures.append(("no_consent", _("客户未同意该经销商联系")))
    elif dealer.status != Dealer.Status.ACTIVE:
        check.failures.append(
            ("dealer_inactive", _("经销商状态为“%(s)s”") % {"s": dealer.get_status_display()})
        )
    channel = lead.channel
    if channel.needs_cleansing and lead.intent not in (Intent.HIGH, Intent.NORMAL):
        check.failures.append(("not_cleansed", _("该渠道需清洗，线索尚未确认为高/一般意向")))
    threshold = (
        channel.dispatch_threshold
        if channel.dispatch_threshold is not None
        else context.policy.score_threshold
    )
    if lead.score < threshold:
        check.failures.append(
            ("score", _("评分 %(s)s 低于派发分数线 %(t)s") % {"s": lead.score, "t": threshold})
        )
    if dealer is not None and dealer.status == Dealer.Status.ACTIVE:
        try:
            hours = context.hours.for_dealer(dealer)
            check.next_opening = hours.next_opening(at)
            check.window_open = check.next_opening == at
        except CalendarMissing as error:
            check.failures.append((error.code, str(error)))
    return check


def plan_dispatch(lead: Lead, *, now: datetime, context: DispatchContext | None = None) -> None:
    """Called in memory on a lead that just became qualified (or changed): set when it goes.
    Ready now → due now and a task is enqueued on commit; only the window closed → due at the
    next opening (the sweep takes it); anything else → not due (the reason is shown)."""
    check = dispatch_check(lead, at=now, context=context)
    if check.ok:
        lead.dispatch_at, lead.eligible_at = now, now
        # The lead may not be inserted yet: its id is read when the transaction commits.
        transaction.on_commit(lambda: enqueue_dispatch(lead.pk))
    elif check.waits_for_window:
        lead.dispatch_at = lead.eligible_at = check.next_opening
    else:
        lead.dispatch_at = lead.eligible_at = None


def enqueue_dispatch(lead_id: int | None) -> None:
    if lead_id is None:
        return
    from django_q.tasks import async_task

    try:
        async_task("leads.tasks.lead_dispatch_task", lead_id, task_name=f"dispatch-{lead_id}")
    except Exception:  # the sweep will take it within a minute
        logger.exception("could not enqueue dispatch of lead %s", lead_id)


def enqueue_auto_assign(lead_ids: list[int]) -> None:
    """After dispatch, dealers with an automatic strategy assign the leads (a task)."""
    from django_q.tasks import async_task

    try:
        async_task("leads.tasks.leads_auto_assign_task", lead_ids, task_name="auto-assign")
    except Exception:  # the manager still sees them in the inbox
        logger.exception("could not enqueue auto assignment of %s leads", len(lead_ids))


def leads_dispatch_due(
    *, lead_ids: list[int] | None = None, now: datetime | None = None, batch: int | None = None
) -> dict:
    """Dispatch every due lead (or the given ones): lock a batch (skipping rows another
    sweeper holds), re-check each lead, dispatch the ready ones in bulk, move the ones whose
    window closed meanwhile, and drop the plan of those that no longer qualify."""
    now = now or timezone.now()
    context = DispatchContext()
    batch = batch or context.policy.sweep_batch
    totals = {"dispatched": 0, "rescheduled": 0, "blocked": 0}
    skip_locked = connection.features.has_select_for_update_skip_locked
    while True:
        with transaction.atomic():
            due = Lead.objects.filter(status=Status.QUALIFIED, dispatch_at__lte=now)
            if lead_ids is not None:
                due = due.filter(pk__in=lead_ids)
            due = due.order_by("dispatch_at", "id")
            if skip_locked:
                due = due.select_for_update(skip_locked=True, of=("self",))
            else:
                due = due.select_for_update()
            leads = list(due.select_related("dealer", "channel", "consent_by")[:batch])
            if not leads:
                break
            context.hours.preload({lead.dealer for lead in leads if lead.dealer_id})
            ready, moved, blocked = [], [], []
            for lead in leads:
                check = dispatch_check(lead, at=now, context=context)
                if check.ok:
                    ready.append(lead)
                elif check.waits_for_window:
                    lead.dispatch_at = lead.eligible_at = check.next_opening
                    moved.append(lead)
                else:
                    lead.dispatch_at = lead.eligible_at = None
                    blocked.append((lead, check))
            _dispatch_ready(ready, now)
            if moved or blocked:
                Lead.objects.bulk_update(
                    moved + [lead for lead, _check in blocked],
                    ["dispatch_at", "eligible_at"],
                    batch_size=500,
                )
            with audit_batched():
                for lead, check in blocked:
                    lead_event_record(
                        lead=lead,
                        kind=LeadEvent.Kind.NOTE,
                        action="dispatch_blocked",
                        reason=check.summary()[:255],
                        at=now,
                    )
        totals["dispatched"] += len(ready)
        totals["rescheduled"] += len(moved)
        totals["blocked"] += len(blocked)
        if len(leads) < batch or lead_ids is not None:
            break
    return totals


def _dispatch_ready(leads: list[Lead], now: datetime) -> None:
    if not leads:
        return
    with audit_batched():
        for lead in leads:
            run_transition(
                lead,
                "dispatch",
                actor=None,
                kind=LeadEvent.Kind.DISPATCHED,
                reason=_("自动派发"),
                data={"consent": consent_record(lead)},
                params={"at": now},
            )
            eligible = lead.eligible_at or now
            lead.dispatch_latency_ms = max(0, int((now - eligible).total_seconds() * 1000))
    _bulk_save(leads, now)
    dispatched_ids = [lead.pk for lead in leads]
    transaction.on_commit(lambda: enqueue_auto_assign(dispatched_ids))
    by_dealer: dict[int, list[Lead]] = {}
    for lead in leads:
        by_dealer.setdefault(lead.dealer_id, []).append(lead)
    for dealer_id, dealer_leads in by_dealer.items():
        ids = "、".join(f"#{lead.pk}" for lead in dealer_leads[:10])
        more = _("等 %(n)s 条") % {"n": len(dealer_leads)} if len(dealer_leads) > 10 else ""
        notification_send(
            lead=dealer_leads[0],
            kind=Notification.Kind.DISPATCHED,
            message=_("总部派发新线索 %(ids)s%(more)s，请及时分配。") % {"ids": ids, "more": more},
            dealer_id=dealer_id,
        )


def _bulk_save(leads: list[Lead], now: datetime) -> None:
    """One UPDATE per distinct latency (a morning sweep: most leads share one), not a CASE per
    row: the fields written are the same for all of them."""
    by_latency: dict[int, list[int]] = {}
    for lead in leads:
        lead.updated_at = now
        by_latency.setdefault(lead.dispatch_latency_ms, []).append(lead.pk)
    for latency, ids in by_latency.items():
        for start in range(0, len(ids), 1000):
            Lead.objects.filter(pk__in=ids[start : start + 1000]).update(
                status=Status.DISPATCHED,
                dispatched_at=now,
                dispatch_at=None,
                dispatch_latency_ms=latency,
                updated_at=now,
            )


def leads_dispatch_replan(*, now: datetime | None = None, batch: int = 2000) -> dict:
    """Qualified leads with no dispatch time are looked at again: a condition outside the lead
    may have changed (the calendar of a new year entered, windows added, the threshold lowered,
    the dealer active again). Ready ones are due now (the sweep takes them), window-bound ones
    get their opening; the rest keep saying why."""
    now = now or timezone.now()
    context = DispatchContext()
    totals = {"due_now": 0, "scheduled": 0, "still_blocked": 0}
    last_pk = 0
    while True:
        leads = list(
            Lead.objects.filter(status=Status.QUALIFIED, dispatch_at__isnull=True, pk__gt=last_pk)
            .select_related("dealer", "channel")
            .order_by("pk")[:batch]
        )
        if not leads:
            break
        last_pk = leads[-1].pk
        context.hours.preload({lead.dealer for lead in leads if lead.dealer_id})
        changed = []
        for lead in leads:
            check = dispatch_check(lead, at=now, context=context)
            if check.ok:
                lead.dispatch_at = lead.eligible_at = now
                totals["due_now"] += 1
                changed.append(lead)
            elif check.waits_for_window:
                lead.dispatch_at = lead.eligible_at = check.next_opening
                totals["scheduled"] += 1
                changed.append(lead)
            else:
                totals["still_blocked"] += 1
        # Only leads still unplanned are touched, so a concurrent plan is never overwritten.
        for lead in changed:
            Lead.objects.filter(
                pk=lead.pk, status=Status.QUALIFIED, dispatch_at__isnull=True
            ).update(dispatch_at=lead.dispatch_at, eligible_at=lead.eligible_at)
    return totals
