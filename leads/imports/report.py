"""The result report of an import: the uploaded sheet as it was, plus the outcome of every row
(new lead N, merged into lead N, invalid and why, not imported and why).

Written on demand from the stored file and the rows' outcomes, as a stream, for the user who
asks: mobiles are masked unless that user may see them (a mobile that is not a usable number
is shown as given, so that it can be corrected), and each download is an audited export.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from leads.imports import columns as cols
from leads.imports.engine import normalised_mobile
from leads.imports.exports import export_log_record, mask_mobiles, may_see_full_mobiles
from leads.imports.reader import open_table
from leads.imports.xlsx import XlsxWriter, cell_text
from leads.models import ImportJob, ImportRow


def report_phase(job: ImportJob) -> str:
    if job.status in (ImportJob.Status.IMPORTING, ImportJob.Status.DONE) or (
        job.status == ImportJob.Status.FAILED and job.confirmed_at
    ):
        return ImportRow.Phase.IMPORT
    return ImportRow.Phase.PREVIEW


def report_filename(job: ImportJob) -> str:
    stem = job.original_name.rsplit(".", 1)[0] or "import"
    suffix = _("导入结果") if report_phase(job) == ImportRow.Phase.IMPORT else _("预检结果")
    return f"{stem}-{suffix}-{job.pk}.xlsx"


def import_report_write(job: ImportJob, out, *, mask: bool) -> int:
    """Write the report to `out` (a binary file); returns the number of data rows."""
    phase = report_phase(job)
    labels = dict(ImportRow.Outcome.choices)
    prefix = "" if phase == ImportRow.Phase.IMPORT else _("预计：")
    outcomes = (
        ImportRow.objects.filter(job=job, phase=phase)
        .order_by("row_number")
        .values_list("row_number", "outcome", "lead_id", "message")
        .iterator(chunk_size=5000)
    )
    pending = next(outcomes, None)
    written = 0
    with job.file.open("rb") as fileobj, XlsxWriter(out) as book:
        table = open_table(fileobj, job.original_name)
        rows = table.rows()
        layout = cols.find_layout(rows, dealer=job.kind == ImportJob.Kind.DEALER)
        header = [cell_text(v) or "" for v in layout.header]
        mobile_at = layout.positions.get("mobile")
        widths = [14] * len(header) + [16, 10, 60]
        with book.sheet(_("导入结果"), widths) as sheet:
            sheet.row([*header, _("导入结果"), _("线索ID"), _("说明")], header=True)
            for row in rows:
                if row.number <= layout.header_row:
                    continue
                values = [cell_text(v) for v in row.values] + [None] * len(header)
                values = values[: len(header)]
                for index, value in enumerate(values):
                    if value is None or not mask:
                        continue
                    if index == mobile_at:
                        if normalised_mobile(value):
                            values[index] = mask_mobiles(normalised_mobile(value))
                    else:
                        values[index] = mask_mobiles(value)
                while pending is not None and pending[0] < row.number:
                    pending = next(outcomes, None)
                if pending is not None and pending[0] == row.number:
                    _number, outcome, lead_id, message = pending
                    result = [f"{prefix}{labels.get(outcome, outcome)}", lead_id, message]
                elif any(v is not None for v in values):
                    result = [_("未处理"), None, _("该行尚未处理")]
                else:
                    result = [_("空行"), None, _("空行，已跳过")]
                sheet.row([*values, *result])
                written += 1
    return written


def import_report_download(job: ImportJob, out, *, user) -> int:
    """The report for this user (masked unless they may see full mobiles), logged as an export
    of personal data."""
    mask = not may_see_full_mobiles(user)
    rows = import_report_write(job, out, mask=mask)
    export_log_record(
        user=user,
        model="leads.importjob",
        model_label=_("Excel导入结果报告"),
        filters=_("导入 #%(id)s（%(name)s）") % {"id": job.pk, "name": job.original_name},
        row_count=rows,
        personal_data=True,
        mobiles_masked=mask,
        purpose=_("下载导入结果报告"),
    )
    return rows
