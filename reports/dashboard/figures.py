"""The figures of the KPI pages, in page order; each is a table and, mostly, its chart."""

from collections.abc import Callable

from django.utils.translation import gettext as _

from reports import selectors as s
from reports.dashboard.charts import (
    GRADE_COLOURS,
    PALETTE,
    PRIMARY,
    SOFT,
    TOP_IN_CHART,
    bar_of_rows,
    chart_options,
    dataset,
    percent,
    stacked_chart,
)
from reports.dashboard.elements import (
    KPI_COLUMNS,
    Chart,
    Context,
    Figure,
    Table,
    Value,
    label_of,
)
from reports.definitions import FUNNEL, MEASURE_BY_KEY, MEASURES, RATES, Kpis
from reports.models import MonthTiming, ReasonRollup

# --- tables ----------------------------------------------------------------------------------


def _kpi_values(ctx: Context, kpis: Kpis, key: dict | None, columns=KPI_COLUMNS) -> list[Value]:
    values = []
    for column in columns:
        if column in MEASURE_BY_KEY:
            link = ctx.cell_link(column, key) if key is not None else None
            values.append(Value(kpis[column], "int", link))
        else:
            values.append(Value(kpis.rate(column), "pct"))
    return values


def _kpi_table(ctx, key, title, first, rows: list[s.Row], columns=KPI_COLUMNS, total=None):
    table = Table(
        key=key,
        title=title,
        headers=[first, *[label_of(c) for c in columns]],
        rows=[[Value(r.label), *_kpi_values(ctx, r.kpis, r.key, columns)] for r in rows],
    )
    if total is not None:
        table.footer = [Value(_("合计")), *_kpi_values(ctx, total, {}, columns)]
    return table


def _cross_table(ctx, key, title, first, cross: s.Cross) -> Table:
    headers = [first, *[label for _k, label in cross.columns], _("合计")]
    rows = []
    for row, cells in cross.rows:
        values = [Value(row.label)]
        for i, (column_key, _label) in enumerate(cross.columns):
            values.append(
                Value(
                    cells.get(i, 0), "int", ctx.cell_link(cross.measure, {**row.key, **column_key})
                )
            )
        values.append(Value(row.kpis[cross.measure], "int", ctx.cell_link(cross.measure, row.key)))
        rows.append(values)
    totals = cross.column_totals()
    footer = [Value(_("合计"))]
    footer += [
        Value(n, "int", ctx.cell_link(cross.measure, column_key))
        for n, (column_key, _label) in zip(totals, cross.columns, strict=True)
    ]
    footer.append(Value(sum(totals), "int", ctx.cell_link(cross.measure, {})))
    return Table(key=key, title=title, headers=headers, rows=rows, footer=footer)


# --- figures ---------------------------------------------------------------------------------


def fig_kpis(ctx: Context) -> Figure:
    totals = ctx.once("totals", lambda: s.kpi_totals(ctx.q))
    rows = [
        [Value(m.label), Value(totals[m.key], "int", ctx.cell_link(m.key, {})), Value(m.help)]
        for m in MEASURES
    ]
    for rate in RATES:
        formula = f"{label_of(rate.numerator)} ÷ {label_of(rate.denominator)}"
        rows.append([Value(rate.label), Value(totals.rate(rate.key), "pct"), Value(formula)])
    table = Table("kpis", _("KPI汇总"), [_("指标"), _("数值"), _("口径")], rows)
    return Figure(
        "kpis", _("KPI汇总"), _("期间新建线索的去向（同期群）与期间收到的原始线索"), table
    )


def fig_trend(ctx: Context) -> Figure:
    series = s.kpi_series(ctx.q)
    grain = {"day": _("日"), "week": _("周"), "month": _("月")}[ctx.q.grain]
    table = _kpi_table(ctx, "trend", _("趋势（按%(grain)s）") % {"grain": grain}, _("期间"), series)
    labels = [r.label for r in series]
    datasets = []
    for i, measure in enumerate(("raw_total", "leads", "valid", "ordered")):
        links = [ctx.cell_link(measure, r.key) for r in series]
        datasets.append(
            dataset(
                label_of(measure),
                [r.kpis[measure] for r in series],
                PALETTE[i * 2],
                links,
                tension=0.3,
                cubicInterpolationMode="monotone",
                pointRadius=2,
            )
        )
    chart = Chart("line", {"labels": labels, "datasets": datasets}, chart_options())
    return Figure("trend", table.title, _("按日、周、月查看线索量与转化"), table, chart, wide=True)


def fig_funnel(ctx: Context) -> Figure:
    totals = ctx.once("totals", lambda: s.kpi_totals(ctx.q))
    rows = []
    previous = None
    for measure in FUNNEL:
        count = totals[measure]
        step = count / previous if previous else None
        share = count / totals["raw_total"] if totals["raw_total"] else None
        rows.append(
            [
                Value(label_of(measure)),
                Value(count, "int", ctx.cell_link(measure, {})),
                Value(step, "pct"),
                Value(share, "pct"),
            ]
        )
        previous = count
    table = Table(
        "funnel", _("转化漏斗"), [_("环节"), _("数量"), _("环节转化率"), _("占原始线索")], rows
    )
    labels = [label_of(m) for m in FUNNEL]
    links = [ctx.cell_link(m, {}) for m in FUNNEL]
    data = [totals[m] for m in FUNNEL]
    chart = Chart(
        "bar",
        {"labels": labels, "datasets": [dataset(_("数量"), data, PRIMARY, links)]},
        chart_options(horizontal=True, legend=False),
    )
    return Figure("funnel", table.title, _("从原始线索到成交"), table, chart)


def fig_channels(ctx: Context) -> Figure:
    level = ctx.q.channel_level
    rows = s.kpi_by_channel(ctx.q, level)
    columns = (
        "raw_total",
        "raw_duplicates",
        "duplicate_rate",
        "leads",
        "valid",
        "valid_rate",
        "invalid",
        "arrived",
        "ordered",
        "order_rate",
    )
    title = _("渠道效果（%(level)s级渠道）") % {"level": level}
    table = _kpi_table(ctx, "channels", title, _("渠道"), rows, columns)
    shown = [r for r in rows if r.kpis["leads"]][:TOP_IN_CHART]
    datasets = [
        dataset(_("有效率 %"), [percent(r.kpis.rate("valid_rate")) for r in shown], PRIMARY),
        dataset(_("成交率 %"), [percent(r.kpis.rate("order_rate")) for r in shown], "#f59e0b"),
    ]
    chart = Chart(
        "bar",
        {"labels": [r.label.split(" › ")[-1] for r in shown], "datasets": datasets},
        chart_options(y_title="%"),
    )
    return Figure(
        "channels",
        title,
        _("各渠道的有效率与成交率，用于媒体投放评估"),
        table,
        chart,
        wide=True,
    )


def _dealer_rows(ctx: Context) -> list[s.Row]:
    return ctx.once("dealers", lambda: s.kpi_by_dealer(ctx.q))


def fig_regions(ctx: Context) -> Figure:
    rows = s.kpi_by_region(ctx.q, _dealer_rows(ctx))
    table = _kpi_table(ctx, "regions", _("按大区"), _("大区"), rows)
    return Figure("regions", table.title, "", table, bar_of_rows(ctx, rows), wide=True)


def fig_dealers(ctx: Context) -> Figure:
    rows = _dealer_rows(ctx)
    table = _kpi_table(ctx, "dealers", _("按经销商"), _("经销商"), rows)
    description = _("图中为线索量前 %(n)s 家；表格含全部经销商") % {"n": TOP_IN_CHART}
    return Figure("dealers", table.title, description, table, bar_of_rows(ctx, rows), wide=True)


def fig_advisors(ctx: Context) -> Figure:
    rows = s.kpi_by_advisor(ctx.q)
    table = _kpi_table(ctx, "advisors", _("按销售顾问"), _("销售顾问"), rows)
    return Figure("advisors", table.title, "", table, bar_of_rows(ctx, rows), wide=True)


def fig_models(ctx: Context) -> Figure:
    rows = s.kpi_by_model(ctx.q)
    table = _kpi_table(ctx, "models", _("按意向车型"), _("车型"), rows)
    return Figure("models", table.title, "", table, bar_of_rows(ctx, rows), wide=True)


def fig_grades(ctx: Context) -> Figure:
    rows = s.kpi_by_grade(ctx.q)
    table = _kpi_table(ctx, "grades", _("按意向级别"), _("级别"), rows)
    shown = [r for r in rows if r.kpis["leads"]]
    chart = Chart(
        "doughnut",
        {
            "labels": [r.label for r in shown],
            "datasets": [
                dataset(
                    _("去重线索"),
                    [r.kpis["leads"] for r in shown],
                    [GRADE_COLOURS.get(r.key.get("grade"), "#e2e8f0") for r in shown],
                    [ctx.cell_link("leads", r.key) for r in shown],
                )
            ],
        },
        {
            "responsive": True,
            "maintainAspectRatio": False,
            "animation": False,
            "plugins": {"legend": {"display": True, "position": "right"}},
        },
    )
    return Figure("grades", table.title, "", table, chart)


def _compare_title(ctx: Context) -> tuple[str, str]:
    return {
        "advisor": (_("销售顾问"), _("顾问")),
        "dealer": (_("经销商"), _("经销商")),
        "region": (_("大区"), _("大区")),
    }[ctx.q.compare_by]


def fig_status_cross(ctx: Context) -> Figure:
    cross = s.status_cross(ctx.q)
    name, first = _compare_title(ctx)
    title = _("%(who)s × 线索状态") % {"who": name}
    table = _cross_table(ctx, "status_cross", title, first, cross)
    return Figure(
        "status_cross",
        title,
        _("去重线索按当前状态分布（两维度对比）"),
        table,
        stacked_chart(ctx, cross, horizontal=True),
        wide=True,
    )


def fig_grade_mix(ctx: Context) -> Figure:
    cross = s.grade_mix(ctx.q)
    name, first = _compare_title(ctx)
    title = _("%(who)s有效线索级别分布") % {"who": name}
    table = _cross_table(ctx, "grade_mix", title, first, cross)
    return Figure(
        "grade_mix",
        title,
        _("有效线索按意向级别"),
        table,
        stacked_chart(ctx, cross, horizontal=True),
    )


def fig_channel_model(ctx: Context) -> Figure:
    cross = s.channel_model(ctx.q)
    title = _("渠道 × 车型（有效线索）")
    table = _cross_table(ctx, "channel_model", title, _("渠道"), cross)
    for row, _cells in cross.rows:
        row.label = row.label.split(" › ")[-1]
    return Figure(
        "channel_model",
        title,
        _("各渠道有效线索的意向车型分布"),
        table,
        stacked_chart(ctx, cross, series_limit=8),
        wide=True,
    )


def _reason_figure(ctx, key, title, kinds, description) -> Figure:
    found = s.reasons(ctx.q, kinds)
    total = sum(n for _k, _r, n in found) or 1
    kind_labels = dict(ReasonRollup.Kind.choices)
    measure = {"defeat": "defeated", "invalid": "invalid", "rejected": "raw_rejected"}
    rows = [
        [
            Value(kind_labels[kind]),
            Value(reason or _("未填写")),
            Value(n, "int", ctx.cell_link(measure[kind], {"reason": reason})),
            Value(n / total, "pct"),
        ]
        for kind, reason, n in found
    ]
    table = Table(key, title, [_("类型"), _("原因"), _("数量"), _("占比")], rows)
    shown = found[:TOP_IN_CHART]
    chart = Chart(
        "bar",
        {
            "labels": [(r or str(_("未填写")))[:18] for _k, r, _n in shown],
            "datasets": [
                dataset(
                    _("数量"),
                    [n for _k, _r, n in shown],
                    [PALETTE[list(measure).index(k) * 4] for k, _r, _n in shown],
                    [ctx.cell_link(measure[k], {"reason": r}) for k, r, _n in shown],
                )
            ],
        },
        chart_options(horizontal=True, legend=False),
        "report-chart-tall" if len(shown) > 8 else "report-chart",
    )
    return Figure(key, title, description, table, chart)


def fig_defeat_reasons(ctx: Context) -> Figure:
    return _reason_figure(
        ctx, "defeat_reasons", _("战败原因"), ("defeat",), _("期间新建、已批准战败的线索")
    )


def fig_invalid_reasons(ctx: Context) -> Figure:
    return _reason_figure(
        ctx,
        "invalid_reasons",
        _("无效原因"),
        ("invalid", "rejected"),
        _("清洗判定无效的线索，以及入库即无效的原始线索"),
    )


def fig_timeliness(ctx: Context) -> Figure:
    figures = s.timeliness(ctx.q)
    labels = dict(MonthTiming.Metric.choices)
    explain = {
        MonthTiming.Metric.DISPATCH: _("创建 → 派发到经销商"),
        MonthTiming.Metric.ASSIGN: _("派发 → 分配给顾问"),
        MonthTiming.Metric.FOLLOW: _("分配 → 首次跟进"),
    }
    rows = []
    for metric, label in labels.items():
        count, p50, p90 = figures.get(metric, (0, None, None))
        rows.append(
            [
                Value(label),
                Value(explain[metric]),
                Value(count or 0, "int"),
                Value(p50, "hours"),
                Value(p90, "hours"),
            ]
        )
    table = Table(
        "timeliness",
        _("时效"),
        [_("指标"), _("区间"), _("样本数"), _("中位数"), _("P90")],
        rows,
    )

    def hours(value):
        return None if value is None else round(value / 3600, 2)

    datasets = [
        dataset(
            _("中位数（小时）"),
            [hours(figures.get(m, (0, None, None))[1]) for m in labels],
            PRIMARY,
        ),
        dataset(
            _("P90（小时）"), [hours(figures.get(m, (0, None, None))[2]) for m in labels], SOFT
        ),
    ]
    chart = Chart(
        "bar",
        {"labels": [str(v) for v in labels.values()], "datasets": datasets},
        chart_options(y_title=_("小时")),
    )
    return Figure(
        "timeliness", table.title, _("派发、分配、首次跟进用时的中位数与P90"), table, chart
    )


def figure_builders(q: s.ReportQuery) -> dict[str, Callable[[Context], Figure]]:
    """The figures of a report, in page order (the dimension tables follow the scope)."""
    builders: dict[str, Callable[[Context], Figure]] = {
        "trend": fig_trend,
        "funnel": fig_funnel,
        "timeliness": fig_timeliness,
        "channels": fig_channels,
    }
    if q.network:
        builders["regions"] = fig_regions
    if q.compare_by == "advisor":
        builders["advisors"] = fig_advisors
    else:
        builders["dealers"] = fig_dealers
    builders.update(
        {
            "status_cross": fig_status_cross,
            "grade_mix": fig_grade_mix,
            "grades": fig_grades,
            "channel_model": fig_channel_model,
            "models": fig_models,
            "defeat_reasons": fig_defeat_reasons,
            "invalid_reasons": fig_invalid_reasons,
            "kpis": fig_kpis,
        }
    )
    return builders
