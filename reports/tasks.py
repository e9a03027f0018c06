"""django-q2 entry points of the rollup refresh (each safe to run twice)."""

from datetime import date


def reports_rollup_refresh_task() -> dict:
    """Every 5 minutes: today, yesterday and the days whose leads changed since the last run."""
    from reports.services import rollups_refresh_recent

    run = rollups_refresh_recent()
    return {"run": run.pk, "days": run.days, "rows": run.rows, "seconds": run.seconds}


def reports_rollup_nightly_task() -> dict:
    """Every night: the last 92 days in full."""
    from reports.services import rollups_refresh_nightly

    run = rollups_refresh_nightly()
    return {"run": run.pk, "days": run.days, "rows": run.rows, "seconds": run.seconds}


def reports_rollup_refresh_range_task(first: str, last: str, user_id: int | None = None) -> dict:
    """On request from the admin: the days first..last (ISO dates)."""
    from django.contrib.auth import get_user_model

    from reports.services import rollups_refresh_range

    actor = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    run = rollups_refresh_range(
        first=date.fromisoformat(first), last=date.fromisoformat(last), actor=actor
    )
    return {"run": run.pk, "days": run.days, "rows": run.rows, "seconds": run.seconds}
