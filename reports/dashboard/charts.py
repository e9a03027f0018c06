"""Chart.js configurations for unfold's bundled charts: options, datasets (each carrying the
links of its bars), colours that mean something."""

from django.utils.translation import gettext as _

from reports import selectors as s
from reports.dashboard.elements import Chart, label_of

PALETTE = (
    "#7c3aed",
    "#2563eb",
    "#0891b2",
    "#059669",
    "#65a30d",
    "#ca8a04",
    "#ea580c",
    "#dc2626",
    "#db2777",
    "#9333ea",
    "#4f46e5",
    "#0d9488",
    "#475569",
    "#a16207",
    "#be123c",
    "#15803d",
    "#1d4ed8",
    "#7e22ce",
)
# Colours that mean something: hot grades warm, won green, lost red, HQ states grey-blue.
GRADE_COLOURS = {
    "_": "#cbd5e1",
    "H": "#dc2626",
    "A": "#f97316",
    "B": "#eab308",
    "C": "#3b82f6",
    "N": "#94a3b8",
    "O": "#16a34a",
    "F": "#475569",
}
STATUS_COLOURS = {
    "new": "#cbd5e1",
    "cleansing": "#94a3b8",
    "qualified": "#64748b",
    "invalid": "#1f2937",
    "nurturing": "#a5b4fc",
    "archived": "#6b7280",
    "dispatched": "#c4b5fd",
    "assigned": "#a78bfa",
    "following": "#8b5cf6",
    "invited": "#3b82f6",
    "arrived": "#06b6d4",
    "test_drive": "#14b8a6",
    "ordered": "#16a34a",
    "defeat_requested": "#fca5a5",
    "defeated": "#dc2626",
    "silenced": "#fbbf24",
    "released": "#f59e0b",
    "recalled": "#d97706",
}
PRIMARY = "var(--color-primary-600)"
SOFT = "var(--color-primary-300)"
TOP_IN_CHART = 15


def chart_options(*, stacked=False, horizontal=False, legend=True, y_title="", percent=False):
    value_axis = {
        "stacked": stacked,
        "beginAtZero": True,
        "title": {"display": bool(y_title), "text": y_title},
        "grid": {"color": "rgba(148,163,184,.25)"},
    }
    if percent:
        value_axis["max"] = 100
    category_axis = {"stacked": stacked, "grid": {"display": False}, "ticks": {"autoSkip": False}}
    if horizontal:
        scales = {"x": value_axis, "y": category_axis}
    else:
        scales = {"x": {**category_axis, "ticks": {"maxRotation": 60}}, "y": value_axis}
    return {
        "responsive": True,
        "maintainAspectRatio": False,
        "animation": False,
        "indexAxis": "y" if horizontal else "x",
        "plugins": {
            "legend": {
                "display": legend,
                "position": "bottom",
                "labels": {"boxWidth": 10, "boxHeight": 10},
            },
            "tooltip": {"enabled": True},
        },
        "scales": scales,
    }


def dataset(label: str, data: list, color: str, links: list | None = None, **extra) -> dict:
    dataset = {
        "label": str(label),
        "data": data,
        "backgroundColor": color,
        "borderColor": color,
        "maxBarThickness": 28,
        **extra,
    }
    if links:
        dataset["links"] = links
    return dataset


def percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def _column_colour(column_key: dict, i: int) -> str:
    if "grade" in column_key:
        return GRADE_COLOURS.get(column_key["grade"], PALETTE[i % len(PALETTE)])
    if "status" in column_key:
        return STATUS_COLOURS.get(column_key["status"], PALETTE[i % len(PALETTE)])
    return PALETTE[i % len(PALETTE)]


def stacked_chart(
    ctx, cross: s.Cross, *, horizontal=False, limit=TOP_IN_CHART, series_limit=None
) -> Chart:
    """Rows as bars, columns stacked; past `series_limit` columns the rest is one "other"."""
    shown = cross.rows[:limit]
    labels = [row.label for row, _cells in shown]
    datasets = []
    columns = list(enumerate(cross.columns))
    rest = []
    if series_limit and len(columns) > series_limit:
        columns, rest = columns[:series_limit], columns[series_limit:]
    for i, (column_key, label) in columns:
        data = [cells.get(i, 0) for _row, cells in shown]
        if not any(data):
            continue
        links = [ctx.cell_link(cross.measure, {**row.key, **column_key}) for row, _c in shown]
        datasets.append(dataset(label, data, _column_colour(column_key, i), links))
    if rest:
        data = [sum(cells.get(i, 0) for i, _c in rest) for _row, cells in shown]
        datasets.append(dataset(_("其他"), data, "#cbd5e1"))
    css = "report-chart-tall" if horizontal and len(labels) > 8 else "report-chart"
    return Chart(
        "bar",
        {"labels": labels, "datasets": datasets},
        chart_options(stacked=True, horizontal=horizontal),
        css,
    )


def bar_of_rows(ctx, rows: list[s.Row], measures=("leads", "valid", "ordered")) -> Chart:
    shown = rows[:TOP_IN_CHART]
    datasets = [
        dataset(
            label_of(m),
            [r.kpis[m] for r in shown],
            PALETTE[i * 3],
            [ctx.cell_link(m, r.key) for r in shown],
        )
        for i, m in enumerate(measures)
    ]
    labels = [r.label if len(r.label) <= 14 else r.label[:13] + "…" for r in shown]
    return Chart("bar", {"labels": labels, "datasets": datasets}, chart_options())
