"""`manage.py import_leads FILE --channel CODE [--dealer CODE] [--dry-run]`: the same import as
the admin's, from the command line; prints the counts and writes the result report."""

import json
import os
import resource
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from channels.models import Channel
from config.errors import DomainError
from dealers.models import Dealer
from leads.imports.report import import_report_write
from leads.imports.services import (
    lead_import_discard,
    lead_import_preview,
    lead_import_start,
    lead_import_upload,
)

LABELS = {
    "created": "新建线索",
    "merged": "合并到已有线索",
    "reactivated": "其中激活",
    "invalid": "无效",
    "replayed": "已导入过（不重复计数）",
    "error": "未导入",
    "blank": "空行",
}


class Command(BaseCommand):
    help = _("导入线索文件（xlsx/csv），与后台上传走同一套规则；打印结果统计并生成结果报告。")

    def add_arguments(self, parser):
        parser.add_argument("file", help=_("线索文件（.xlsx 或 .csv）"))
        parser.add_argument("--channel", required=True, help=_("三级渠道编码"))
        parser.add_argument("--dealer", help=_("经销商代码：所有行归属该经销商"))
        parser.add_argument("--dry-run", action="store_true", help=_("只预检，不导入"))
        parser.add_argument("--report", help=_("结果报告路径（默认：文件名-结果.xlsx）"))
        parser.add_argument("--json", action="store_true", help=_("以 JSON 输出统计（供基准测试）"))

    def handle(self, *args, file, channel, dealer=None, dry_run=False, report=None, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(_("文件不存在：%(path)s") % {"path": file})
        channel_obj = Channel.objects.filter(code=channel).first()
        if channel_obj is None:
            raise CommandError(_("渠道编码 %(code)s 不存在。") % {"code": channel})
        dealer_obj = None
        if dealer:
            dealer_obj = Dealer.objects.filter(code=dealer).first()
            if dealer_obj is None:
                raise CommandError(_("经销商代码 %(code)s 不存在。") % {"code": dealer})
        started = time.perf_counter()
        try:
            with path.open("rb") as fileobj:
                job = lead_import_upload(
                    fileobj=fileobj,
                    name=path.name,
                    channel=channel_obj,
                    dealer=dealer_obj,
                    start_preview=False,
                )
            if dry_run:
                job = lead_import_preview(job_id=job.pk)
            else:
                job = lead_import_start(job_id=job.pk)
        except DomainError as error:
            raise CommandError(str(error)) from error
        seconds = time.perf_counter() - started
        counts = job.preview_counts if dry_run else job.counts
        out = Path(report) if report else path.with_name(f"{path.stem}-结果.xlsx")
        report_started = time.perf_counter()
        with out.open("wb") as stream:
            import_report_write(job, stream, mask=False)
        report_seconds = time.perf_counter() - report_started
        if dry_run:
            lead_import_discard(job_id=job.pk)
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "job": job.pk,
                        "status": job.status,
                        "rows": job.total_rows,
                        "counts": counts,
                        "seconds": seconds,
                        "report_seconds": report_seconds,
                        "peak_rss_mb": own,
                        "reader_peak_rss_mb": children,
                        "pid": os.getpid(),
                    },
                    ensure_ascii=False,
                )
            )
            return
        title = _("预检结果（未导入）") if dry_run else _("导入结果")
        self.stdout.write(f"{title} · {_('导入')} #{job.pk} · {job.total_rows} {_('行')}")
        for key, label in LABELS.items():
            self.stdout.write(f"  {_(label)}: {counts.get(key, 0)}")
        for note in job.notes:
            self.stdout.write(f"  · {note}")
        if job.status == "failed":
            self.stderr.write(job.error)
        self.stdout.write(_("用时 %(s).1f 秒；结果报告：%(path)s") % {"s": seconds, "path": out})
