"""Each KPI of the hand-made October (tests/reports/conftest.py) against its worked answer, on
the rollups the refresh builds; and every figure's leads (drill-down) match the figure."""

import datetime

import pytest

from reports import selectors as s
from reports.definitions import NULL, UNRATED, Cell, cell_filter
from reports.models import MonthTiming
from tests.reports.conftest import OCTOBER

pytestmark = pytest.mark.django_db

EXPECTED_TOTALS = {
    "raw_total": 12,  # 8 "new" + 1 merged + 1 reactivated + 2 invalid
    "raw_duplicates": 2,
    "raw_rejected": 2,
    "leads": 8,  # L1–L8
    "valid": 6,  # not L5 (invalid), not L6 (still cleansing)
    "invalid": 1,
    "dispatched": 6,
    "assigned": 5,
    "followed": 4,
    "followed_24h": 3,  # L1 2h, L3 40m, L4 5m (L2 after 30h)
    "arrived": 2,
    "test_drives": 1,
    "ordered": 1,
    "defeated": 1,
}


def test_october_totals_are_the_hand_worked_counts(refreshed, network_query):
    totals = s.kpi_totals(network_query())

    assert totals.counts == EXPECTED_TOTALS


def test_rates_divide_the_documented_counts(refreshed, network_query):
    totals = s.kpi_totals(network_query())

    assert totals.rate("valid_rate") == 6 / 8
    assert totals.rate("followed_24h_rate") == 3 / 5
    assert totals.rate("arrival_rate") == 2 / 6
    assert totals.rate("order_rate") == 1 / 6
    assert totals.rate("defeat_rate") == 1 / 6
    assert totals.rate("invalid_rate") == 1 / 8
    assert totals.rate("duplicate_rate") == 2 / 12


def test_a_rate_without_denominator_is_none(refreshed, network_query):
    empty = s.kpi_totals(network_query(start=datetime.date(2026, 10, 20), end=OCTOBER[1]))

    assert empty.counts["leads"] == 0 and empty.rate("valid_rate") is None


def test_dealer_rows_add_up_to_the_network(refreshed, network_query):
    """The dealer cuts and the network cuts are two roll-ups of the same facts."""
    by_dealer = s.kpi_by_dealer(network_query())
    total = sum((row.kpis for row in by_dealer), start=s.Kpis())

    assert total == s.kpi_totals(network_query())


def test_days_are_local_days_and_the_series_fills_every_period(refreshed, network_query):
    series = s.kpi_series(network_query())
    by_day = {row.key["start"]: row.kpis for row in series}

    assert len(series) == 31
    assert by_day[datetime.date(2026, 10, 5)]["leads"] == 2
    # L3 was created at 00:30 Shanghai time, still 10-05 in UTC: it belongs to 10-06.
    assert by_day[datetime.date(2026, 10, 6)]["leads"] == 2
    assert by_day[datetime.date(2026, 10, 6)]["raw_total"] == 3
    assert by_day[datetime.date(2026, 10, 9)]["raw_rejected"] == 2
    assert by_day[datetime.date(2026, 10, 12)]["leads"] == 1


def test_weeks_start_on_monday_and_are_clipped_to_the_period(refreshed, network_query):
    series = s.kpi_series(network_query(grain="week"))

    assert [(r.key["start"], r.key["end"], r.kpis["leads"]) for r in series[:3]] == [
        (datetime.date(2026, 10, 1), datetime.date(2026, 10, 4), 0),
        (datetime.date(2026, 10, 5), datetime.date(2026, 10, 11), 7),
        (datetime.date(2026, 10, 12), datetime.date(2026, 10, 18), 1),
    ]


def test_months_sum_their_days(refreshed, network_query):
    q = network_query(start=datetime.date(2026, 9, 1), end=datetime.date(2026, 11, 30))
    series = s.kpi_series(q.__class__(**{**q.__dict__, "grain": "month"}))

    assert [(r.label, r.kpis["leads"]) for r in series] == [
        ("2026-09", 1),
        ("2026-10", 8),
        ("2026-11", 1),
    ]


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (3, {"汽车之家": (6, 4, 3), "懂车帝": (3, 2, 1), "到店": (3, 2, 2)}),
        (2, {"垂直媒体": (9, 6, 4), "展厅": (3, 2, 2)}),
        (1, {"厂商渠道": (9, 6, 4), "经销商渠道": (3, 2, 2)}),
    ],
)
def test_channels_at_each_level(refreshed, network_query, level, expected):
    """(raw leads by the channel they came in from, unique leads, valid) per channel."""
    rows = s.kpi_by_channel(network_query(), level)

    found = {
        r.label.split(" › ")[-1]: (r.kpis["raw_total"], r.kpis["leads"], r.kpis["valid"])
        for r in rows
    }
    assert found == expected


def test_channel_effectiveness_rates(refreshed, network_query):
    rows = {r.label.split(" › ")[-1]: r.kpis for r in s.kpi_by_channel(network_query(), 3)}

    assert rows["汽车之家"].rate("valid_rate") == 3 / 4
    assert rows["汽车之家"].rate("order_rate") == 1 / 3
    assert rows["懂车帝"].rate("valid_rate") == 1 / 2


def test_dealers_regions_and_hq(refreshed, network_query):
    dealers = {r.label: r.kpis for r in s.kpi_by_dealer(network_query())}
    regions = {r.label: r.kpis for r in s.kpi_by_region(network_query())}

    assert {k: (v["raw_total"], v["leads"]) for k, v in dealers.items()} == {
        "A店（TA）": (4, 3),
        "B店（TB）": (2, 1),
        "C店（TC）": (2, 2),
        "总部（未下发经销商）": (4, 2),
    }
    assert {k: (v["leads"], v["valid"], v["ordered"]) for k, v in regions.items()} == {
        "北区": (4, 4, 1),
        "南区": (2, 2, 0),
        "总部": (2, 0, 0),
    }


def test_advisors_of_one_dealer(refreshed, network_query):
    rows = s.kpi_by_advisor(network_query(dealer_id=refreshed.a.pk))

    assert [(r.label, r.kpis["raw_total"], r.kpis["leads"]) for r in rows] == [
        ("a1", 2, 1),  # L1 and the duplicate merged into it
        ("a2", 1, 1),
        ("未分配顾问", 1, 1),  # L7, dispatched, not yet assigned
    ]


def test_models_and_grades(refreshed, network_query):
    models = {r.label: r.kpis["leads"] for r in s.kpi_by_model(network_query())}
    grades = {(r.key or {}).get("grade"): r.kpis["leads"] for r in s.kpi_by_grade(network_query())}

    assert models == {"远航": 2, "星河": 3, "未指定车型": 3}
    assert grades == {UNRATED: 2, "H": 1, "A": 1, "B": 1, "C": 1, "O": 1, "F": 1, None: 0}


def _cross(cross):
    names = [label for _key, label in cross.columns]
    return {row.label: {names[i]: n for i, n in cells.items()} for row, cells in cross.rows}


def test_status_cross_compares_regions_for_the_network(refreshed, network_query):
    cross = _cross(s.status_cross(network_query()))

    assert cross == {
        "北区": {"已成交": 1, "已战败": 1, "再次待跟进": 1, "已派发待分配": 1},
        "南区": {"已到店": 1, "首次待跟进": 1},
        "总部": {"无效": 1, "待清洗": 1},
    }


def test_advisor_by_status_for_one_dealer(refreshed, network_query):
    cross = _cross(s.status_cross(network_query(dealer_id=refreshed.a.pk)))

    assert cross == {"a1": {"已成交": 1}, "a2": {"已战败": 1}, "未分配顾问": {"已派发待分配": 1}}


def test_dealer_by_status_for_a_region(refreshed, network_query):
    cross = _cross(s.status_cross(network_query(region_id=refreshed.north.pk)))

    assert cross == {
        "A店": {"已成交": 1, "已战败": 1, "已派发待分配": 1},
        "B店": {"再次待跟进": 1},
    }


def test_grade_mix_per_advisor_counts_valid_leads(refreshed, network_query):
    cross = _cross(s.grade_mix(network_query(dealer_id=refreshed.c.pk)))

    assert cross == {"c1": {"A": 1, "C": 1}}


def test_channel_by_model_counts_valid_leads(refreshed, network_query):
    cross = _cross(s.channel_model(network_query(), level=3))

    assert {k.split(" › ")[-1]: v for k, v in cross.items()} == {
        "汽车之家": {"远航": 1, "星河": 2},
        "懂车帝": {"远航": 1},
        "到店": {"星河": 1, "未指定车型": 1},
    }


def test_defeat_invalid_and_rejection_reasons(refreshed, network_query):
    found = s.reasons(network_query(), ("defeat", "invalid", "rejected"))

    assert sorted(found) == [
        ("defeat", "价格", 1),
        ("invalid", "空号/停机", 1),
        ("rejected", "手机号无效", 1),
        ("rejected", "未提供手机号", 1),
    ]


def test_timeliness_median_and_p90_interpolate_like_percentile_cont(refreshed, network_query):
    figures = s.timeliness(network_query(start=OCTOBER[0], end=datetime.date(2026, 10, 30)))

    # dispatch: 0, 0, 600, 3600, 7200, 10800 s
    assert figures[MonthTiming.Metric.DISPATCH] == pytest.approx((6, 2100, 9000))
    # assignment: 300, 600, 1800, 3600, 7200 s
    assert figures[MonthTiming.Metric.ASSIGN] == pytest.approx((5, 1800, 5760))
    # first follow-up: 300, 2400, 7200, 108000 s
    assert figures[MonthTiming.Metric.FOLLOW] == pytest.approx((4, 4800, 77760))


def test_a_whole_month_reads_the_stored_percentiles(
    refreshed, network_query, django_assert_num_queries
):
    with django_assert_num_queries(1):
        figures = s.timeliness(network_query())

    assert figures[MonthTiming.Metric.FOLLOW] == pytest.approx((4, 4800, 77760))


def test_timeliness_of_one_dealer(refreshed, network_query):
    figures = s.timeliness(network_query(dealer_id=refreshed.a.pk))

    # L1 and L2 of October (L9 is September's): follow-ups after 2 h and 30 h
    assert figures[MonthTiming.Metric.FOLLOW] == pytest.approx(
        (2, 0.5 * (7200 + 108000), 7200 + 0.9 * 100800)
    )


# --- drill-down: the leads behind each figure are the ones the rollup counted ----------------


def _count(cell: Cell) -> int:
    from leads.models import Lead, RawLead

    model = RawLead if cell.source == "raw" else Lead
    return model.objects.filter(cell_filter(cell)).count()


@pytest.mark.parametrize("measure", list(EXPECTED_TOTALS))
def test_each_total_opens_exactly_its_leads(refreshed, measure):
    cell = Cell(measure=measure, start=OCTOBER[0], end=OCTOBER[1])

    assert _count(cell) == EXPECTED_TOTALS[measure]


def test_every_count_of_every_cut_matches_its_drill_down(refreshed, network_query):
    """Generic: for each row of each dimension table and each measure, the filter finds as
    many rows as the rollup counted."""
    from reports.drill import make_cell

    q = network_query()
    one_dealer = network_query(dealer_id=refreshed.a.pk)
    tables = [
        (q, s.kpi_by_channel(q, 1)),
        (q, s.kpi_by_channel(q, 2)),
        (q, s.kpi_by_channel(q, 3)),
        (q, s.kpi_by_dealer(q)),
        (q, s.kpi_by_region(q)),
        (q, s.kpi_by_model(q)),
        (q, [r for r in s.kpi_by_grade(q) if r.key]),
        (q, s.kpi_by_status(q)),
        (q, s.kpi_series(q)),
        (one_dealer, s.kpi_by_advisor(one_dealer)),
        (one_dealer, s.kpi_by_channel(one_dealer, 3)),
        (one_dealer, s.kpi_by_model(one_dealer)),
    ]
    checked = 0
    for query, rows in tables:
        for row in rows:
            for measure in EXPECTED_TOTALS:
                cell = make_cell(measure, query.start, query.end, row.key, query.dealer_ids)
                assert _count(cell) == row.kpis[measure], (row.label, measure)
                checked += 1
    assert checked > 300


def test_cross_cells_match_their_drill_down(refreshed, network_query):
    from reports.drill import make_cell

    for q, cross in [
        (network_query(), s.status_cross(network_query())),
        (
            network_query(region_id=refreshed.north.pk),
            s.grade_mix(network_query(region_id=refreshed.north.pk)),
        ),
        (network_query(), s.channel_model(network_query(), level=2)),
    ]:
        for row, cells in cross.rows:
            for i, (column_key, _label) in enumerate(cross.columns):
                cell = make_cell(
                    cross.measure, q.start, q.end, {**row.key, **column_key}, q.dealer_ids
                )
                assert _count(cell) == cells.get(i, 0), (row.label, column_key)


def test_reason_drill_down(refreshed):
    defeat = Cell("defeated", OCTOBER[0], OCTOBER[1], reason="价格")
    rejected = Cell("raw_rejected", OCTOBER[0], OCTOBER[1], reason="未提供手机号")

    assert _count(defeat) == 1
    assert _count(rejected) == 1


def test_hq_leads_are_the_null_dealer(refreshed):
    cell = Cell("leads", OCTOBER[0], OCTOBER[1], dealer=NULL)

    assert _count(cell) == 2


def test_this_month_so_far_reads_the_stored_percentiles(refreshed, network_query):
    from unittest import mock

    import time_machine

    from tests.reports.conftest import SH

    with (
        time_machine.travel(datetime.datetime(2026, 10, 30, 18, 0, tzinfo=SH)),
        mock.patch("reports.selectors.timing_percentiles", wraps=s.timing_percentiles) as sort,
    ):
        s.timeliness(network_query(start=OCTOBER[0], end=datetime.date(2026, 10, 30)))
        stored = sort.call_count
        s.timeliness(network_query(start=OCTOBER[0], end=datetime.date(2026, 10, 29)))

    assert stored == 0 and sort.call_count == 1
