"""Links from a figure to the leads behind it.

In the admin a figure opens the lead (or raw lead) list with its filters when that list can
express the figure, else the report's own list of leads; on the dealer pages it opens the
dealer's report list of leads. Both lists apply `definitions.cell_filter`, the same rule the
rollup counted with.
"""

from dataclasses import fields, replace
from datetime import date
from functools import lru_cache
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.urls import reverse

from reports.definitions import MEASURE_BY_KEY, NULL, UNRATED, Cell, admin_changelist_params
from reports.scope import ReportScope

# URL parameter of each Cell field.
PARAMS = {
    "measure": "m",
    "start": "from",
    "end": "to",
    "channel": "ch",
    "channel_level": "chl",
    "dealer": "dl",
    "region": "rg",
    "advisor": "ad",
    "model": "md",
    "grade": "gr",
    "status": "st",
    "reason": "rs",
}
CELL_FIELDS = {f.name for f in fields(Cell)}


def make_cell(measure: str, start: date, end: date, key: dict, dealer_ids) -> Cell:
    """The cell of a table row (its key holds the row's dimensions and maybe its period)."""
    values = {k: v for k, v in key.items() if k in CELL_FIELDS and k not in ("start", "end")}
    return Cell(
        measure=measure,
        start=key.get("start", start),
        end=key.get("end", end),
        dealer_ids=dealer_ids,
        **values,
    )


def cell_params(cell: Cell) -> dict:
    params = {}
    for name, param in PARAMS.items():
        value = getattr(cell, name)
        if value is None or (name == "channel_level" and cell.channel is None):
            continue
        params[param] = value.isoformat() if isinstance(value, date) else value
    return params


def _id(value: str | None, *, nullable: bool = True):
    if value in (None, ""):
        return None
    if nullable and value == NULL:
        return NULL
    if not value.isdigit():
        raise ValueError(value)
    return int(value)


def cell_from_params(params, scope: ReportScope, dealer_ids) -> Cell:
    """Parse a cell from a drill-down URL, inside the viewer's scope (`dealer_ids`: the dealers
    the report counted, None for the network). Raises ValueError on a malformed URL and
    PermissionDenied for a dealer outside the scope."""
    measure = params.get("m", "")
    if measure not in MEASURE_BY_KEY:
        raise ValueError(measure)
    start, end = (
        date.fromisoformat(params.get("from", "")),
        date.fromisoformat(params.get("to", "")),
    )
    level = int(params.get("chl") or 3)
    if level not in (1, 2, 3):
        raise ValueError(level)
    grade = params.get("gr")
    if grade is not None and grade != UNRATED and (len(grade) != 1 or not grade.isalpha()):
        raise ValueError(grade)
    cell = Cell(
        measure=measure,
        start=start,
        end=end,
        channel=_id(params.get("ch")),
        channel_level=level,
        dealer=_id(params.get("dl")),
        region=_id(params.get("rg"), nullable=False),
        advisor=_id(params.get("ad")),
        model=_id(params.get("md")),
        grade=grade,
        status=params.get("st") or None,
        reason=params.get("rs"),
        dealer_ids=dealer_ids,
    )
    if cell.reason is not None and measure not in ("defeated", "invalid", "raw_rejected"):
        raise ValueError(measure)
    if isinstance(cell.dealer, int) and not scope.covers_dealer(cell.dealer):
        raise PermissionDenied
    if cell.dealer == NULL and not scope.is_network:
        raise PermissionDenied
    return cell


@lru_cache(maxsize=8192)
def _pair(key: str, value: str) -> str:
    return urlencode({key: value})


def query_string(params: dict) -> str:
    """urlencode, remembering each encoded pair: a dashboard repeats the same few thousand."""
    return "&".join(_pair(key, str(value)) for key, value in params.items())


class _Links:
    def __init__(self):
        self._urls: dict[str, str] = {}

    def url(self, name: str) -> str:
        if name not in self._urls:
            self._urls[name] = reverse(name)
        return self._urls[name]


class AdminLinks(_Links):
    """Admin lead list when it can show the figure, else the report's list of leads. Users
    scoped to a region get the report's list only: the lead admin is not region-scoped."""

    def __init__(self, scope_region: int | None = None, *, own_list_only: bool = False):
        super().__init__()
        self.scope_region = scope_region
        self.own_list_only = own_list_only

    def __call__(self, cell: Cell) -> str:
        params = None
        if not self.own_list_only:
            params = admin_changelist_params(cell, scope_region=self.scope_region)
        if params is not None:
            name = "rawlead" if cell.source == "raw" else "lead"
            return f"{self.url(f'admin:leads_{name}_changelist')}?{query_string(params)}"
        return f"{self.url('admin:reports_dashboard_leads')}?{query_string(cell_params(cell))}"


class DealerLinks(_Links):
    """The dealer pages' report list of leads."""

    def __call__(self, cell: Cell) -> str:
        cell = replace(cell, dealer_ids=None)
        return f"{self.url('reports:dealer_leads')}?{query_string(cell_params(cell))}"
