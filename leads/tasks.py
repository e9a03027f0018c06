"""django-q2 entry points: take ids, call one service, safe to run twice."""

from leads.services.dispatch import leads_dispatch_due


def lead_dispatch_task(lead_id: int) -> dict:
    """Dispatch one lead that became ready (enqueued on commit). A lead already dispatched,
    or no longer due, is left alone."""
    return leads_dispatch_due(lead_ids=[lead_id])


def leads_dispatch_sweep_task() -> dict:
    """Every minute: dispatch every lead whose time has come (nothing missed after a crash)."""
    return leads_dispatch_due()


def leads_dispatch_replan_task() -> dict:
    """Every ten minutes: qualified leads without a dispatch time are checked again."""
    from leads.services.dispatch import leads_dispatch_replan

    return leads_dispatch_replan()


def lead_import_preview_task(job_id: int) -> str:
    """The dry run of a big uploaded file (each row's outcome, nothing imported)."""
    from leads.imports.services import lead_import_preview

    return lead_import_preview(job_id=job_id).status


def lead_import_run_task(job_id: int) -> str:
    """The import of a confirmed file, chunk by chunk; run again, it resumes where it stopped
    (a job already done or taken over by another run is left alone)."""
    from leads.imports.services import lead_import_run

    return lead_import_run(job_id=job_id).status


def leads_auto_assign_task(lead_ids: list[int]) -> int:
    """Assign freshly dispatched leads by their dealer's strategy (already assigned: skipped)."""
    from leads.services.assignment import leads_auto_assign

    return leads_auto_assign(lead_ids=lead_ids)


def leads_assignment_timers_task() -> dict:
    """Every minute: tier-1 leads left untouched move to tier 2; grabs not followed up in time
    return to the pool with a penalty."""
    from leads.services.assignment import leads_grab_expire, leads_tier_escalate

    return {"escalated": leads_tier_escalate(), "expired_grabs": leads_grab_expire()}


def leads_lifecycle_task() -> dict:
    """Every five minutes: the lifecycle rules (recall, validity and silence, escalation)."""
    from leads.services.lifecycle import lifecycle_run

    return lifecycle_run()


def login_failures_purge_task() -> int:
    """Nightly: failed-login rows (usernames and IPs) are kept LOGIN_FAILURES_KEEP_DAYS only."""
    from leads.security.lockout import login_failures_purge

    return login_failures_purge()
