"""What each KPI counts, how each rate divides, and which leads are behind a figure.

One place for the definitions: the rollup SQL (reports.services), the drill-down filters and
the labels on the dashboards all come from here, so a figure and its list of leads agree.

- Lead measures are a cohort: the leads *created* in the period, and what became of them so far.
- Raw measures count the raw leads *received* in the period.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from leads.models import FollowUp, Grade, RawLead, Status

# A lead is valid once HQ (or the intake, for channels without cleansing) has judged it a real
# customer: not waiting for that judgement and not judged invalid.
NOT_YET_VALID = (Status.NEW, Status.CLEANSING, Status.INVALID)
VALID_STATUSES = tuple(s for s in Status.values if s not in NOT_YET_VALID)
DUPLICATE_OUTCOMES = (RawLead.Outcome.MERGED, RawLead.Outcome.REACTIVATED)
FOLLOW_UP_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    source: str  # "raw" | "lead"
    help: str


MEASURES = (
    Measure("raw_total", _("原始线索"), "raw", _("期间收到的原始线索条数（含重复与无效）")),
    Measure("raw_duplicates", _("重复线索"), "raw", _("合并到已有线索的原始线索（含激活）")),
    Measure("raw_rejected", _("入库无效"), "raw", _("入库时即判无效（无可用手机号）")),
    Measure("leads", _("去重线索"), "lead", _("期间新建的唯一线索")),
    Measure("valid", _("有效线索"), "lead", _("已判定为真实客户：非新建/待清洗/无效")),
    Measure("invalid", _("无效线索"), "lead", _("当前状态为无效")),
    Measure("dispatched", _("已下发"), "lead", _("已派发到经销商")),
    Measure("assigned", _("已分配"), "lead", _("已分配给销售顾问")),
    Measure("followed", _("已跟进"), "lead", _("有首次跟进时间")),
    Measure("followed_24h", _("24小时跟进"), "lead", _("分配后24小时内首次跟进（同经销商页面）")),
    Measure("arrived", _("到店"), "lead", _("有到店时间")),
    Measure("test_drives", _("试驾"), "lead", _("有试驾跟进记录")),
    Measure("ordered", _("成交"), "lead", _("当前状态为已成交")),
    Measure("defeated", _("战败"), "lead", _("当前状态为已战败（已批准）")),
)
MEASURE_BY_KEY = {m.key: m for m in MEASURES}
MEASURE_KEYS = tuple(m.key for m in MEASURES)


@dataclass(frozen=True)
class Rate:
    key: str
    label: str
    numerator: str
    denominator: str


RATES = (
    Rate("valid_rate", _("有效率"), "valid", "leads"),
    Rate("followed_24h_rate", _("24小时跟进率"), "followed_24h", "assigned"),
    Rate("arrival_rate", _("到店率"), "arrived", "valid"),
    Rate("order_rate", _("成交率"), "ordered", "valid"),
    Rate("defeat_rate", _("战败率"), "defeated", "valid"),
    Rate("invalid_rate", _("无效率"), "invalid", "leads"),
    Rate("duplicate_rate", _("重复率"), "raw_duplicates", "raw_total"),
)
RATE_BY_KEY = {r.key: r for r in RATES}

# The funnel from raw lead to order, in order.
FUNNEL = (
    "raw_total",
    "leads",
    "valid",
    "dispatched",
    "assigned",
    "followed",
    "arrived",
    "ordered",
)


class Kpis:
    """The counts of one cell of a report, with its rates (None when the denominator is 0)."""

    __slots__ = ("counts",)

    def __init__(self, counts: dict | None = None):
        counts = counts or {}
        self.counts = {key: int(counts.get(key) or 0) for key in MEASURE_KEYS}

    def __getitem__(self, key: str):
        if key in self.counts:
            return self.counts[key]
        return self.rate(key)

    def __add__(self, other: "Kpis") -> "Kpis":
        return Kpis({k: self.counts[k] + other.counts[k] for k in MEASURE_KEYS})

    def __eq__(self, other) -> bool:
        return isinstance(other, Kpis) and self.counts == other.counts

    def __repr__(self) -> str:
        return f"Kpis({self.counts})"

    def rate(self, key: str) -> float | None:
        rate = RATE_BY_KEY[key]
        denominator = self.counts[rate.denominator]
        return self.counts[rate.numerator] / denominator if denominator else None

    @property
    def rates(self) -> dict:
        return {r.key: self.rate(r.key) for r in RATES}

    @property
    def empty(self) -> bool:
        return not any(self.counts.values())


# --- drill-down: the leads (or raw leads) behind a figure ------------------------------------


@dataclass(frozen=True)
class Cell:
    """The coordinates of one figure: a measure, a period and dimension values.

    Dimension values are ids (or codes for grade/status); NULL is the string "none"
    (e.g. dealer "none": leads still at HQ)."""

    measure: str
    start: date
    end: date  # inclusive
    channel: int | str | None = None
    channel_level: int = 3
    dealer: int | str | None = None
    region: int | None = None
    advisor: int | str | None = None
    model: int | str | None = None
    grade: str | None = None  # "_" is "unrated" (the empty grade)
    status: str | None = None
    reason: str | None = None  # defeat / invalid / intake rejection reason, with its measure
    dealer_ids: frozenset | None = None  # the report's scope; None = the whole network

    @property
    def source(self) -> str:
        return MEASURE_BY_KEY[self.measure].source


NULL = "none"
UNRATED = "_"


def day_start(day: date) -> datetime:
    """Midnight of a business day (settings.TIME_ZONE, as the rollup SQL buckets), aware."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def _eq(field: str, value) -> Q:
    return Q(**{f"{field}__isnull": True}) if value == NULL else Q(**{field: value})


def _measure_q(measure: str) -> Q:
    return {
        "raw_total": Q(),
        "raw_duplicates": Q(outcome__in=DUPLICATE_OUTCOMES),
        "raw_rejected": Q(outcome=RawLead.Outcome.INVALID),
        "leads": Q(),
        "valid": Q(status__in=VALID_STATUSES),
        "invalid": Q(status=Status.INVALID),
        "dispatched": Q(dispatched_at__isnull=False),
        "followed": Q(first_followed_at__isnull=False),
        "assigned": Q(assigned_at__isnull=False),
        "followed_24h": Q(
            assigned_at__isnull=False,
            first_followed_at__isnull=False,
            first_followed_at__lte=F("assigned_at") + FOLLOW_UP_WINDOW,
        ),
        "arrived": Q(arrived_at__isnull=False),
        "test_drives": Q(
            Exists(FollowUp.objects.filter(lead=OuterRef("pk"), result=FollowUp.Result.TEST_DRIVE))
        ),
        "ordered": Q(status=Status.ORDERED),
        "defeated": Q(status=Status.DEFEATED),
    }[measure]


def cell_filter(cell: Cell) -> Q:
    """The filter on Lead (lead measures) or RawLead (raw measures) that gives the rows the
    rollup counted for this cell."""
    on_raw = cell.source == "raw"
    lead = "lead__" if on_raw else ""
    moment = "received_at" if on_raw else "created_at"
    q = _measure_q(cell.measure) & Q(
        **{
            f"{moment}__gte": day_start(cell.start),
            f"{moment}__lt": day_start(cell.end + timedelta(days=1)),
        }
    )
    if cell.dealer_ids is not None:
        q &= Q(**{f"{lead}dealer_id__in": cell.dealer_ids})
    if cell.channel is not None:
        path = {1: "channel__parent__parent_id", 2: "channel__parent_id", 3: "channel_id"}
        q &= _eq(path[cell.channel_level], cell.channel)
    if cell.dealer is not None:
        q &= _eq(f"{lead}dealer_id", cell.dealer)
    if cell.region is not None:
        q &= Q(**{f"{lead}dealer__region_id": cell.region})
    if cell.advisor is not None:
        q &= _eq(f"{lead}advisor_id", cell.advisor)
    if cell.model is not None:
        q &= _eq(f"{lead}intended_model_id", cell.model)
    if cell.grade is not None:
        q &= Q(**{f"{lead}grade": "" if cell.grade == UNRATED else cell.grade})
    if cell.status is not None:
        q &= Q(**{f"{lead}status": cell.status})
    if cell.reason is not None:
        q &= _reason_q(cell.measure, cell.reason)
    return q


def _reason_q(measure: str, reason: str) -> Q:
    if measure == "defeated":
        return Q(defeat_reason=reason)
    if measure == "invalid":
        return Q(invalid_reason=reason)
    if measure == "raw_rejected":  # as the rollup reads it: the detail, else the codes
        return Q(outcome_detail=reason) | Q(outcome_detail="", outcome_reason=reason)
    raise ValueError(measure)


# The lead admin's list filters (leads/admin/lead.py, leads/admin/filters.py) and the raw
# lead admin's (leads/admin/records.py), for the figures they can express. Others (24-hour
# follow-up, test drives, a raw lead's dealer, a scope of several regions) open the report's
# own list of leads instead.
_ADMIN_LEAD_MEASURES = {
    "leads": {},
    "valid": {"status__in": ",".join(VALID_STATUSES)},
    "invalid": {"status__exact": Status.INVALID},
    "dispatched": {"dispatched_at__isnull": "False"},
    "assigned": {"assigned_at__isnull": "False"},
    "followed": {"first_followed_at__isnull": "False"},
    "arrived": {"arrived_at__isnull": "False"},
    "ordered": {"status__exact": Status.ORDERED},
    "defeated": {"status__exact": Status.DEFEATED},
}
_ADMIN_RAW_MEASURES = {
    "raw_total": {},
    "raw_duplicates": {"outcome__in": ",".join(DUPLICATE_OUTCOMES)},
    "raw_rejected": {"outcome__exact": RawLead.Outcome.INVALID},
}


def _iso(day: date) -> str:
    return day_start(day).isoformat()


def admin_changelist_params(cell: Cell, scope_region: int | None = None) -> dict | None:
    """Query parameters of the admin's lead (or raw lead) list showing this cell, or None when
    that list has no filter for part of it. `scope_region` narrows to one region's dealers."""
    if cell.source == "raw":
        params = dict(_ADMIN_RAW_MEASURES[cell.measure])
        if cell.dealer_ids is not None or any(
            v is not None
            for v in (
                cell.dealer,
                cell.region,
                cell.advisor,
                cell.model,
                cell.grade,
                cell.status,
                cell.reason,
            )
        ):
            return None
        if cell.channel is not None:
            if cell.channel_level != 3 or cell.channel == NULL:
                return None
            params["channel__id__exact"] = cell.channel
        params["received_at__gte"] = _iso(cell.start)
        params["received_at__lt"] = _iso(cell.end + timedelta(days=1))
        return params
    if cell.measure not in _ADMIN_LEAD_MEASURES:
        return None
    params = dict(_ADMIN_LEAD_MEASURES[cell.measure])
    if cell.dealer_ids is not None and cell.dealer is None and cell.region is None:
        if len(cell.dealer_ids) == 1:
            params["dealer__id__exact"] = next(iter(cell.dealer_ids))
        elif scope_region is not None:
            params["region"] = scope_region
        else:
            return None
    if cell.channel is not None:
        if cell.channel == NULL:
            return None
        params[f"channel_l{cell.channel_level}"] = cell.channel
    if cell.dealer == NULL:
        # unfold's dealer dropdown takes `dealer__isnull` as its own and then ignores it.
        return None
    for name, field in (("dealer", "dealer"), ("advisor", "advisor"), ("model", "intended_model")):
        value = getattr(cell, name)
        if value == NULL:
            params[f"{field}__isnull"] = "True"
        elif value is not None:
            params[f"{field}__id__exact"] = value
    if cell.region is not None:
        params["region"] = cell.region
    if cell.grade is not None:
        params["grade__exact"] = "" if cell.grade == UNRATED else cell.grade
    if cell.status is not None:
        wanted = params.pop("status__exact", None) or params.pop("status__in", None)
        if wanted is not None and cell.status not in wanted.split(","):
            return None
        params["status__exact"] = cell.status
    if cell.reason is not None:
        params[{"defeated": "defeat_reason", "invalid": "invalid_reason"}[cell.measure]] = (
            cell.reason
        )
    params["created_at__gte"] = _iso(cell.start)
    params["created_at__lt"] = _iso(cell.end + timedelta(days=1))
    return params


GRADE_LABELS = {"": _("未定级"), **{g: g for g in Grade.values if g}}
