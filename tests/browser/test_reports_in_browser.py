"""The KPI dashboards in a real browser: HQ's in the admin and a dealer manager's on the dealer
pages draw their charts with the bundled Chart.js, a click on a figure opens its leads, and a
table downloads as xlsx (audited)."""

from io import BytesIO
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from leads.models import ExportLog
from tests.reports.conftest import build_october, refresh_october

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PERIOD = "start=2026-10-01&end=2026-10-31"


@pytest.fixture
def october_data(db):
    """The hand-made October of tests/reports/conftest.py, with its rollups."""
    data = build_october()
    refresh_october()
    return data


@pytest.fixture
def dealer_pages(settings):
    """Mount the dealer dashboard where the dealer pages will (tests.reports.urls)."""
    settings.ROOT_URLCONF = "tests.reports.urls"


def _charts_drawn(page) -> int:
    page.wait_for_function("document.documentElement.dataset.reportCharts === 'ready'")
    return page.evaluate(
        "Array.from(document.querySelectorAll('canvas.chart'))"
        ".filter((c) => window.Chart && Chart.getChart(c)).length"
    )


def _click_bar(page, figure: str, label: str) -> None:
    """Click the first bar of `label` in the figure's chart, where Chart.js drew it."""
    canvas = page.locator(f"#figure-{figure} canvas.chart")
    point = canvas.evaluate(
        """(canvas, label) => {
            const chart = Chart.getChart(canvas);
            const index = chart.data.labels.indexOf(label);
            const bar = chart.getDatasetMeta(0).data[index];
            return {x: bar.x, y: bar.y};
        }""",
        label,
    )
    box = canvas.bounding_box()
    page.mouse.click(box["x"] + point["x"] - 3, box["y"] + point["y"])


def _download(page, selector):
    with page.expect_download() as info:
        page.click(selector)
    download = info.value
    with open(download.path(), "rb") as file:
        book = load_workbook(BytesIO(file.read()))
    return download.suggested_filename, list(book.worksheets[0].iter_rows(values_only=True))


def test_hq_dashboard_charts_drill_down_and_export(
    page, live_server, hq_admin, october_data, screenshot
):
    page.goto(
        f"{live_server.url}/admin/login/?next=" + quote(f"/admin/reports/dashboard/?{PERIOD}")
    )
    page.fill("input[name=username]", "hq_admin")
    page.fill("input[name=password]", "pass12345")
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url("**/admin/reports/dashboard/**")
    assert "2026-10-01 ~ 2026-10-31" in page.inner_text("#report")

    canvases = page.locator("canvas.chart").count()
    assert canvases >= 13 and _charts_drawn(page) == canvases
    assert page.inner_text("#report-cards").count("去重线索") == 1
    screenshot("reports-hq-dashboard")
    page.locator("#figure-status_cross").scroll_into_view_if_needed()
    screenshot("reports-hq-status-cross", full_page=False)

    name, rows = _download(page, "#figure-channels a[data-export]")
    assert name.startswith("report-channels-") and name.endswith(".xlsx")
    assert rows[0][0] == "渠道" and {r[0] for r in rows[1:]} == {
        "厂商渠道 › 垂直媒体",
        "经销商渠道 › 展厅",
    }
    assert ExportLog.objects.filter(model="reports.channels", username="hq_admin").count() == 1

    _click_bar(page, "funnel", "成交")
    page.wait_for_url("**/admin/leads/lead/**")
    assert "status__exact=ordered" in page.url
    assert f"#{october_data.l1.pk}" in page.inner_text("#result_list") or str(
        october_data.l1.pk
    ) in page.inner_text("#result_list")
    screenshot("reports-hq-drill-ordered", full_page=False)

    page.goto(f"{live_server.url}/admin/")
    assert _charts_drawn(page) == 1
    screenshot("reports-admin-index", full_page=False)


def test_dealer_dashboard_charts_drill_down_and_export(
    page, live_server, october_data, dealer_pages, screenshot
):
    manager = october_data.manager_a.user
    page.goto(f"{live_server.url}/dealer/login/?next=" + quote(f"/dealer/reports/?{PERIOD}"))
    page.fill("input[name=username]", manager.username)
    page.fill("input[name=password]", "pass12345")
    page.click("button[type=submit]")
    page.wait_for_url("**/dealer/reports/**")
    assert "2026-10-01 ~ 2026-10-31" in page.inner_text("#report")

    canvases = page.locator("canvas.chart").count()
    assert canvases >= 12 and _charts_drawn(page) == canvases
    assert "A店" in page.inner_text("h1")
    screenshot("reports-dealer-dashboard")

    name, rows = _download(page, "#figure-advisors a[data-export]")
    assert name.startswith("report-advisors-")
    assert [r[0] for r in rows[1:]] == ["a1", "a2", "未分配顾问"]
    assert ExportLog.objects.get(model="reports.advisors").user == manager

    page.locator("#report-cards a.report-card", has_text="去重线索").click()
    page.wait_for_url("**/dealer/reports/leads/**")
    assert "共 3 条" in page.inner_text("#report-leads")
    assert october_data.l1.customer.mobile not in page.content()
    screenshot("reports-dealer-drill", full_page=False)
