"""Reads for the import pages (admin and dealer): the jobs a user may see, a job's counts and
its rows page by page."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from leads.imports.report import report_phase
from leads.models import ImportJob, ImportRow

COUNT_LABELS = (
    ("created", _("新建线索"), "success"),
    ("merged", _("合并到已有线索"), "info"),
    ("reactivated", _("其中激活"), "info"),
    ("invalid", _("无效"), "danger"),
    ("error", _("未导入"), "danger"),
    ("replayed", _("已导入过"), "neutral"),
    ("blank", _("空行"), "neutral"),
)
OUTCOME_FILTERS = (
    ("", _("全部")),
    (ImportRow.Outcome.CREATED, _("新建")),
    (ImportRow.Outcome.MERGED, _("合并")),
    (ImportRow.Outcome.INVALID, _("无效")),
    (ImportRow.Outcome.ERROR, _("未导入")),
    (ImportRow.Outcome.REPLAYED, _("已导入过")),
)


def import_jobs_of_dealer(dealer) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(dealer=dealer, kind=ImportJob.Kind.DEALER).select_related(
        "channel", "created_by"
    )


@dataclass
class JobView:
    job: ImportJob
    phase: str
    counts: list[tuple[str, str, int, str]]
    page: Page | None
    outcome: str
    filters: list[tuple[str, str, bool]]

    @property
    def is_preview(self) -> bool:
        return self.phase == ImportRow.Phase.PREVIEW


def import_job_view(job: ImportJob, *, outcome: str = "", page: int = 1, per_page: int = 50):
    """What a job page shows: the counts of the current phase and one page of its rows."""
    phase = report_phase(job)
    numbers = job.counts if phase == ImportRow.Phase.IMPORT else job.preview_counts
    numbers = numbers or {}
    counts = [(key, label, int(numbers.get(key, 0)), colour) for key, label, colour in COUNT_LABELS]
    rows = ImportRow.objects.filter(job=job, phase=phase).order_by("row_number")
    if outcome:
        rows = rows.filter(outcome=outcome)
    paged = None
    if job.status not in (ImportJob.Status.PREVIEWING, ImportJob.Status.QUEUED) or outcome:
        paged = Paginator(rows, per_page).get_page(page)
    filters = [(value, str(label), value == outcome) for value, label in OUTCOME_FILTERS]
    return JobView(
        job=job, phase=phase, counts=counts, page=paged, outcome=outcome, filters=filters
    )
