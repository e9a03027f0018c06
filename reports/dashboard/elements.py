"""The pieces a dashboard is made of: a value (with its drill-down link), a table, a chart,
a figure (a chart and its table), a headline card, and the context they are built in."""

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext as _

from reports import selectors as s
from reports.definitions import MEASURE_BY_KEY, RATE_BY_KEY
from reports.drill import make_cell

# Counts and rates shown for each row of a dimension table.
KPI_COLUMNS = (
    "raw_total",
    "raw_duplicates",
    "leads",
    "valid",
    "invalid",
    "followed_24h",
    "arrived",
    "test_drives",
    "ordered",
    "defeated",
    "valid_rate",
    "followed_24h_rate",
    "arrival_rate",
    "order_rate",
    "defeat_rate",
)
CARD_COUNTS = (
    "raw_total",
    "raw_duplicates",
    "leads",
    "valid",
    "followed_24h",
    "arrived",
    "test_drives",
    "ordered",
    "defeated",
    "invalid",
)
CARD_RATES = ("valid_rate", "followed_24h_rate", "arrival_rate", "order_rate", "defeat_rate")


def label_of(key: str) -> str:
    item = MEASURE_BY_KEY.get(key) or RATE_BY_KEY[key]
    return str(item.label)


@dataclass
class Value:
    value: object
    kind: str = "text"  # text | int | pct | hours
    href: str | None = None

    @property
    def display(self) -> str:
        if self.value is None:
            return "—"
        if self.kind == "int":
            return f"{self.value:,}"
        if self.kind == "pct":
            return f"{self.value * 100:.1f}%"
        if self.kind == "hours":
            return duration_text(self.value)
        return str(self.value)

    @property
    def excel(self):
        if self.kind == "hours":
            return None if self.value is None else round(self.value / 3600, 2)
        if isinstance(self.value, Promise):
            return str(self.value)
        return self.value

    @property
    def number_format(self) -> str | None:
        return {"pct": "0.0%", "hours": "0.00", "int": "#,##0"}.get(self.kind)

    @property
    def numeric(self) -> bool:
        return self.kind != "text"


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 3600:
        return _("%(n).0f 分钟") % {"n": seconds / 60}
    if seconds < 48 * 3600:
        return _("%(n).1f 小时") % {"n": seconds / 3600}
    return _("%(n).1f 天") % {"n": seconds / 86400}


@dataclass
class Table:
    key: str
    title: str
    headers: list[str]
    rows: list[list[Value]]
    footer: list[Value] | None = None

    @property
    def header_cells(self) -> list[tuple[str, bool]]:
        """(label, numeric) per column, numeric columns being right-aligned."""
        sample = self.rows[0] if self.rows else self.footer or []
        return [
            (header, i < len(sample) and sample[i].numeric) for i, header in enumerate(self.headers)
        ]


@dataclass
class Chart:
    type: str
    data: dict
    options: dict
    css: str = "report-chart"

    @property
    def data_json(self) -> str:
        return json.dumps(self.data, ensure_ascii=False)

    @property
    def options_json(self) -> str:
        return json.dumps(self.options, ensure_ascii=False)


@dataclass
class Figure:
    key: str
    title: str
    description: str
    table: Table
    chart: Chart | None = None
    wide: bool = False


@dataclass
class Context:
    q: s.ReportQuery
    links: Callable
    cache: dict = field(default_factory=dict)

    def cell_link(self, measure: str, key: dict) -> str:
        return self.links(make_cell(measure, self.q.start, self.q.end, key, self.q.dealer_ids))

    def once(self, name: str, compute: Callable):
        if name not in self.cache:
            self.cache[name] = compute()
        return self.cache[name]


@dataclass
class Card:
    label: str
    value: Value
    hint: str = ""
