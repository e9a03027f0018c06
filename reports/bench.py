"""`manage.py bench --only reports`: the HQ dashboard over millions of leads.

The leads are generated inside PostgreSQL (INSERT … SELECT over generate_series, with the
demo network's real channel, dealer, advisor and model ids): no Python per row, so 10M leads
plus their customers, raw leads and test-drive follow-ups load in minutes on two cores, faster
than COPY from a Python generator could feed them. Secondary indexes are dropped during the
load and rebuilt after it, as PostgreSQL's manual advises for bulk loads.

Figures, for each size (cumulative: 1M, then 3M, then 10M leads spread over the 12 months
before this one, so a month holds 1/12 of them):
- report_rollup_rebuild_<n>_seconds: rebuilding every rollup of the year;
- report_month_<n>_seconds: the HQ dashboard page (every figure, rendered: what the browser
  waits for) for the last full month, all dealers, warm, median of 5; `_cold` is the first
  request after the rebuild; `_data_seconds` the figures without the template;
- report_region_month_<n>_seconds / report_dealer_month_<n>_seconds: the same page narrowed to
  a region and to one dealer;
- report_refresh_2days_<n>_seconds: recomputing two full days and their month (what the
  5-minute refresh does on a busy day); report_refresh_recent_<n>_seconds: the 5-minute
  refresh itself here (today and yesterday are empty: the leads end last month).
"""

import os
import statistics
import time
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client, override_settings
from django.utils import timezone

from channels.models import Channel
from dealers.models import Advisor, Dealer, Region
from leads.models import FollowUp, Lead, VehicleModel
from reports.dashboard import build_dashboard
from reports.drill import AdminLinks
from reports.scope import ALL, ReportScope
from reports.selectors import ReportQuery
from reports.services import month_end, rollups_refresh_range, rollups_refresh_recent

SIZES = tuple(
    int(s) for s in os.environ.get("REPORTS_BENCH_SIZES", "1000000,3000000,10000000").split(",")
)
PREFIX = "16"  # generated customers' mobiles: 16 + nine digits (no other generator uses 16x)
BULK_TABLES = ("leads_customer", "leads_lead", "leads_rawlead", "leads_followup")

# Status mix of a year of leads (cumulative shares).
STATUS_MIX = (
    ("new", 0.01),
    ("cleansing", 0.04),
    ("qualified", 0.05),
    ("invalid", 0.15),
    ("nurturing", 0.20),
    ("archived", 0.22),
    ("dispatched", 0.25),
    ("assigned", 0.30),
    ("following", 0.52),
    ("invited", 0.57),
    ("arrived", 0.62),
    ("test_drive", 0.65),
    ("ordered", 0.74),
    ("defeat_requested", 0.75),
    ("defeated", 0.95),
    ("silenced", 0.96),
    ("released", 0.98),
    ("recalled", 1.01),
)
AT_HQ = ("new", "cleansing", "invalid", "nurturing", "archived")
OWNED = (
    "assigned",
    "following",
    "invited",
    "arrived",
    "test_drive",
    "defeat_requested",
    "silenced",
)
WITH_ADVISOR = (*OWNED, "ordered", "defeated")
ASSIGNED = (*WITH_ADVISOR, "released", "recalled")
FOLLOWED = tuple(s for s in ASSIGNED if s != "assigned")
INVALID_REASONS = (
    "空号/停机",
    "多次未接通，无法联系",
    "非本人留资",
    "无购车意向",
    "同行/竞品调研",
    "测试数据",
    "已购车",
    "其他",
)
DEFEAT_REASONS = (
    "已购竞品",
    "价格/优惠不满意",
    "暂缓购车",
    "预算不足",
    "长期无法联系",
    "已在其他经销商购买本品牌",
    "其他",
)


def _in(values) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _status_case() -> str:
    whens = " ".join(f"WHEN x.r_status < {share} THEN '{status}'" for status, share in STATUS_MIX)
    return f"CASE {whens} END"


def _log_uniform(r: str, low: int, high: int) -> str:
    """Seconds, log-uniform between low and high (lead timings have long tails)."""
    return f"exp(ln({low}) + {r} * (ln({high}) - ln({low}))) * interval '1 second'"


def _defaults(model, given: set[str]) -> tuple[list[str], list]:
    """Columns of `model` the generator does not set, with their Django defaults: columns added
    by later migrations get a valid value without touching this file."""
    columns, values = [], []
    for field in model._meta.concrete_fields:
        if field.column in given or field.primary_key:
            continue
        columns.append(field.column)
        values.append(field.get_db_prep_save(field.get_default(), connection))
    return columns, values


def _lead_select() -> tuple[dict[str, str], str]:
    s = "st.status"
    dispatched = f"LEAST(x.t0 + {_log_uniform('x.r_d1', 60, 172800)}, now())"
    assigned = f"LEAST(t1.dispatched + {_log_uniform('x.r_d2', 30, 86400)}, now())"
    followed = f"LEAST(t2.assigned + {_log_uniform('x.r_d3', 60, 259200)}, now())"
    grade = (
        f"CASE WHEN {s} = 'ordered' THEN 'O' WHEN {s} = 'defeated' THEN 'F' "
        f"WHEN {s} IN ('new', 'cleansing', 'invalid') THEN '' "
        f"WHEN {s} IN ('nurturing', 'archived') THEN 'N' "
        "WHEN x.r_grade < 0.15 THEN 'H' WHEN x.r_grade < 0.5 THEN 'A' "
        "WHEN x.r_grade < 0.85 THEN 'B' ELSE 'C' END"
    )
    at_dealer = f"{s} NOT IN {_in(AT_HQ)}"
    expressions = {
        "customer_id": "x.customer_id",
        "created_at": "x.t0",
        "status": s,
        "grade": grade,
        "channel_id": "(%(channels)s::bigint[])[1 + floor(power(x.r_ch, 2) * %(n_channels)s)::int]",
        "dealer_id": f"CASE WHEN {at_dealer} THEN dl.id END",
        "consent_dealer_id": f"CASE WHEN {at_dealer} THEN dl.id END",
        "consent_at": f"CASE WHEN {at_dealer} THEN x.t0 END",
        "advisor_id": (
            f"CASE WHEN {s} IN {_in(WITH_ADVISOR)} THEN "
            "ad.ids[1 + floor(x.r_adv * array_length(ad.ids, 1))::int] END"
        ),
        "intended_model_id": (
            "CASE WHEN x.r_model < 0.9 THEN (%(models)s::bigint[])"
            "[1 + floor(power(x.r_model / 0.9, 1.5) * %(n_models)s)::int] END"
        ),
        "score": "floor(40 + x.r_grade * 60)::int",
        "score_breakdown": "'[]'::jsonb",
        "duplicate_count": (
            "CASE WHEN x.r_dup < 0.12 THEN 1 WHEN x.r_dup < 0.15 THEN 2 "
            "WHEN x.r_dup < 0.16 THEN 3 ELSE 0 END"
        ),
        "is_reactivated": "x.r_dup > 0.985",
        "qualified_at": (
            f"CASE WHEN {s} = 'qualified' THEN x.t0 + interval '30 minutes' "
            f"WHEN {at_dealer} THEN x.t0 + (tm.dispatched - x.t0) / 2 END"
        ),
        "dispatched_at": f"CASE WHEN {at_dealer} AND {s} <> 'qualified' THEN tm.dispatched END",
        "eligible_at": f"CASE WHEN {at_dealer} AND {s} <> 'qualified' THEN tm.dispatched END",
        "dispatch_latency_ms": (
            f"CASE WHEN {at_dealer} AND {s} <> 'qualified' THEN floor(x.r_reason * 1500)::int END"
        ),
        "assigned_at": f"CASE WHEN {s} IN {_in(ASSIGNED)} THEN tm.assigned END",
        "first_followed_at": f"CASE WHEN {s} IN {_in(FOLLOWED)} THEN tm.followed END",
        "last_activity_at": f"CASE WHEN {s} IN {_in(FOLLOWED)} THEN tm.followed END",
        "arrived_at": (
            f"CASE WHEN {s} IN ('arrived', 'test_drive') OR ({s} = 'ordered' AND x.r_arr < 0.7) "
            f"OR ({s} = 'defeated' AND x.r_arr < 0.2) "
            "THEN LEAST(tm.followed + (1 + x.r_arr * 9) * interval '1 day', now()) END"
        ),
        "ordered_at": (
            f"CASE WHEN {s} = 'ordered' "
            "THEN LEAST(tm.followed + (3 + x.r_d1 * 27) * interval '1 day', now()) END"
        ),
        "defeated_at": (
            f"CASE WHEN {s} = 'defeated' "
            "THEN LEAST(tm.followed + (5 + x.r_d2 * 35) * interval '1 day', now()) END"
        ),
        "invalid_reason": (
            f"CASE WHEN {s} = 'invalid' THEN (%(invalid_reasons)s::text[])"
            f"[1 + floor(x.r_reason * {len(INVALID_REASONS)})::int] ELSE '' END"
        ),
        "defeat_reason": (
            f"CASE WHEN {s} IN ('defeated', 'defeat_requested') THEN (%(defeat_reasons)s::text[])"
            f"[1 + floor(x.r_reason * {len(DEFEAT_REASONS)})::int] ELSE '' END"
        ),
        "status_before_silence": f"CASE WHEN {s} = 'silenced' THEN 'following' ELSE '' END",
        "updated_at": "now()",
    }
    randoms = ", ".join(
        f"random() AS {r}"
        for r in (
            "r_status",
            "r_dealer",
            "r_adv",
            "r_ch",
            "r_model",
            "r_grade",
            "r_d1",
            "r_d2",
            "r_d3",
            "r_dup",
            "r_arr",
            "r_reason",
        )
    )
    source = f"""
        FROM (SELECT c.id AS customer_id, c.created_at AS t0, {randoms}
              FROM leads_customer c WHERE c.id > %(customer_base)s) x
        CROSS JOIN LATERAL (SELECT {_status_case()} AS status) st
        CROSS JOIN LATERAL (SELECT (%(dealers)s::bigint[])
            [1 + floor(power(x.r_dealer, 1.3) * %(n_dealers)s)::int] AS id) dl
        LEFT JOIN bench_advisors ad ON ad.dealer_id = dl.id
        CROSS JOIN LATERAL (SELECT {dispatched} AS dispatched) t1
        CROSS JOIN LATERAL (SELECT t1.dispatched, {assigned} AS assigned) t2
        CROSS JOIN LATERAL (SELECT t2.dispatched, t2.assigned, {followed} AS followed) tm
    """
    return expressions, source


def _drop_indexes(cursor) -> list[str]:
    cursor.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " WHERE i.indrelid = ANY(%s::regclass[])"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        [list(BULK_TABLES)],
    )
    indexes = cursor.fetchall()
    for name, _sql in indexes:
        cursor.execute(f"DROP INDEX {name}")
    return [sql for _name, sql in indexes]


def seed_leads(n: int, *, first: date, last: date) -> dict:
    """Add `n` leads created between the local days first..last, each with its customer, one
    raw lead, its merged duplicates, 5% invalid raw leads, and test-drive follow-ups."""
    channels = list(
        Channel.objects.filter(level=Channel.Level.SOURCE)
        .order_by("sort_order", "code")
        .values_list("pk", flat=True)
    )
    dealers = list(Dealer.objects.order_by("code").values_list("pk", flat=True))
    models = list(VehicleModel.objects.order_by("code").values_list("pk", flat=True))
    start = timezone.make_aware(datetime.combine(first, datetime.min.time()))
    span = ((last - first).days + 1) * 86400
    clock = time.perf_counter()
    expressions, source = _lead_select()
    # One transaction: a failed load leaves the tables and their indexes as they were.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        superuser = cursor.fetchone()[0]
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        cursor.execute("SET LOCAL max_parallel_maintenance_workers = 2")
        if superuser:  # ids are valid by construction: skip the per-row foreign-key triggers
            cursor.execute("SET LOCAL session_replication_role = replica")
        indexes = _drop_indexes(cursor)
        cursor.execute(
            "SELECT COALESCE(MAX(id), 0), COALESCE(MAX(substr(mobile, 3)::bigint) FILTER"
            " (WHERE mobile LIKE %s), 0) FROM leads_customer",
            [PREFIX + "%"],
        )
        customer_base, mobile_base = cursor.fetchone()
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM leads_lead")
        lead_base = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO leads_customer (mobile, name, province, city, created_at, updated_at)"
            " SELECT %s || lpad((%s + g)::text, 9, '0'), '', '', '', t, now() FROM"
            " (SELECT g, %s::timestamptz + random() * %s * interval '1 second' AS t"
            "  FROM generate_series(1, %s) g) s",
            [PREFIX, mobile_base, start, span, n],
        )
        cursor.execute("DROP TABLE IF EXISTS bench_advisors")
        cursor.execute(
            "CREATE TEMP TABLE bench_advisors AS SELECT dealer_id, array_agg(id ORDER BY id) AS ids"
            " FROM dealers_advisor WHERE role = %s AND is_active GROUP BY dealer_id",
            [Advisor.Role.ADVISOR],
        )
        extra_columns, extra_values = _defaults(Lead, set(expressions))
        columns = [*expressions, *extra_columns]
        values = [*expressions.values(), *(f"%(extra_{i})s" for i in range(len(extra_values)))]
        params = {
            "customer_base": customer_base,
            "channels": channels,
            "n_channels": len(channels),
            "dealers": dealers,
            "n_dealers": len(dealers),
            "models": models,
            "n_models": len(models),
            "invalid_reasons": list(INVALID_REASONS),
            "defeat_reasons": list(DEFEAT_REASONS),
            **{f"extra_{i}": v for i, v in enumerate(extra_values)},
        }
        cursor.execute(
            f"INSERT INTO leads_lead ({', '.join(columns)}) SELECT {', '.join(values)} {source}",
            params,
        )
        cursor.execute(
            """INSERT INTO leads_rawlead (external_id, source, payload, received_at, mobile,
                outcome, outcome_reason, outcome_detail, channel_id, customer_id, lead_id,
                submitted_by_id)
            SELECT NULL::varchar, 'api', '{}'::jsonb, l.created_at, c.mobile, 'new', '', '',
                l.channel_id, l.customer_id, l.id, NULL::integer
            FROM leads_lead l JOIN leads_customer c ON c.id = l.customer_id WHERE l.id > %s
            UNION ALL
            SELECT NULL, 'api', '{}'::jsonb,
                LEAST(l.created_at + random() * interval '20 days', now()), c.mobile,
                CASE WHEN l.is_reactivated THEN 'reactivated' ELSE 'merged' END, '', '',
                (%s::bigint[])[1 + floor(random() * %s)::int], l.customer_id, l.id, NULL
            FROM leads_lead l JOIN leads_customer c ON c.id = l.customer_id
            CROSS JOIN LATERAL generate_series(1, l.duplicate_count) g
            WHERE l.id > %s AND l.duplicate_count > 0
            UNION ALL
            SELECT NULL, 'api', '{}'::jsonb, %s::timestamptz + random() * %s * interval '1 second',
                '', 'invalid', 'invalid_mobile', '手机号不是有效的中国大陆手机号',
                (%s::bigint[])[1 + floor(random() * %s)::int], NULL::bigint, NULL::bigint,
                NULL::integer
            FROM generate_series(1, %s)""",
            [
                lead_base,
                channels,
                len(channels),
                lead_base,
                start,
                span,
                channels,
                len(channels),
                n // 20,
            ],
        )
        given = {
            "lead_id": "l.id",
            "advisor_id": "l.advisor_id",
            "method": "'store'",
            "result": "'test_drive'",
            "grade_after": "l.grade",
            "created_at": "COALESCE(l.arrived_at, l.first_followed_at)",
        }
        extra_columns, extra_values = _defaults(FollowUp, set(given))
        columns = [*given, *extra_columns]
        values = [*given.values(), *(["%s"] * len(extra_values))]
        cursor.execute(
            f"""INSERT INTO leads_followup ({", ".join(columns)})
            SELECT {", ".join(values)} FROM leads_lead l
            WHERE l.id > %s AND l.advisor_id IS NOT NULL
                AND (l.status = 'test_drive' OR (l.arrived_at IS NOT NULL AND l.id %% 3 <> 0))""",
            [*extra_values, lead_base],
        )
        loaded = time.perf_counter() - clock
        for sql in indexes:
            cursor.execute(sql)
        cursor.execute("ANALYZE " + ", ".join(BULK_TABLES))
    return {"rows_seconds": loaded, "total_seconds": time.perf_counter() - clock}


def _timed(function, repeat: int = 5) -> tuple[float, float]:
    """(first run, median of the next `repeat` runs) in seconds."""
    clock = time.perf_counter()
    function()
    first = time.perf_counter() - clock
    runs = []
    for _n in range(repeat):
        clock = time.perf_counter()
        function()
        runs.append(time.perf_counter() - clock)
    return first, statistics.median(runs)


def _plain_static():
    """The bench renders pages without `collectstatic` (production uses a manifest)."""
    plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    return override_settings(STORAGES={**settings.STORAGES, "staticfiles": plain})


def _label(n: int) -> str:
    return f"{n // 1_000_000}m" if n % 1_000_000 == 0 else f"{n // 1000}k"


def _measure_pages(client, network, month, region, dealer, label: str) -> dict:
    """The page as HQ gets it (queries, figures, template), and the figures alone."""

    def page(**narrow):
        params = {"start": month[0], "end": month[1], **narrow}
        response = client.get("/admin/reports/dashboard/", params)
        assert response.status_code == 200, response.status_code
        return len(response.content)

    def data():
        q = ReportQuery(scope=network, start=month[0], end=month[1])
        return build_dashboard(q, AdminLinks())

    with _plain_static():
        cold, warm = _timed(page)
        return {
            f"report_month_{label}_seconds": warm,
            f"report_month_{label}_cold_seconds": cold,
            f"report_page_bytes_{label}": page(),
            f"report_region_month_{label}_seconds": _timed(lambda: page(region=region.pk))[1],
            f"report_dealer_month_{label}_seconds": _timed(lambda: page(dealer=dealer.pk))[1],
            f"report_month_{label}_data_seconds": _timed(data)[1],
        }


def bench_reports(sizes: tuple[int, ...] = SIZES) -> dict:
    if connection.vendor != "postgresql":
        return {"report_skipped": "PostgreSQL only"}
    today = timezone.localdate()
    this_month = today.replace(day=1)
    month_start = (this_month - timedelta(days=1)).replace(day=1)
    first = (this_month - timedelta(days=365)).replace(day=1)
    last = this_month - timedelta(days=1)
    region = Region.objects.order_by("code").first()
    dealer = Dealer.objects.order_by("code").first()
    network = ReportScope(ALL, label="bench")
    month = (month_start, month_end(month_start))
    figures: dict = {"report_month": f"{month[0]:%Y-%m}", "report_span": f"{first} ~ {last}"}
    loaded = Lead.objects.count()
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(get_user_model().objects.filter(is_superuser=True).order_by("pk").first())
    for size in sizes:
        if size > loaded:
            seeded = seed_leads(size - loaded, first=first, last=last)
            figures[f"report_seed_{_label(size)}_seconds"] = seeded["total_seconds"]
            figures[f"report_seed_{_label(size)}_rows_per_s"] = (size - loaded) / seeded[
                "rows_seconds"
            ]
            loaded = size
        label = _label(size)
        run = rollups_refresh_range(first=first, last=today)
        figures[f"report_rollup_rebuild_{label}_seconds"] = run.seconds
        figures[f"report_rollup_rows_{label}"] = run.rows
        with connection.cursor() as cursor:  # what autovacuum would do after a backfill
            cursor.execute("ANALYZE reports_leadrollup, reports_leadtiming, reports_reasonrollup")

        figures.update(_measure_pages(client, network, month, region, dealer, label))
        # The 5-minute refresh recomputes two busy days (today, yesterday) and their month.
        busy = rollups_refresh_range(first=last - timedelta(days=1), last=last)
        figures[f"report_refresh_2days_{label}_seconds"] = busy.seconds
        clock = time.perf_counter()
        rollups_refresh_recent()
        figures[f"report_refresh_recent_{label}_seconds"] = time.perf_counter() - clock
    labels = [_label(s) for s in sizes]
    if len(labels) > 1:
        small, big = labels[0], labels[-1]
        figures["report_growth_leads"] = sizes[-1] / sizes[0]
        figures["report_growth_month_seconds"] = (
            figures[f"report_month_{big}_seconds"] / figures[f"report_month_{small}_seconds"]
        )
    return figures
