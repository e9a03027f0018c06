"""django-q2 entry points: take ids, call one service, safe to run twice."""

from leads.services.dispatch import leads_dispatch_due


def lead_dispatch_task(lead_id: int) -> dict:
    """Dispatch one lead that became ready (enqueued on commit). A lead already dispatched,
    or no longer due, is left alone."""
    return leads_dispatch_due(lead_ids=[lead_id])


def leads_dispatch_sweep_task() -> dict:
    """Every minute: dispatch every lead whose time has come (nothing missed after a crash)."""
    return leads_dispatch_due()


def leads_auto_assign_task(lead_ids: list[int]) -> int:
    """Assign freshly dispatched leads by their dealer's strategy (already assigned: skipped)."""
    from leads.services.assignment import leads_auto_assign

    return leads_auto_assign(lead_ids=lead_ids)


def leads_assignment_timers_task() -> dict:
    """Every minute: tier-1 leads left untouched move to tier 2; grabs not followed up in time
    return to the pool with a penalty."""
    from leads.services.assignment import leads_grab_expire, leads_tier_escalate

    return {"escalated": leads_tier_escalate(), "expired_grabs": leads_grab_expire()}
