"""Excel/CSV lead imports (one job per uploaded file, one row record per sheet row) and the
audit of every export of the admin's tables."""

from django.conf import settings
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ImportJob(models.Model):
    """One uploaded file: preview (dry run), confirmation, the import itself and its report.

    The import commits chunk by chunk; `processed_rows` is saved in each chunk's transaction,
    so a run that stops (crash, worker timeout) resumes where it stopped.
    """

    class Kind(models.TextChoices):
        HQ = "hq", _("总部导入")
        DEALER = "dealer", _("经销商导入")

    class Status(models.TextChoices):
        PREVIEWING = "previewing", _("预检中")
        PREVIEWED = "previewed", _("待确认")
        QUEUED = "queued", _("排队中")
        IMPORTING = "importing", _("导入中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")
        DISCARDED = "discarded", _("已放弃")

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.HQ)
    channel = models.ForeignKey(
        "channels.Channel",
        verbose_name=_("渠道"),
        on_delete=models.PROTECT,
        related_name="import_jobs",
    )
    dealer = models.ForeignKey(
        "dealers.Dealer",
        verbose_name=_("经销商"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="import_jobs",
        help_text=_("经销商导入时，所有行都归属该经销商。"),
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.PREVIEWING, db_index=True
    )
    file = models.FileField(_("文件"), upload_to="lead_imports/%Y/%m/", max_length=200)
    original_name = models.CharField(_("原文件名"), max_length=200)
    file_hash = models.CharField(_("文件摘要（SHA-256）"), max_length=64, db_index=True)
    file_size = models.PositiveBigIntegerField(_("文件大小（字节）"), default=0)
    file_format = models.CharField(_("格式"), max_length=10)
    sheet_name = models.CharField(_("工作表"), max_length=100, blank=True)
    notes = models.JSONField(_("文件说明"), default=list, blank=True)
    merged_cells = models.JSONField(_("合并单元格"), default=list, blank=True)

    total_rows = models.PositiveIntegerField(_("数据行数"), default=0)
    processed_rows = models.PositiveIntegerField(_("已处理行数"), default=0)
    counts = models.JSONField(_("导入结果统计"), default=dict, blank=True)
    preview_counts = models.JSONField(_("预检结果统计"), default=dict, blank=True)

    error = models.TextField(_("错误信息"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now, db_index=True)
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    started_at = models.DateTimeField(_("开始导入"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("Excel导入")
        verbose_name_plural = _("Excel导入")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="importjob_status_valid",
                condition=Q(
                    status__in=[
                        "previewing",
                        "previewed",
                        "queued",
                        "importing",
                        "done",
                        "failed",
                        "discarded",
                    ]
                ),
            ),
            models.CheckConstraint(
                name="importjob_dealer_kind",
                condition=Q(kind="hq") | Q(dealer__isnull=False),
            ),
            # The same file for the same channel and dealer is imported once (a discarded
            # preview does not count).
            models.UniqueConstraint(
                "file_hash",
                "channel",
                Coalesce("dealer", Value(0)),
                condition=~Q(status="discarded"),
                name="importjob_unique_file_per_channel_dealer",
            ),
        ]

    def __str__(self) -> str:
        return f"{_('导入')} #{self.pk} {self.original_name}"

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status == self.Status.DONE else 0
        return min(100, round(100 * self.processed_rows / self.total_rows))

    @property
    def is_running(self) -> bool:
        return self.status in (self.Status.PREVIEWING, self.Status.QUEUED, self.Status.IMPORTING)


class ImportRow(models.Model):
    """The outcome of one sheet row, in the preview (predicted) or in the import (actual)."""

    class Phase(models.TextChoices):
        PREVIEW = "preview", _("预检")
        IMPORT = "import", _("导入")

    class Outcome(models.TextChoices):
        CREATED = "created", _("新建线索")
        MERGED = "merged", _("合并到已有线索")
        INVALID = "invalid", _("无效")
        REPLAYED = "replayed", _("已导入过（未重复计数）")
        ERROR = "error", _("未导入")

    job = models.ForeignKey(
        ImportJob, verbose_name=_("导入"), on_delete=models.CASCADE, related_name="rows"
    )
    phase = models.CharField(_("阶段"), max_length=10, choices=Phase.choices)
    row_number = models.PositiveIntegerField(_("行号"))
    outcome = models.CharField(_("结果"), max_length=10, choices=Outcome.choices)
    lead_id = models.BigIntegerField(_("线索ID"), null=True, blank=True)
    raw_lead_id = models.BigIntegerField(_("原始线索ID"), null=True, blank=True)
    # In the preview a row may merge into the lead that an earlier row of the file creates.
    same_as_row = models.PositiveIntegerField(_("同文件行号"), null=True, blank=True)
    reasons = models.CharField(_("原因代码"), max_length=200, blank=True)
    message = models.CharField(_("说明"), max_length=500, blank=True)
    mobile_display = models.CharField(_("手机号"), max_length=40, blank=True)
    name = models.CharField(_("姓名"), max_length=50, blank=True)
    dealer_code = models.CharField(_("经销商代码"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("导入行")
        verbose_name_plural = _("导入行")
        ordering = ["job", "phase", "row_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "phase", "row_number"], name="importrow_unique_row"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.job_id} {_('第 %(n)s 行') % {'n': self.row_number}}"


class ExportLog(models.Model):
    """Who exported which table, when, with which filter, and how many rows (personal data
    leaves the system only through a logged export)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导出人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    username = models.CharField(_("账号"), max_length=150)
    created_at = models.DateTimeField(_("导出时间"), default=timezone.now, db_index=True)
    model = models.CharField(_("数据表"), max_length=100)
    model_label = models.CharField(_("数据表名称"), max_length=100, blank=True)
    filters = models.TextField(_("筛选条件"), blank=True)
    row_count = models.PositiveIntegerField(_("行数"), default=0)
    file_format = models.CharField(_("格式"), max_length=10, blank=True)
    personal_data = models.BooleanField(_("含个人信息"), default=False)
    mobiles_masked = models.BooleanField(_("手机号已脱敏"), default=True)
    purpose = models.CharField(_("用途"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("导出记录")
        verbose_name_plural = _("导出记录")
        ordering = ["-created_at"]
        permissions = [("view_full_mobile", _("可查看和导出完整手机号"))]

    def __str__(self) -> str:
        return f"{self.username} · {self.model_label or self.model} · {self.row_count}"
