"""Lead imports from Excel/CSV: upload, preview (a dry run of every row), confirmation, the
import in chunks (inline for small files, in the background above a threshold), the report.

Every row goes through the intake rules (leads.imports.engine applies `lead_intake`'s rules
to a chunk at once). A row that cannot go in is reported with its reason; it never stops the
other rows. The same file uploaded twice for the same channel and dealer is refused, and every
row carries a stable external id (its own 线索编号, else a digest of its content), so a row
that was imported before is recognised and never counted twice.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from channels.models import Channel
from config.errors import ConflictError, NotFound, ValidationFailed
from dealers.models import Advisor, Dealer
from leads.imports import columns as cols
from leads.imports.engine import (
    Engine,
    Outcome,
    Row,
    insert_plain,
    normalised_mobile,
    outcome_message,
)
from leads.imports.pipeline import SheetSpec, read_ahead
from leads.imports.reader import FileRefused, background_rows, check_size, max_rows, open_table
from leads.models import ImportJob, ImportRow, RawLead

logger = logging.getLogger(__name__)

DEALER_UPLOAD_CODE = "DEALER_UPLOAD"
DEALER_ROOT = ("DEALER", "经销商渠道")
# The demo seeder names the dealer's own-channel branch DLR_OWNED; DEALER_OWN otherwise.
DEALER_OWN_CODES = ("DLR_OWNED", "DEALER_OWN")
COUNT_KEYS = ("created", "merged", "reactivated", "invalid", "replayed", "error", "blank")


class ImportRefused(ValidationFailed):
    code = "import_refused"


# --- the dealer-upload channel --------------------------------------------------------------


def dealer_upload_channel() -> Channel:
    """The level-3 channel of dealer uploads (经销商渠道 › 经销商自有 › 经销商Excel上传), created
    on first use: the demo seeder only seeds an empty database, so it cannot be a migration's
    business on a fresh one."""
    channel = Channel.objects.filter(code=DEALER_UPLOAD_CODE).first()
    if channel is not None:
        return channel
    with transaction.atomic():
        root, _created = Channel.objects.get_or_create(
            code=DEALER_ROOT[0], defaults={"name": DEALER_ROOT[1], "level": Channel.Level.ORIGIN}
        )
        branch = Channel.objects.filter(code__in=DEALER_OWN_CODES, level=2).first()
        if branch is None:
            branch = Channel.objects.create(
                code=DEALER_OWN_CODES[1],
                name="经销商自有",
                level=Channel.Level.CATEGORY,
                parent=root,
            )
        channel, _created = Channel.objects.get_or_create(
            code=DEALER_UPLOAD_CODE,
            defaults={
                "name": "经销商Excel上传",
                "level": Channel.Level.SOURCE,
                "parent": branch,
                "needs_cleansing": False,
                "score_weight": 80,
                "sort_order": 900,
            },
        )
    return channel


def dealer_of_uploader(user) -> Dealer:
    """The dealer a dealer user uploads for: sales managers and DCC staff only."""
    advisor = Advisor.objects.filter(user_id=getattr(user, "pk", None), is_active=True).first()
    if advisor is None or advisor.role not in (Advisor.Role.MANAGER, Advisor.Role.DCC):
        raise ImportRefused(_("只有经销商的销售经理或 DCC 专员可以导入线索。"))
    return advisor.dealer


# --- upload ---------------------------------------------------------------------------------


def _digest(fileobj) -> tuple[str, int]:
    fileobj.seek(0)
    digest, size = hashlib.sha256(), 0
    while chunk := fileobj.read(1 << 20):
        digest.update(chunk)
        size += len(chunk)
    fileobj.seek(0)
    return digest.hexdigest(), size


def _check_not_imported(*, file_hash: str, channel: Channel, dealer: Dealer | None) -> None:
    earlier = (
        ImportJob.objects.filter(file_hash=file_hash, channel=channel, dealer=dealer)
        .exclude(status=ImportJob.Status.DISCARDED)
        .order_by("created_at")
        .first()
    )
    if earlier is not None:
        when = timezone.localtime(earlier.created_at).strftime("%Y-%m-%d %H:%M")
        raise ConflictError(
            _(
                "同一文件已于 %(when)s 上传到该渠道（导入 #%(id)s，%(status)s），"
                "不会重复导入。如需继续，请打开该导入。"
            ),
            code="file_already_imported",
            when=when,
            id=earlier.pk,
            status=earlier.get_status_display(),
        )


def lead_import_upload(
    *,
    fileobj,
    name: str,
    channel: Channel | None = None,
    dealer: Dealer | None = None,
    user=None,
    start_preview: bool = True,
) -> ImportJob:
    """Check an uploaded file and keep it as an import job, then start its preview.

    HQ uploads choose the channel. With `dealer`, every row goes to that dealer (a dealer's
    own upload uses the dealer-upload channel unless a channel is given). The file is refused,
    with the reason in Chinese, when it is not a readable Excel/CSV file, is too big, has too
    many rows, lacks a required column, or was already imported for the same channel and dealer.
    """
    kind = ImportJob.Kind.DEALER if dealer is not None else ImportJob.Kind.HQ
    if dealer is not None:
        if dealer.status != Dealer.Status.ACTIVE:
            raise ImportRefused(
                _("经销商 %(dealer)s 状态为“%(status)s”，不能导入线索。"),
                dealer=dealer.name,
                status=dealer.get_status_display(),
            )
        channel = channel or dealer_upload_channel()
    if channel is None:
        raise ImportRefused(_("请选择渠道。"))
    if not channel.receives_leads:
        raise ImportRefused(
            _("渠道 %(code)s 不是启用的三级渠道，不能接收线索。"), code=channel.code
        )
    fileobj.seek(0, os.SEEK_END)
    check_size(fileobj.tell())
    file_hash, size = _digest(fileobj)
    table = open_table(fileobj, name)
    inspection = table.inspect()
    layout = cols.find_layout(table.rows(), dealer=kind == ImportJob.Kind.DEALER)
    data_rows = max(0, inspection.row_count - layout.header_row)
    if data_rows > max_rows():
        raise FileRefused(
            _(
                "文件有 %(rows)s 行以上数据，超过单个文件 %(limit)s 行的上限，"
                "请拆分成多个文件后上传。"
            ),
            rows=f"{data_rows:,}",
            limit=f"{max_rows():,}",
        )
    if data_rows == 0:
        raise FileRefused(_("文件中只有表头，没有数据行。"))
    _check_not_imported(file_hash=file_hash, channel=channel, dealer=dealer)

    notes = list(layout.notes)
    if inspection.other_sheets:
        notes.append(
            _("只读取工作表“%(sheet)s”，其他工作表（%(others)s）已忽略。")
            % {"sheet": inspection.sheet_name, "others": "、".join(inspection.other_sheets)}
        )
    if inspection.merged:
        shown = "、".join(inspection.merged[:10]) + ("…" if len(inspection.merged) > 10 else "")
        notes.append(
            _("文件含合并单元格（%(ranges)s）：合并区域的值已填入区域内的每一行，请在预览中核对。")
            % {"ranges": shown}
        )
    job = ImportJob(
        kind=kind,
        channel=channel,
        dealer=dealer,
        status=ImportJob.Status.PREVIEWING,
        original_name=os.path.basename(name)[:200],
        file_hash=file_hash,
        file_size=size,
        file_format=inspection.file_format,
        sheet_name=inspection.sheet_name[:100],
        notes=notes,
        total_rows=data_rows,
        merged_cells=inspection.merged,
        created_by=user if getattr(user, "pk", None) else None,
    )
    fileobj.seek(0)
    job.file.save(f"{file_hash[:16]}.{inspection.file_format}", File(fileobj), save=False)
    try:
        with transaction.atomic():
            job.save()
    except IntegrityError:
        job.file.delete(save=False)
        _check_not_imported(file_hash=file_hash, channel=channel, dealer=dealer)
        raise
    if start_preview:
        _start(job, "preview")
        job.refresh_from_db()
    return job


# --- preview, confirmation, import ----------------------------------------------------------


def _start(job: ImportJob, what: str) -> None:
    """Small files are done now; big ones go to the task queue after the commit."""
    if job.total_rows <= background_rows():
        if what == "preview":
            lead_import_preview(job_id=job.pk)
        else:
            lead_import_run(job_id=job.pk)
        return
    from django_q.tasks import async_task

    task = f"leads.tasks.lead_import_{'preview' if what == 'preview' else 'run'}_task"
    transaction.on_commit(
        lambda: async_task(task, job.pk, task_name=f"lead-import-{what}-{job.pk}")
    )


def lead_import_confirm(*, job_id: int, user=None) -> ImportJob:
    """Commit a previewed import: small files at once, big ones in the background."""
    with transaction.atomic():
        job = _lock(job_id)
        if job.status != ImportJob.Status.PREVIEWED:
            raise ImportRefused(
                _("导入 #%(id)s 当前为“%(status)s”，不能确认。"),
                id=job.pk,
                status=job.get_status_display(),
            )
        job.status = ImportJob.Status.QUEUED
        job.confirmed_by = user if getattr(user, "pk", None) else None
        job.confirmed_at = timezone.now()
        job.processed_rows, job.counts = 0, {}
        job.save(
            update_fields=["status", "confirmed_by", "confirmed_at", "processed_rows", "counts"]
        )
    _start(job, "run")
    job.refresh_from_db()
    return job


def lead_import_start(*, job_id: int, user=None) -> ImportJob:
    """Import an uploaded file without a preview (the command line): at once, in this process."""
    with transaction.atomic():
        job = _lock(job_id)
        if job.status not in (ImportJob.Status.PREVIEWING, ImportJob.Status.PREVIEWED):
            raise ImportRefused(
                _("导入 #%(id)s 当前为“%(status)s”，不能开始。"),
                id=job.pk,
                status=job.get_status_display(),
            )
        job.status = ImportJob.Status.QUEUED
        job.confirmed_by = user if getattr(user, "pk", None) else None
        job.confirmed_at = timezone.now()
        job.processed_rows, job.counts = 0, {}
        job.save(
            update_fields=["status", "confirmed_by", "confirmed_at", "processed_rows", "counts"]
        )
    return lead_import_run(job_id=job.pk)


def lead_import_discard(*, job_id: int, user=None) -> ImportJob:
    """Drop a preview that will not be imported (the same file may then be uploaded again)."""
    with transaction.atomic():
        job = _lock(job_id)
        if job.status not in (ImportJob.Status.PREVIEWED, ImportJob.Status.FAILED):
            raise ImportRefused(
                _("导入 #%(id)s 当前为“%(status)s”，不能放弃。"),
                id=job.pk,
                status=job.get_status_display(),
            )
        if job.status == ImportJob.Status.FAILED and job.confirmed_at and job.processed_rows:
            raise ImportRefused(_("已导入部分数据的任务不能放弃，请重试以完成导入。"))
        job.status = ImportJob.Status.DISCARDED
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "finished_at"])
        job.rows.filter(phase=ImportRow.Phase.PREVIEW).delete()
    return job


def lead_import_retry(*, job_id: int, user=None) -> ImportJob:
    """Resume a failed import where it stopped (rows already in are never counted twice)."""
    with transaction.atomic():
        job = _lock(job_id)
        if job.status != ImportJob.Status.FAILED:
            raise ImportRefused(_("只有失败的导入可以重试。"))
        job.status = ImportJob.Status.QUEUED if job.confirmed_at else ImportJob.Status.PREVIEWING
        job.error = ""
        job.save(update_fields=["status", "error"])
    _start(job, "run" if job.confirmed_at else "preview")
    job.refresh_from_db()
    return job


def _lock(job_id: int) -> ImportJob:
    try:
        return ImportJob.objects.select_for_update().get(pk=job_id)
    except ImportJob.DoesNotExist:
        raise NotFound(_("导入 #%(id)s 不存在。"), id=job_id) from None


class _Superseded(Exception):
    """Another run of the same job moved on: this one stops."""


def lead_import_preview(*, job_id: int) -> ImportJob:
    """Dry run of every row: the outcome each row would have, nothing written but the rows'
    predicted outcomes. Safe to run again (it starts over)."""
    job = ImportJob.objects.select_related("channel", "dealer").get(pk=job_id)
    if job.status != ImportJob.Status.PREVIEWING:
        return job
    ImportRow.objects.filter(job=job, phase=ImportRow.Phase.PREVIEW).delete()
    ImportJob.objects.filter(pk=job.pk).update(processed_rows=0, preview_counts={})
    try:
        counts = _process(job, phase=ImportRow.Phase.PREVIEW, dry_run=True)
    except FileRefused as refusal:
        # Unreadable further down than the first check saw: the file is dropped, so that a
        # corrected file (or the same one, saved again) can be uploaded.
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.DISCARDED, error=str(refusal), finished_at=timezone.now()
        )
        raise
    except Exception as error:
        _fail(job, error)
        raise
    ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PREVIEWING).update(
        status=ImportJob.Status.PREVIEWED,
        preview_counts=counts,
        total_rows=F("processed_rows"),
        notes=_without_warning_notes(job.notes) + _warning_notes(counts),
    )
    job.refresh_from_db()
    return job


def lead_import_run(*, job_id: int) -> ImportJob:
    """The import itself, chunk by chunk, each chunk committed with its progress: a run that
    stops resumes after the last committed chunk; a second runner of the same job stops."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.status not in (ImportJob.Status.QUEUED, ImportJob.Status.IMPORTING):
            return job
        if job.status == ImportJob.Status.QUEUED:
            job.status = ImportJob.Status.IMPORTING
            job.started_at = job.started_at or timezone.now()
            job.save(update_fields=["status", "started_at"])
    job = ImportJob.objects.select_related("channel", "dealer").get(pk=job_id)
    try:
        counts = _process(job, phase=ImportRow.Phase.IMPORT, dry_run=False)
    except _Superseded:
        return ImportJob.objects.get(pk=job_id)
    except Exception as error:
        _fail(job, error)
        raise
    ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.IMPORTING).update(
        status=ImportJob.Status.DONE,
        finished_at=timezone.now(),
        total_rows=F("processed_rows"),
        notes=_without_warning_notes(job.notes) + _warning_notes(counts),
    )
    job.refresh_from_db()
    return job


def _fail(job: ImportJob, error: Exception) -> None:
    logger.exception("lead import #%s failed", job.pk)
    if isinstance(error, ValidationFailed):
        message = str(error)
    else:
        message = _("导入过程中出现错误（%(e)s），可以重试，已导入的行不会重复计数。") % {
            "e": error.__class__.__name__
        }
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.FAILED, error=message[:2000], finished_at=timezone.now()
    )


@dataclass
class _Counter:
    counts: Counter

    def add(self, outcomes: list[Outcome], blank: int) -> None:
        for outcome in outcomes:
            self.counts[outcome.outcome] += 1
            if outcome.reactivated:
                self.counts["reactivated"] += 1
        self.counts["blank"] += blank


@contextmanager
def _collector_paused():
    """An import allocates millions of short-lived objects; the cyclic garbage collector would
    walk the growing heap thousands of times for nothing (~15% of the time). It runs once per
    chunk instead, which keeps memory flat."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _process(job: ImportJob, *, phase: str, dry_run: bool) -> dict:
    """Read the file, map each row, take the rows in chunks; returns the counts."""
    with _collector_paused():
        return _process_rows(job, phase=phase, dry_run=dry_run)


def _process_rows(job: ImportJob, *, phase: str, dry_run: bool) -> dict:
    resume_after = 0 if dry_run else job.processed_rows
    counts = Counter({key: 0 for key in COUNT_KEYS})
    if not dry_run:
        counts.update(job.counts or {})
    counter = _Counter(counts)
    engine = Engine(
        source=RawLead.Source.DEALER if job.kind == ImportJob.Kind.DEALER else RawLead.Source.EXCEL,
        dealer=job.dealer,
        submitted_by=job.created_by,
        dry_run=dry_run,
    )
    channels = {c.code: c for c in Channel.objects.filter(level=Channel.Level.SOURCE)}
    texts = {code: str(text) for code, text in cols.WARNINGS.items()}
    consumed = resume_after  # data rows consumed (blank ones included) once this chunk commits
    spec = SheetSpec(
        name=job.original_name,
        dealer_kind=job.kind == ImportJob.Kind.DEALER,
        scope=job.dealer.code if job.dealer_id else "",
        merged_cells=job.merged_cells or [],
        resume_after=resume_after,
        path=_local_path(job),
    )
    for item in read_ahead(spec, lambda: job.file.open("rb")):
        engine.mobiles.remember(item.mobiles)
        rows = [_row(values, job, channels, texts) for values in item.rows]
        start, consumed = consumed, item.seen

        def inside(outcomes, rows=rows, start=start, item=item):
            _record(job, phase, rows, outcomes, engine.mobiles)
            counter.add(outcomes, item.blank)
            counter.counts.update(item.warnings)
            values = {"processed_rows": item.seen}
            if dry_run:
                values["preview_counts"] = dict(counter.counts)
            else:
                values["counts"] = dict(counter.counts)
            if not ImportJob.objects.filter(pk=job.pk, processed_rows=start).update(**values):
                raise _Superseded

        engine.run(rows, inside=inside)
        gc.collect(1)
    return dict(counter.counts)


def _local_path(job: ImportJob) -> str:
    try:
        return job.file.path
    except (NotImplementedError, ValueError):
        return ""


def _row(values: tuple, job: ImportJob, channels: dict, texts: dict) -> Row:
    number, data, channel_code, warning_codes = values
    channel = job.channel
    error = ""
    if channel_code and job.kind == ImportJob.Kind.HQ:
        channel = channels.get(channel_code)
        if channel is None:
            error = _("渠道编码 %(code)s 不存在。") % {"code": channel_code}
    warnings = [texts[code] for code in warning_codes]
    return Row(number=number, data=data, channel=channel, error=error, warnings=warnings)


def _record(job: ImportJob, phase: str, rows: list[Row], outcomes: list[Outcome], mobiles) -> None:
    """The rows' outcomes, written with the chunk (same transaction)."""
    dealer_code = job.dealer.code if job.dealer_id else None
    records = []
    for row, outcome in zip(rows, outcomes, strict=True):
        data = row.data
        records.append(
            {
                "job_id": job.pk,
                "phase": phase,
                "row_number": outcome.number,
                "outcome": outcome.outcome,
                "lead_id": outcome.lead_id,
                "raw_lead_id": outcome.raw_lead_id,
                "same_as_row": outcome.same_as_row,
                "reasons": ",".join(outcome.reasons)[:200],
                "message": outcome_message(outcome)[:500],
                "mobile_display": display_mobile(data.get("mobile"), mobiles),
                "name": str(data.get("name", ""))[:50],
                "dealer_code": (dealer_code or str(data.get("dealer_code", "")))[:20],
            }
        )
    insert_plain(ImportRow, records)


def _warning_notes(counts: dict) -> list[str]:
    notes = []
    if counts.get("warning:mobile_number"):
        notes.append(
            _("%(n)s 行手机号以数字格式保存，已按文本读取（建议把手机号列设为“文本”）。")
            % {"n": counts["warning:mobile_number"]}
        )
    if counts.get("warning:date_serial"):
        notes.append(
            _("%(n)s 行留资时间是 Excel 日期序号，已转换为日期。")
            % {"n": counts["warning:date_serial"]}
        )
    if counts.get("blank"):
        notes.append(_("%(n)s 个空行已跳过。") % {"n": counts["blank"]})
    return notes


def _without_warning_notes(notes: list[str]) -> list[str]:
    markers = ("行手机号以数字格式保存", "行留资时间是 Excel 日期序号", "个空行已跳过")
    return [note for note in notes if not any(marker in note for marker in markers)]


def display_mobile(value, normalise=normalised_mobile) -> str:
    """A usable mobile masked as 138****8000; anything else shown as given, to be corrected."""
    mobile = normalise(value) if value else ""
    if mobile:
        return f"{mobile[:3]}****{mobile[-4:]}"
    return str(value or "")[:40]
