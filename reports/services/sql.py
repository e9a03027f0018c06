"""The SQL of the refresh, for PostgreSQL and SQLite: the facts of a day range (one row per
lead created and per raw lead received), the cuts grouped from them, the per-lead timings."""

import re
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import connection

from reports.definitions import DUPLICATE_OUTCOMES, FOLLOW_UP_WINDOW, VALID_STATUSES
from reports.models import Cut

# The dimensions of each cut (`n_*`: the network, without the dealer).
CUTS: dict[str, tuple[str, ...]] = {
    Cut.N_TOTAL: (),
    Cut.N_CHANNEL: ("channel_id",),
    Cut.N_MODEL: ("vehicle_model_id",),
    Cut.N_GRADE: ("grade",),
    Cut.N_STATUS: ("status",),
    Cut.N_CHANNEL_MODEL: ("channel_id", "vehicle_model_id"),
    Cut.D_TOTAL: ("dealer_id",),
    Cut.D_CHANNEL: ("dealer_id", "channel_id"),
    Cut.D_MODEL: ("dealer_id", "vehicle_model_id"),
    Cut.D_GRADE: ("dealer_id", "grade"),
    Cut.D_STATUS: ("dealer_id", "status"),
    Cut.D_CHANNEL_MODEL: ("dealer_id", "channel_id", "vehicle_model_id"),
    Cut.D_ADVISOR_STATUS: ("dealer_id", "advisor_id", "status"),
    Cut.D_ADVISOR_GRADE: ("dealer_id", "advisor_id", "grade"),
}
# Cross cuts that only ever show lead measures: raw leads would add rows and no figure.
LEAD_ONLY = {Cut.N_CHANNEL_MODEL, Cut.D_CHANNEL_MODEL, Cut.D_ADVISOR_GRADE}
DIMENSIONS = ("dealer_id", "advisor_id", "channel_id", "vehicle_model_id", "grade", "status")
COUNTS = (
    "raw_total",
    "raw_duplicates",
    "raw_rejected",
    "leads",
    "valid",
    "invalid",
    "dispatched",
    "assigned",
    "followed",
    "followed_24h",
    "arrived",
    "test_drives",
    "ordered",
    "defeated",
)
TIMINGS = ("dispatch_seconds", "assign_seconds", "follow_seconds")


def literal(value) -> str:
    if value is None:
        return "NULL"
    text = str(value)
    if not re.fullmatch(r"[A-Za-z0-9_/+\-:]+", text):
        raise ValueError(f"unexpected SQL literal {text!r}")
    return f"'{text}'"


def local_date(column: str) -> str:
    """The local (business) day of a timestamp column, as the backend writes it."""
    sql, params = connection.ops.datetime_cast_date_sql(column, (), settings.TIME_ZONE)
    return sql % tuple(literal(p) for p in params)


def seconds_between(start: str, end: str) -> str:
    """Whole seconds from `start` to `end` (both timestamp columns)."""
    if connection.vendor == "postgresql":
        return f"FLOOR(EXTRACT(EPOCH FROM ({end} - {start})))"
    # julianday() keeps ~10 µs; the half-millisecond nudge keeps 60.0 from truncating to 59.
    return f"CAST((julianday({end}) - julianday({start})) * 86400.0 + 0.0005 AS INTEGER)"


def within(start: str, end: str, seconds: int) -> str:
    """`end` is at most `seconds` after `start` (to the microsecond on PostgreSQL)."""
    if connection.vendor == "postgresql":
        return f"{end} <= {start} + interval '{int(seconds)} seconds'"
    return f"(julianday({end}) - julianday({start})) * 86400.0 <= {int(seconds)}"


def moment(value: datetime):
    """An aware datetime as the backend stores it (SQLite: naive UTC text), for raw SQL."""
    return connection.ops.adapt_datetimefield_value(value)


def sql_in(values: Iterable[str]) -> str:
    return "(" + ", ".join(literal(v) for v in values) + ")"


def facts_sql() -> str:
    """One row per lead created and per raw lead received in [%s, %s) / [%s, %s): its day,
    its dimensions and 0/1 for each count. Both halves share the dimension columns."""
    window = int(FOLLOW_UP_WINDOW.total_seconds())
    followed_in_time = within("l.assigned_at", "l.first_followed_at", window)
    lead_day = local_date("l.created_at")
    raw_day = local_date("r.received_at")
    return f"""
        SELECT {lead_day} AS day, l.dealer_id, l.advisor_id, l.channel_id,
            l.intended_model_id AS vehicle_model_id, l.grade, l.status,
            0 AS raw_total, 0 AS raw_duplicates, 0 AS raw_rejected, 1 AS leads,
            CASE WHEN l.status IN {sql_in(VALID_STATUSES)} THEN 1 ELSE 0 END AS valid,
            CASE WHEN l.status = 'invalid' THEN 1 ELSE 0 END AS invalid,
            CASE WHEN l.dispatched_at IS NOT NULL THEN 1 ELSE 0 END AS dispatched,
            CASE WHEN l.assigned_at IS NOT NULL THEN 1 ELSE 0 END AS assigned,
            CASE WHEN l.first_followed_at IS NOT NULL THEN 1 ELSE 0 END AS followed,
            CASE WHEN l.assigned_at IS NOT NULL AND l.first_followed_at IS NOT NULL
                AND {followed_in_time} THEN 1 ELSE 0 END AS followed_24h,
            CASE WHEN l.arrived_at IS NOT NULL THEN 1 ELSE 0 END AS arrived,
            CASE WHEN EXISTS (SELECT 1 FROM leads_followup f
                WHERE f.lead_id = l.id AND f.result = 'test_drive') THEN 1 ELSE 0 END
                AS test_drives,
            CASE WHEN l.status = 'ordered' THEN 1 ELSE 0 END AS ordered,
            CASE WHEN l.status = 'defeated' THEN 1 ELSE 0 END AS defeated,
            CASE l.status WHEN 'defeated' THEN 'defeat' WHEN 'invalid' THEN 'invalid' END
                AS reason_kind,
            CASE l.status WHEN 'defeated' THEN l.defeat_reason
                WHEN 'invalid' THEN l.invalid_reason END AS reason
        FROM leads_lead l
        WHERE l.created_at >= %s AND l.created_at < %s
        UNION ALL
        SELECT {raw_day}, l.dealer_id, l.advisor_id, r.channel_id,
            l.intended_model_id, l.grade, l.status,
            1, CASE WHEN r.outcome IN {sql_in(DUPLICATE_OUTCOMES)} THEN 1 ELSE 0 END,
            CASE WHEN r.outcome = 'invalid' THEN 1 ELSE 0 END,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            CASE WHEN r.outcome = 'invalid' THEN 'rejected' END,
            CASE WHEN r.outcome = 'invalid' THEN
                COALESCE(NULLIF(r.outcome_detail, ''), r.outcome_reason) END
        FROM leads_rawlead r LEFT JOIN leads_lead l ON l.id = r.lead_id
        WHERE r.received_at >= %s AND r.received_at < %s
    """


def timing_sql() -> str:
    dispatch = seconds_between("l.created_at", "l.dispatched_at")
    assign = seconds_between("l.dispatched_at", "l.assigned_at")
    follow = seconds_between("l.assigned_at", "l.first_followed_at")
    return f"""
        INSERT INTO reports_leadtiming
            (lead_id, day, dealer_id, dispatch_seconds, assign_seconds, follow_seconds)
        SELECT l.id, {local_date("l.created_at")}, l.dealer_id,
            CASE WHEN l.dispatched_at >= l.created_at THEN {dispatch} END,
            CASE WHEN l.assigned_at >= l.dispatched_at THEN {assign} END,
            CASE WHEN l.first_followed_at >= l.assigned_at THEN {follow} END
        FROM leads_lead l
        WHERE l.created_at >= %s AND l.created_at < %s AND l.dispatched_at IS NOT NULL
    """


def cut_sql(cut: str, dims: tuple[str, ...]) -> str:
    columns = ", ".join(d if d in dims else "NULL" for d in DIMENSIONS)
    sums = ", ".join(f"SUM({c})" for c in COUNTS)
    group = ", ".join(("day", *dims))
    where = "WHERE leads = 1" if cut in LEAD_ONLY else ""
    return f"""
        INSERT INTO reports_leadrollup (day, cut, {", ".join(DIMENSIONS)}, {", ".join(COUNTS)})
        SELECT day, {literal(cut)}, {columns}, {sums}
        FROM reports_facts {where} GROUP BY {group}
    """


REASONS_SQL = """
    INSERT INTO reports_reasonrollup (day, network, dealer_id, kind, reason, count)
    SELECT day, {network}, {dealer}, reason_kind, COALESCE(reason, ''), COUNT(*)
    FROM reports_facts WHERE reason_kind IS NOT NULL
    GROUP BY day, {group} reason_kind, COALESCE(reason, '')
"""
