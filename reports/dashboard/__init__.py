"""The dashboards' figures: for each, a table (exportable, every count a link to its leads)
and, where people would rather look than read, a chart for unfold's bundled Chart.js.

The HQ admin page and the dealer page render the same figures; only the links differ.
"""

from collections.abc import Callable

from django.utils.translation import gettext as _

from reports import selectors as s
from reports.dashboard.elements import (
    CARD_COUNTS,
    CARD_RATES,
    Card,
    Context,
    Table,
    Value,
    label_of,
)
from reports.dashboard.figures import fig_trend, figure_builders
from reports.definitions import MEASURE_BY_KEY, MEASURES, RATES, Kpis

__all__ = ["build_dashboard", "build_summary", "build_table", "definitions", "figure_builders"]


def _cards(ctx: Context, totals: Kpis, counts=CARD_COUNTS, rates=CARD_RATES):
    counted = [
        Card(
            label_of(m),
            Value(totals[m], "int", ctx.cell_link(m, {})),
            str(MEASURE_BY_KEY[m].help),
        )
        for m in counts
    ]
    return counted, [Card(label_of(r), Value(totals.rate(r), "pct")) for r in rates]


def build_dashboard(q: s.ReportQuery, links: Callable) -> dict:
    """Every figure of the report page, with the headline cards."""
    ctx = Context(q, links)
    totals = ctx.once("totals", lambda: s.kpi_totals(q))
    cards, rates = _cards(ctx, totals)
    figures = [build(ctx) for build in figure_builders(q).values()]
    return {"totals": totals, "cards": cards, "rate_cards": rates, "figures": figures}


def build_summary(q: s.ReportQuery, links: Callable) -> dict:
    """The admin index's digest: six counts, four rates and the trend."""
    ctx = Context(q, links)
    totals = ctx.once("totals", lambda: s.kpi_totals(q))
    cards, rates = _cards(ctx, totals, CARD_COUNTS[:6], CARD_RATES[:4])
    return {"totals": totals, "cards": cards + rates, "trend": fig_trend(ctx)}


def build_table(q: s.ReportQuery, links: Callable, key: str) -> Table | None:
    build = figure_builders(q).get(key)
    return build(Context(q, links)).table if build else None


def definitions() -> list[tuple[str, str]]:
    """The definitions shown under the dashboard and on the export's second sheet."""
    notes = [(str(m.label), str(m.help)) for m in MEASURES]
    notes += [(str(r.label), f"{label_of(r.numerator)} ÷ {label_of(r.denominator)}") for r in RATES]
    notes.append(
        (
            _("统计口径"),
            _("线索指标按线索创建日期统计（同期群：这些线索至今的去向）；原始线索按接收日期统计。"),
        )
    )
    return notes
