"""Every report table exports to xlsx: numbers stay numbers, text is escaped against formula
injection, and each export leaves an ExportLog row (who, when, which table, which filter)."""

import re
from io import BytesIO

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A cell starting with one of these is read by Excel (or LibreOffice, WPS) as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def excel_safe(value):
    """The value as a spreadsheet should store it: text that could start a formula gets a
    leading single quote; numbers, dates and None pass through."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def table_workbook(table, notes: list[tuple[str, str]]) -> bytes:
    """The table on its first sheet, the filters and definitions on a second."""
    book = Workbook()
    sheet = book.active
    sheet.title = re.sub(r"[\[\]:*?/\\']", "", str(table.title))[:31] or "Sheet1"
    sheet.append([excel_safe(str(h)) for h in table.headers])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append([excel_safe(v.excel) for v in row])
        for cell, value in zip(sheet[sheet.max_row], row, strict=True):
            if value.number_format:
                cell.number_format = value.number_format
    sheet.freeze_panes = "B2"
    for column in sheet.columns:
        width = max(len(str(c.value or "")) for c in column)
        sheet.column_dimensions[column[0].column_letter].width = min(40, max(10, width * 1.6))
    about = book.create_sheet(_("说明"))
    for label, text in notes:
        about.append([excel_safe(str(label)), excel_safe(str(text))])
    about.column_dimensions["A"].width = 18
    about.column_dimensions["B"].width = 80
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def export_log(*, user, table, filters: str) -> None:
    """One audit row per export. Report tables carry counts, never personal data."""
    try:
        from leads.models import ExportLog
    except ImportError:  # the audit table ships with the Excel work; nothing to log without it
        return
    ExportLog.objects.create(
        user=user if getattr(user, "pk", None) else None,
        username=user.get_username() if getattr(user, "pk", None) else "",
        model=f"reports.{table.key}",
        model_label=str(table.title)[:100],
        filters=filters,
        row_count=len(table.rows),
        file_format="xlsx",
        personal_data=False,
        mobiles_masked=True,
        purpose=_("KPI报表导出"),
    )


def table_response(*, table, user, notes: list[tuple[str, str]], filters: str) -> HttpResponse:
    content = table_workbook(table, notes)
    export_log(user=user, table=table, filters=filters)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(content, content_type=XLSX)
    filename = f"report-{table.key}-{stamp}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
