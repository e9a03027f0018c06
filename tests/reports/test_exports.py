"""Every table exports to xlsx: numbers stay numbers, text that could start a formula is
escaped, and each export is audited (ExportLog)."""

from io import BytesIO

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from openpyxl import load_workbook

from dealers.models import Dealer
from leads.models import ExportLog
from reports.exports import excel_safe
from tests.factories import UserFactory
from tests.reports.conftest import OCTOBER

PERIOD = {"start": OCTOBER[0].isoformat(), "end": OCTOBER[1].isoformat()}


@pytest.mark.parametrize("text", ["=1+1", "+86 138", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_text_that_could_start_a_formula_is_quoted(text):
    assert excel_safe(text) == "'" + text


@pytest.mark.parametrize("value", ["北区", "A店", "1-2", "", None, 12, 0.5, -3])
def test_other_values_pass_through(value):
    assert excel_safe(value) == value


def _sheet(response):
    book = load_workbook(BytesIO(response.content))
    return book.worksheets[0], book.worksheets[1]


@pytest.mark.django_db
def test_a_table_exports_to_xlsx_with_numbers_and_an_audit_row(client, hq_admin, refreshed):
    Dealer.objects.filter(pk=refreshed.a.pk).update(name='=HYPERLINK("http://x")')
    client.force_login(hq_admin)

    response = client.get(
        reverse("admin:reports_dashboard_changelist"), {**PERIOD, "export": "dealers"}
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet, notes = _sheet(response)
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("经销商", "原始线索", "重复线索", "去重线索")
    by_name = {row[0]: row for row in rows[1:]}
    escaped = '\'=HYPERLINK("http://x")（TA）'
    assert by_name[escaped][3] == 3  # a number, not text
    valid_rate = rows[0].index("有效率")
    assert by_name[escaped][valid_rate] == 1.0
    assert sheet.cell(row=2, column=valid_rate + 1).number_format == "0.0%"
    assert any(
        "期间 2026-10-01 ~ 2026-10-31" in str(v)
        for row in notes.iter_rows(values_only=True)
        for v in row
    )
    log = ExportLog.objects.get()
    assert (log.user, log.model, log.row_count, log.file_format) == (
        hq_admin,
        "reports.dealers",
        4,
        "xlsx",
    )
    assert log.personal_data is False and "2026-10-01" in log.filters


@pytest.mark.django_db
@pytest.mark.parametrize(
    "key",
    [
        "kpis",
        "trend",
        "funnel",
        "timeliness",
        "channels",
        "regions",
        "dealers",
        "status_cross",
        "grade_mix",
        "grades",
        "channel_model",
        "models",
        "defeat_reasons",
        "invalid_reasons",
    ],
)
def test_every_table_of_the_hq_dashboard_exports(client, hq_admin, refreshed, key):
    client.force_login(hq_admin)

    response = client.get(reverse("admin:reports_dashboard_changelist"), {**PERIOD, "export": key})

    sheet, _notes = _sheet(response)
    assert sheet.max_row >= 2
    assert ExportLog.objects.filter(model=f"reports.{key}").count() == 1


@pytest.mark.django_db
def test_export_needs_the_export_permission(client, refreshed):
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_dashboard"))
    client.force_login(viewer)

    page = client.get(reverse("admin:reports_dashboard_changelist"), PERIOD)
    export = client.get(
        reverse("admin:reports_dashboard_changelist"), {**PERIOD, "export": "dealers"}
    )

    assert page.status_code == 200 and "导出Excel" not in page.content.decode()
    assert export.status_code == 403 and not ExportLog.objects.exists()


@pytest.mark.django_db
def test_unknown_table_is_a_404(client, hq_admin, refreshed):
    client.force_login(hq_admin)

    response = client.get(reverse("admin:reports_dashboard_changelist"), {"export": "nope"})

    assert response.status_code == 404


@pytest.mark.django_db
def test_dealer_manager_exports_their_advisors(client, refreshed, settings):
    settings.ROOT_URLCONF = "tests.reports.urls"
    client.force_login(refreshed.manager_a.user)

    response = client.get(reverse("reports:dealer_dashboard"), {**PERIOD, "export": "advisors"})

    sheet, _notes = _sheet(response)
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        "a1",
        "a2",
        "未分配顾问",
    ]
    log = ExportLog.objects.get()
    assert log.user == refreshed.manager_a.user and log.model == "reports.advisors"
