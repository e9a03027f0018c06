"""Rollups the KPI dashboards read, the refresh log, and the region managers.

The rollups are derived data, rebuilt from the lead tables by `reports.services` (never
edited): their foreign keys carry no database constraint, so that a refresh is a plain
DELETE + INSERT of whole days and never waits on, or blocks, the lead pipeline.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def _dimension(to: str, verbose_name):
    return models.ForeignKey(
        to,
        verbose_name=verbose_name,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # the composite indexes below serve the reads
        null=True,
        blank=True,
        related_name="+",
    )


class Cut(models.TextChoices):
    """The dimensions a rollup row is grouped by. `n_*` rows add up every dealer and HQ (the
    network), `d_*` rows keep the dealer (NULL: leads still at HQ)."""

    N_TOTAL = "n", _("全网")
    N_CHANNEL = "n_ch", _("全网 × 渠道")
    N_MODEL = "n_md", _("全网 × 车型")
    N_GRADE = "n_gr", _("全网 × 级别")
    N_STATUS = "n_st", _("全网 × 状态")
    N_CHANNEL_MODEL = "n_ch_md", _("全网 × 渠道 × 车型")
    D_TOTAL = "d", _("经销商")
    D_CHANNEL = "d_ch", _("经销商 × 渠道")
    D_MODEL = "d_md", _("经销商 × 车型")
    D_GRADE = "d_gr", _("经销商 × 级别")
    D_STATUS = "d_st", _("经销商 × 状态")
    D_CHANNEL_MODEL = "d_ch_md", _("经销商 × 渠道 × 车型")
    D_ADVISOR_STATUS = "d_ad_st", _("顾问 × 状态")
    D_ADVISOR_GRADE = "d_ad_gr", _("顾问 × 级别")


class LeadRollup(models.Model):
    """KPI counts of one local day for one combination of dimensions (see `Cut`).

    Lead measures count the leads *created* that day (a cohort: what became of them so far);
    raw measures count the raw leads *received* that day.
    """

    day = models.DateField(_("日期"))
    cut = models.CharField(_("维度组合"), max_length=8, choices=Cut.choices)
    dealer = _dimension("dealers.Dealer", _("经销商"))
    advisor = _dimension("dealers.Advisor", _("销售顾问"))
    channel = _dimension("channels.Channel", _("渠道"))
    vehicle_model = _dimension("leads.VehicleModel", _("车型"))
    grade = models.CharField(_("级别"), max_length=1, null=True, blank=True)
    status = models.CharField(_("状态"), max_length=20, null=True, blank=True)

    raw_total = models.PositiveIntegerField(_("原始线索"), default=0)
    raw_duplicates = models.PositiveIntegerField(_("重复线索"), default=0)
    raw_rejected = models.PositiveIntegerField(_("入库无效"), default=0)
    leads = models.PositiveIntegerField(_("去重线索"), default=0)
    valid = models.PositiveIntegerField(_("有效线索"), default=0)
    invalid = models.PositiveIntegerField(_("无效线索"), default=0)
    dispatched = models.PositiveIntegerField(_("已下发"), default=0)
    assigned = models.PositiveIntegerField(_("已分配"), default=0)
    followed = models.PositiveIntegerField(_("已跟进"), default=0)
    followed_24h = models.PositiveIntegerField(_("24小时跟进"), default=0)
    arrived = models.PositiveIntegerField(_("到店"), default=0)
    test_drives = models.PositiveIntegerField(_("试驾"), default=0)
    ordered = models.PositiveIntegerField(_("成交"), default=0)
    defeated = models.PositiveIntegerField(_("战败"), default=0)

    class Meta:
        verbose_name = _("KPI日汇总")
        verbose_name_plural = _("KPI日汇总")
        indexes = [
            # The network and HQ's all-dealer cuts read a day range of one cut...
            models.Index(fields=["cut", "day", "dealer"], name="rollup_cut_day_dealer"),
            # ...a region or a dealer reads its dealers' ranges (PostgreSQL 15 scans an IN list
            # on a non-leading column once per value).
            models.Index(fields=["cut", "dealer", "day"], name="rollup_cut_dealer_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.get_cut_display()}"


class Dashboard(LeadRollup):
    """The KPI dashboard as an admin screen (its permissions gate the reports)."""

    class Meta:
        proxy = True
        verbose_name = _("KPI看板")
        verbose_name_plural = _("KPI看板")
        permissions = [
            ("export_dashboard", _("可导出KPI报表")),
            ("refresh_dashboard", _("可刷新KPI汇总")),
        ]


class LeadTiming(models.Model):
    """Per lead, the three durations whose median and p90 the dashboards show (seconds)."""

    lead = models.OneToOneField(
        "leads.Lead",
        verbose_name=_("线索"),
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    day = models.DateField(_("创建日期"))
    dealer = _dimension("dealers.Dealer", _("经销商"))
    dispatch_seconds = models.PositiveIntegerField(_("派发用时（秒）"), null=True, blank=True)
    assign_seconds = models.PositiveIntegerField(_("分配用时（秒）"), null=True, blank=True)
    follow_seconds = models.PositiveIntegerField(_("首次跟进用时（秒）"), null=True, blank=True)

    class Meta:
        verbose_name = _("线索时效")
        verbose_name_plural = _("线索时效")
        indexes = [
            models.Index(fields=["day"], name="timing_day"),
            models.Index(fields=["dealer", "day"], name="timing_dealer_day"),
        ]

    def __str__(self) -> str:
        return f"#{self.lead_id} {self.day}"


class MonthTiming(models.Model):
    """Exact median and p90 of one calendar month for the whole network, computed at refresh:
    the HQ dashboard's default view reads these instead of sorting a month of leads."""

    class Metric(models.TextChoices):
        DISPATCH = "dispatch", _("派发用时")
        ASSIGN = "assign", _("分配用时")
        FOLLOW = "follow", _("首次跟进用时")

    month = models.DateField(_("月份"))
    metric = models.CharField(_("指标"), max_length=10, choices=Metric.choices)
    count = models.PositiveIntegerField(_("样本数"), default=0)
    p50 = models.FloatField(_("中位数（秒）"), null=True, blank=True)
    p90 = models.FloatField(_("P90（秒）"), null=True, blank=True)

    class Meta:
        verbose_name = _("月度时效")
        verbose_name_plural = _("月度时效")
        constraints = [
            models.UniqueConstraint(fields=["month", "metric"], name="monthtiming_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.get_metric_display()}"


class ReasonRollup(models.Model):
    """Defeat, invalid and intake-rejection reasons counted per day (network and dealer)."""

    class Kind(models.TextChoices):
        DEFEAT = "defeat", _("战败原因")
        INVALID = "invalid", _("无效原因")
        REJECTED = "rejected", _("入库无效原因")

    day = models.DateField(_("日期"))
    network = models.BooleanField(_("全网汇总"))
    dealer = _dimension("dealers.Dealer", _("经销商"))
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    reason = models.CharField(_("原因"), max_length=255)
    count = models.PositiveIntegerField(_("数量"), default=0)

    class Meta:
        verbose_name = _("原因日汇总")
        verbose_name_plural = _("原因日汇总")
        indexes = [models.Index(fields=["network", "dealer", "day"], name="reason_scope_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.get_kind_display()} {self.reason}"


class RollupRun(models.Model):
    """One refresh of the rollups: which days, how long, and whether it finished. The start
    time of the last finished run is the watermark of the next incremental refresh."""

    class Mode(models.TextChoices):
        RECENT = "recent", _("增量（近两日及有变动的日期）")
        NIGHTLY = "nightly", _("夜间重算")
        MANUAL = "manual", _("手动")

    mode = models.CharField(_("方式"), max_length=10, choices=Mode.choices)
    started_at = models.DateTimeField(_("开始时间"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    day_from = models.DateField(_("起始日期"), null=True, blank=True)
    day_to = models.DateField(_("截止日期"), null=True, blank=True)
    days = models.PositiveIntegerField(_("重算天数"), default=0)
    rows = models.PositiveIntegerField(_("写入行数"), default=0)
    seconds = models.FloatField(_("用时（秒）"), null=True, blank=True)
    error = models.TextField(_("错误"), blank=True)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("触发人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("汇总刷新记录")
        verbose_name_plural = _("汇总刷新记录")
        ordering = ["-started_at"]
        indexes = [
            models.Index(
                fields=["-started_at"],
                condition=Q(finished_at__isnull=False, error=""),
                name="rolluprun_finished",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} {self.started_at:%Y-%m-%d %H:%M}"


class RegionManager(models.Model):
    """A user who steers the dealers of a region (大区经理): the reports show them those
    dealers only."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("账号"),
        on_delete=models.CASCADE,
        related_name="managed_regions",
        help_text=_("后台账号（职员状态），并需授予“KPI看板”的查看（及导出）权限。"),
    )
    region = models.ForeignKey(
        "dealers.Region",
        verbose_name=_("大区"),
        on_delete=models.CASCADE,
        related_name="managers",
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("大区经理")
        verbose_name_plural = _("大区经理")
        ordering = ["region", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "region"], name="regionmanager_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.region} · {self.user.get_username()}"
