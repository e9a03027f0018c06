"""Refreshing the rollups: set-based SQL from the lead tables, whole days at a time.

A refresh of a day range deletes the range's rollup rows and inserts them again from
`leads_lead` / `leads_rawlead`, in one transaction per chunk of days: running it twice gives the
same rows (idempotent), and readers see a day either before or after, never half-written.
The lead pipeline needs no change: the incremental refresh finds the days to recompute from the
audit trail (every service writes a LeadEvent), so its writes need no hook.

Freshness (the schedules in leads/management/commands/setup_schedules.py):
- every 5 minutes: today, yesterday, and every day whose leads changed since the last run;
- every night at 02:30: the last 92 days in full, for changes made outside the services.
"""

import logging
import time
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import ValidationFailed
from reports.definitions import day_start
from reports.models import LeadRollup, LeadTiming, MonthTiming, ReasonRollup, RollupRun
from reports.services.sql import (
    CUTS,
    REASONS_SQL,
    TIMINGS,
    cut_sql,
    facts_sql,
    local_date,
    moment,
    timing_sql,
)

logger = logging.getLogger(__name__)

CHUNK_DAYS = 7
NIGHTLY_DAYS = 92
# Events written by a transaction that began before the last run started but committed after
# it would otherwise be missed: look back a little further than the watermark.
WATERMARK_OVERLAP = timedelta(minutes=10)
ADVISORY_LOCK = 0x5245504F  # "REPO": one refresh at a time (PostgreSQL)


# --- the refresh -------------------------------------------------------------------------


def _ranges(days: Iterable[date], chunk: int = CHUNK_DAYS) -> list[tuple[date, date]]:
    """Contiguous runs of the given days, cut into chunks of at most `chunk` days."""
    ordered = sorted(set(days))
    ranges: list[tuple[date, date]] = []
    for day in ordered:
        if (
            ranges
            and day == ranges[-1][1] + timedelta(days=1)
            and ((day - ranges[-1][0]).days < chunk)
        ):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def _refresh_range(first: date, last: date) -> int:
    """Recompute the rollups of the local days first..last (inclusive); returns rows written."""
    start = moment(day_start(first))
    end = moment(day_start(last + timedelta(days=1)))
    rows = 0
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK])
        LeadRollup.objects.filter(day__range=(first, last)).delete()
        ReasonRollup.objects.filter(day__range=(first, last)).delete()
        LeadTiming.objects.filter(day__range=(first, last)).delete()
        cursor.execute("DROP TABLE IF EXISTS reports_facts")
        cursor.execute(
            f"CREATE TEMPORARY TABLE reports_facts AS {facts_sql()}", [start, end, start, end]
        )
        for cut, dims in CUTS.items():
            cursor.execute(cut_sql(cut, dims))
            rows += cursor.rowcount
        cursor.execute(REASONS_SQL.format(network="TRUE", dealer="NULL", group=""))
        rows += cursor.rowcount
        cursor.execute(REASONS_SQL.format(network="FALSE", dealer="dealer_id", group="dealer_id,"))
        rows += cursor.rowcount
        cursor.execute("DROP TABLE reports_facts")
        cursor.execute(timing_sql(), [start, end])
        rows += cursor.rowcount
    return rows


def _months(days: Iterable[date]) -> set[date]:
    return {day.replace(day=1) for day in days}


def month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def timing_percentiles(first: date, last: date, dealer_ids=None) -> dict[str, tuple]:
    """Per duration: (count, median, p90) in seconds over the leads created first..last,
    interpolated like PostgreSQL's percentile_cont (exact, on both backends)."""
    if connection.vendor == "postgresql":
        where, params = "day BETWEEN %s AND %s", [first, last]
        if dealer_ids is not None:
            where += " AND dealer_id = ANY(%s)"
            params.append(sorted(dealer_ids))
        parts = ", ".join(
            f"COUNT({c}), percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY {c})"
            for c in TIMINGS
        )
        with transaction.atomic(), connection.cursor() as cursor:
            # A month of the network sorts ~1M integers per duration: in memory, not on disk.
            cursor.execute("SET LOCAL work_mem = '64MB'")
            cursor.execute(f"SELECT {parts} FROM reports_leadtiming WHERE {where}", params)
            row = cursor.fetchone()
        return {
            column: (row[2 * i], *(row[2 * i + 1] or (None, None)))
            for i, column in enumerate(TIMINGS)
        }
    qs = LeadTiming.objects.filter(day__range=(first, last))
    if dealer_ids is not None:
        qs = qs.filter(dealer_id__in=dealer_ids)
    values = list(qs.values_list(*TIMINGS))
    result = {}
    for i, column in enumerate(TIMINGS):
        sample = sorted(v[i] for v in values if v[i] is not None)
        result[column] = (len(sample), percentile(sample, 0.5), percentile(sample, 0.9))
    return result


def percentile(sample: list, q: float) -> float | None:
    """percentile_cont over a sorted sample: linear interpolation between the closest ranks."""
    if not sample:
        return None
    position = q * (len(sample) - 1)
    low = int(position)
    high = min(low + 1, len(sample) - 1)
    return sample[low] + (sample[high] - sample[low]) * (position - low)


METRIC_COLUMNS = {
    MonthTiming.Metric.DISPATCH: "dispatch_seconds",
    MonthTiming.Metric.ASSIGN: "assign_seconds",
    MonthTiming.Metric.FOLLOW: "follow_seconds",
}


def _refresh_month_timing(month: date) -> None:
    figures = timing_percentiles(month, month_end(month))
    with transaction.atomic():
        for metric, column in METRIC_COLUMNS.items():
            count, p50, p90 = figures[column]
            MonthTiming.objects.update_or_create(
                month=month, metric=metric, defaults={"count": count, "p50": p50, "p90": p90}
            )


def rollups_refresh(
    *, days: Iterable[date], mode: str = RollupRun.Mode.MANUAL, actor=None
) -> RollupRun:
    """Recompute the rollups of the given local days (and the months they fall in), logging
    the run. Safe to run twice and alongside the pipeline."""
    days = sorted(set(days))
    run = RollupRun.objects.create(
        mode=mode,
        started_at=timezone.now(),
        day_from=days[0] if days else None,
        day_to=days[-1] if days else None,
        days=len(days),
        triggered_by=actor if getattr(actor, "pk", None) else None,
    )
    clock = time.perf_counter()
    try:
        for first, last in _ranges(days):
            run.rows += _refresh_range(first, last)
        for month in sorted(_months(days)):
            _refresh_month_timing(month)
    except Exception as error:
        run.error = f"{type(error).__name__}: {error}"[:2000]
        run.seconds = time.perf_counter() - clock
        run.save(update_fields=["error", "seconds", "rows"])
        logger.exception("rollup refresh failed")
        raise
    run.finished_at = timezone.now()
    run.seconds = time.perf_counter() - clock
    run.save(update_fields=["finished_at", "seconds", "rows"])
    return run


def rollups_refresh_range(
    *, first: date, last: date, mode: str = RollupRun.Mode.MANUAL, actor=None
) -> RollupRun:
    """Recompute every day from `first` to `last` (inclusive)."""
    if last < first:
        raise ValidationFailed(_("截止日期不能早于起始日期。"))
    if (last - first).days > 3700:
        raise ValidationFailed(_("一次最多重算十年。"))
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return rollups_refresh(days=days, mode=mode, actor=actor)


def last_finished_run() -> RollupRun | None:
    return (
        RollupRun.objects.filter(finished_at__isnull=False, error="")
        .order_by("-started_at")
        .first()
    )


def changed_days(since: datetime) -> set[date]:
    """The local days whose rollups may have changed since `since`: the creation day of every
    lead with an audit event since then, the receipt days of those leads' raw leads (their
    dimensions moved), and the days of raw leads received since then."""
    lead_day = local_date("l.created_at")
    raw_day = local_date("r.received_at")
    changed = "SELECT e.lead_id FROM leads_leadevent e WHERE e.created_at >= %s"
    sql = f"""
        SELECT DISTINCT {lead_day} FROM leads_lead l WHERE l.id IN ({changed})
        UNION SELECT DISTINCT {raw_day} FROM leads_rawlead r WHERE r.lead_id IN ({changed})
        UNION SELECT DISTINCT {raw_day} FROM leads_rawlead r WHERE r.received_at >= %s
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [moment(since)] * 3)
        return {_as_date(row[0]) for row in cursor.fetchall() if row[0] is not None}


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def rollups_refresh_recent(*, now: datetime | None = None) -> RollupRun:
    """Every 5 minutes: today, yesterday and the days changed since the last finished run."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    days = {today, today - timedelta(days=1)}
    last = last_finished_run()
    if last is not None:
        days |= changed_days(last.started_at - WATERMARK_OVERLAP)
    return rollups_refresh(days=days, mode=RollupRun.Mode.RECENT)


def rollups_refresh_nightly(*, now: datetime | None = None, days: int = NIGHTLY_DAYS) -> RollupRun:
    """Every night: the last `days` days in full (catches changes made outside the services)."""
    today = timezone.localdate(now or timezone.now())
    return rollups_refresh_range(
        first=today - timedelta(days=days - 1), last=today, mode=RollupRun.Mode.NIGHTLY
    )
