"""Reads of the rollups: KPIs of a period and a scope, cut by one or two dimensions.

Every function reads `LeadRollup` rows of one cut: the network rows (`n_*`) when the report
covers every dealer, else the dealer rows (`d_*`) of the dealers in scope. A month of the whole
network is a few thousand rows whatever the number of leads.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from channels.models import Channel
from dealers.models import Advisor, Dealer, Region
from leads.models import Status, VehicleModel
from reports.definitions import GRADE_LABELS, MEASURE_KEYS, NULL, UNRATED, Kpis
from reports.models import Cut, LeadRollup, MonthTiming, ReasonRollup
from reports.scope import ReportScope
from reports.services import METRIC_COLUMNS, month_end, timing_percentiles

SUMS = {key: Sum(key) for key in MEASURE_KEYS}
GRAINS = ("day", "week", "month")


@dataclass(frozen=True)
class ReportQuery:
    """A period (local days, inclusive), a grain for the series, and who is looking."""

    scope: ReportScope
    start: date
    end: date
    grain: str = "day"
    region_id: int | None = None  # narrows the scope to one region
    dealer_id: int | None = None  # narrows the scope to one dealer
    channel_level: int = 2

    @property
    def network(self) -> bool:
        """Every dealer and HQ: read the network rows."""
        return self.scope.is_network and not self.region_id and not self.dealer_id

    @cached_property
    def dealer_ids(self) -> frozenset[int] | None:
        """The dealers counted, None for the whole network (HQ's own leads included)."""
        if self.dealer_id:
            return frozenset([self.dealer_id])
        if self.region_id:
            ids = frozenset(
                Dealer.objects.filter(region_id=self.region_id).values_list("pk", flat=True)
            )
            return ids if self.scope.is_network else ids & self.scope.dealer_ids
        return None if self.scope.is_network else self.scope.dealer_ids

    @property
    def compare_by(self) -> str:
        """The level below the report's scope: regions for the network, dealers for a region,
        advisors for one dealer."""
        if self.dealer_id or (self.dealer_ids is not None and len(self.dealer_ids) == 1):
            return "advisor"
        if self.network:
            return "region"
        return "dealer"


@dataclass
class Row:
    label: str
    key: dict
    kpis: Kpis = field(default_factory=Kpis)


def _rows(q: ReportQuery, network_cut: str | None, dealer_cut: str):
    qs = LeadRollup.objects.filter(day__range=(q.start, q.end))
    if q.network and network_cut:
        return qs.filter(cut=network_cut)
    qs = qs.filter(cut=dealer_cut)
    return qs if q.dealer_ids is None else qs.filter(dealer_id__in=q.dealer_ids)


def _grouped(qs, *dims: str) -> list[dict]:
    return list(qs.values(*dims).annotate(**SUMS).order_by())


def kpi_totals(q: ReportQuery) -> Kpis:
    return Kpis(_rows(q, Cut.N_TOTAL, Cut.D_TOTAL).aggregate(**SUMS))


def period_of(day: date, grain: str) -> date:
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day


def _next_period(start: date, grain: str) -> date:
    if grain == "week":
        return start + timedelta(days=7)
    if grain == "month":
        return month_end(start) + timedelta(days=1)
    return start + timedelta(days=1)


def kpi_series(q: ReportQuery) -> list[Row]:
    """One row per day, week (from Monday) or month of the period, empty ones included."""
    by_day = _grouped(_rows(q, Cut.N_TOTAL, Cut.D_TOTAL), "day")
    totals: dict[date, Kpis] = defaultdict(Kpis)
    for row in by_day:
        totals[period_of(row["day"], q.grain)] += Kpis(row)
    rows = []
    period = period_of(q.start, q.grain)
    while period <= q.end:
        following = _next_period(period, q.grain)
        first, last = max(period, q.start), min(following - timedelta(days=1), q.end)
        label = {
            "day": f"{first:%m-%d}",
            "week": f"{first:%m-%d}~{last:%m-%d}",
            "month": f"{period:%Y-%m}",
        }[q.grain]
        rows.append(Row(label, {"start": first, "end": last}, totals.get(period, Kpis())))
        period = following
    return rows


def _channel_tree() -> dict[int, Channel]:
    return {c.pk: c for c in Channel.objects.only("pk", "name", "level", "parent_id", "code")}


def ancestor_at(channels: dict[int, Channel], channel_id: int | None, level: int) -> int | None:
    node = channels.get(channel_id)
    while node is not None and node.level > level:
        node = channels.get(node.parent_id)
    return node.pk if node is not None else None


def channel_label(channels: dict[int, Channel], channel_id: int | None) -> str:
    names, node = [], channels.get(channel_id)
    while node is not None:
        names.append(node.name)
        node = channels.get(node.parent_id)
    return " › ".join(reversed(names)) or _("未知渠道")


def kpi_by_channel(q: ReportQuery, level: int | None = None) -> list[Row]:
    """Per channel at level 1, 2 or 3 (raw leads by the channel they came from, leads by their
    first channel)."""
    level = level or q.channel_level
    channels = _channel_tree()
    totals: dict[int | None, Kpis] = defaultdict(Kpis)
    for row in _grouped(_rows(q, Cut.N_CHANNEL, Cut.D_CHANNEL), "channel_id"):
        totals[ancestor_at(channels, row["channel_id"], level)] += Kpis(row)
    rows = [
        Row(
            channel_label(channels, cid),
            {"channel": cid if cid is not None else NULL, "channel_level": level},
            kpis,
        )
        for cid, kpis in totals.items()
    ]
    return sorted(rows, key=lambda r: (-r.kpis["raw_total"], -r.kpis["leads"], r.label))


def kpi_by_dealer(q: ReportQuery) -> list[Row]:
    """Per dealer in scope; leads still at HQ are one row of their own (network only)."""
    grouped = _grouped(_rows(q, None, Cut.D_TOTAL), "dealer_id")
    dealers = Dealer.objects.select_related("region").in_bulk(
        [r["dealer_id"] for r in grouped if r["dealer_id"]]
    )
    rows = []
    for row in grouped:
        dealer = dealers.get(row["dealer_id"])
        label = f"{dealer.name}（{dealer.code}）" if dealer else _("总部（未下发经销商）")
        rows.append(
            Row(
                label,
                {
                    "dealer": dealer.pk if dealer else NULL,
                    "region_id": dealer.region_id if dealer else None,
                    "region_name": dealer.region.name if dealer else _("总部"),
                },
                Kpis(row),
            )
        )
    return sorted(rows, key=lambda r: (-r.kpis["leads"], r.label))


def kpi_by_region(q: ReportQuery, by_dealer: list[Row] | None = None) -> list[Row]:
    by_dealer = kpi_by_dealer(q) if by_dealer is None else by_dealer
    totals: dict[int | None, Row] = {}
    for row in by_dealer:
        region_id = row.key["region_id"]
        if region_id not in totals:
            key = {"region": region_id} if region_id else {"dealer": NULL}
            totals[region_id] = Row(row.key["region_name"], key)
        totals[region_id].kpis += row.kpis
    return sorted(totals.values(), key=lambda r: (-r.kpis["leads"], r.label))


def kpi_by_advisor(q: ReportQuery) -> list[Row]:
    """Per advisor of the dealers in scope (leads not yet with an advisor: one row)."""
    grouped = _grouped(_rows(q, None, Cut.D_ADVISOR_STATUS), "advisor_id")
    advisors = Advisor.objects.select_related("dealer").in_bulk(
        [r["advisor_id"] for r in grouped if r["advisor_id"]]
    )
    single_dealer = q.dealer_ids is not None and len(q.dealer_ids) == 1
    rows = []
    for row in grouped:
        advisor = advisors.get(row["advisor_id"])
        if advisor is None:
            label = _("未分配顾问")
        elif single_dealer:
            label = advisor.name
        else:
            label = f"{advisor.name}（{advisor.dealer.name}）"
        rows.append(Row(label, {"advisor": advisor.pk if advisor else NULL}, Kpis(row)))
    return sorted(rows, key=lambda r: (r.key["advisor"] == NULL, -r.kpis["leads"], r.label))


def kpi_by_model(q: ReportQuery) -> list[Row]:
    grouped = _grouped(_rows(q, Cut.N_MODEL, Cut.D_MODEL), "vehicle_model_id")
    models = VehicleModel.objects.in_bulk([r["vehicle_model_id"] for r in grouped])
    rows = []
    for row in grouped:
        model = models.get(row["vehicle_model_id"])
        rows.append(
            Row(
                model.name if model else _("未指定车型"),
                {"model": model.pk if model else NULL},
                Kpis(row),
            )
        )
    return sorted(rows, key=lambda r: (-r.kpis["leads"], r.label))


def kpi_by_grade(q: ReportQuery) -> list[Row]:
    grouped = {r["grade"]: Kpis(r) for r in _grouped(_rows(q, Cut.N_GRADE, Cut.D_GRADE), "grade")}
    rows = []
    for grade, label in GRADE_LABELS.items():
        if grade in grouped:
            rows.append(Row(str(label), {"grade": grade or UNRATED}, grouped.pop(grade)))
    if None in grouped:  # raw leads without a lead (rejected at intake): no drill-down key
        rows.append(Row(_("—（入库无效）"), None, grouped.pop(None)))
    return rows


def kpi_by_status(q: ReportQuery) -> list[Row]:
    grouped = {
        r["status"]: Kpis(r) for r in _grouped(_rows(q, Cut.N_STATUS, Cut.D_STATUS), "status")
    }
    return [
        Row(str(label), {"status": value}, grouped[value])
        for value, label in Status.choices
        if value in grouped and grouped[value]["leads"]
    ]


@dataclass
class Cross:
    """A two-dimension table: rows × columns of one measure."""

    measure: str
    columns: list[tuple[dict, str]]  # (key, label)
    rows: list[tuple[Row, dict]]  # (row, {column index: count})

    def column_totals(self) -> list[int]:
        return [sum(cells.get(i, 0) for _row, cells in self.rows) for i in range(len(self.columns))]


def _compare_labels(q: ReportQuery, ids: list) -> tuple[str, dict]:
    """The compare dimension's key field and {id: label} for the ids found (None: at HQ or
    without an advisor)."""
    if q.compare_by == "advisor":
        names = dict(Advisor.objects.filter(pk__in=[i for i in ids if i]).values_list("pk", "name"))
        return "advisor", {**names, None: _("未分配顾问")}
    if q.compare_by == "region":
        names = dict(Region.objects.filter(pk__in=[i for i in ids if i]).values_list("pk", "name"))
        return "region", {**names, None: _("总部")}
    names = dict(Dealer.objects.filter(pk__in=[i for i in ids if i]).values_list("pk", "name"))
    return "dealer", {**names, None: _("总部")}


def _cross_by_compare(q: ReportQuery, dealer_cut, advisor_cut, column: str, measure: str, columns):
    """The compare dimension (region, dealer or advisor) × `column`, counting `measure`."""
    if q.compare_by == "advisor":
        qs, group = _rows(q, None, advisor_cut), "advisor_id"
    elif q.compare_by == "region":
        qs, group = _rows(q, None, dealer_cut), "dealer__region_id"
    else:
        qs, group = _rows(q, None, dealer_cut), "dealer_id"
    grouped = list(qs.values(group, column).annotate(n=Sum(measure)).filter(n__gt=0).order_by())
    field_name, labels = _compare_labels(q, [r[group] for r in grouped])
    index = {value: i for i, (value, _label) in enumerate(columns)}
    rows: dict = {}
    for row in grouped:
        if row[column] not in index:
            continue
        key = row[group]
        if key is None:  # leads at HQ, or not yet with an advisor
            row_key = {"advisor": NULL} if field_name == "advisor" else {"dealer": NULL}
        else:
            row_key = {field_name: key}
        entry = rows.setdefault(key, (Row(str(labels.get(key, key)), row_key), defaultdict(int)))
        entry[0].kpis.counts[measure] += row["n"]
        entry[1][index[row[column]]] += row["n"]
    ordered = sorted(
        rows.values(), key=lambda e: (NULL in e[0].key.values(), -e[0].kpis[measure], e[0].label)
    )
    used = sorted({i for _row, cells in ordered for i in cells})
    remap = {old: new for new, old in enumerate(used)}
    return Cross(
        measure=measure,
        columns=[columns[i] for i in used],
        rows=[(row, {remap[i]: n for i, n in cells.items()}) for row, cells in ordered],
    )


def status_cross(q: ReportQuery) -> Cross:
    """Leads by the compare dimension × status (seed 001: 销售顾问 × 线索状态)."""
    columns = [(value, str(label)) for value, label in Status.choices]
    cross = _cross_by_compare(q, Cut.D_STATUS, Cut.D_ADVISOR_STATUS, "status", "leads", columns)
    cross.columns = [({"status": value}, label) for value, label in cross.columns]
    return cross


def grade_mix(q: ReportQuery) -> Cross:
    """Valid leads by the compare dimension × grade (级别分析: grade mix per advisor)."""
    columns = [(grade, str(label)) for grade, label in GRADE_LABELS.items()]
    cross = _cross_by_compare(q, Cut.D_GRADE, Cut.D_ADVISOR_GRADE, "grade", "valid", columns)
    cross.columns = [({"grade": value or UNRATED}, label) for value, label in cross.columns]
    return cross


def channel_model(q: ReportQuery, level: int | None = None) -> Cross:
    """Valid leads by channel (at a level) × intended model (车型分布 by 接触渠道)."""
    level = level or q.channel_level
    channels = _channel_tree()
    grouped = _grouped(
        _rows(q, Cut.N_CHANNEL_MODEL, Cut.D_CHANNEL_MODEL), "channel_id", "vehicle_model_id"
    )
    models = VehicleModel.objects.in_bulk([r["vehicle_model_id"] for r in grouped])
    model_totals: dict = defaultdict(int)
    cells: dict = defaultdict(lambda: defaultdict(int))
    for row in grouped:
        if not row["valid"]:
            continue
        cid = ancestor_at(channels, row["channel_id"], level)
        model_totals[row["vehicle_model_id"]] += row["valid"]
        cells[cid][row["vehicle_model_id"]] += row["valid"]
    model_order = sorted(model_totals, key=lambda m: (m is None, -model_totals[m]))
    index = {m: i for i, m in enumerate(model_order)}
    columns = [
        (
            {"model": m if m is not None else NULL},
            models[m].name if m in models else _("未指定车型"),
        )
        for m in model_order
    ]
    rows = []
    for cid, per_model in cells.items():
        row = Row(
            channel_label(channels, cid),
            {"channel": cid if cid is not None else NULL, "channel_level": level},
            Kpis({"valid": sum(per_model.values())}),
        )
        rows.append((row, {index[m]: n for m, n in per_model.items()}))
    rows.sort(key=lambda e: (-e[0].kpis["valid"], e[0].label))
    return Cross(measure="valid", columns=columns, rows=rows)


def reasons(q: ReportQuery, kinds: tuple[str, ...]) -> list[tuple[str, str, int]]:
    """(kind, reason, count), the most frequent first."""
    qs = ReasonRollup.objects.filter(day__range=(q.start, q.end), kind__in=kinds)
    if q.network:
        qs = qs.filter(network=True)
    else:
        qs = qs.filter(network=False)
        if q.dealer_ids is not None:
            qs = qs.filter(dealer_id__in=q.dealer_ids)
    grouped = qs.values("kind", "reason").annotate(n=Sum("count")).order_by("-n", "reason")
    return [(r["kind"], r["reason"], r["n"]) for r in grouped]


def timeliness(q: ReportQuery) -> dict[str, tuple]:
    """Per duration (MonthTiming.Metric): (count, median s, p90 s). A calendar month of the
    network (or this month so far) reads the figures computed at refresh; any other period
    sorts its leads."""
    whole_month = q.start.day == 1 and (
        min(month_end(q.start), timezone.localdate()) <= q.end <= month_end(q.start)
    )
    if q.network and whole_month:
        stored = {
            t.metric: (t.count, t.p50, t.p90) for t in MonthTiming.objects.filter(month=q.start)
        }
        if len(stored) == len(METRIC_COLUMNS):
            return stored
    figures = timing_percentiles(q.start, q.end, q.dealer_ids)
    return {metric: figures[column] for metric, column in METRIC_COLUMNS.items()}


def regions_in(scope: ReportScope):
    qs = Region.objects.order_by("code")
    return qs if scope.is_network else qs.filter(pk__in=scope.region_ids)
