"""django-q2 entry points: take ids, call one service, safe to run twice."""

from leads.services.dispatch import leads_dispatch_due


def lead_dispatch_task(lead_id: int) -> dict:
    """Dispatch one lead that became ready (enqueued on commit). A lead already dispatched,
    or no longer due, is left alone."""
    return leads_dispatch_due(lead_ids=[lead_id])


def leads_dispatch_sweep_task() -> dict:
    """Every minute: dispatch every lead whose time has come (nothing missed after a crash)."""
    return leads_dispatch_due()
