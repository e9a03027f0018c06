from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class Region(models.Model):
    code = models.CharField(_("大区编码"), max_length=20, unique=True)
    name = models.CharField(_("大区名称"), max_length=50)

    class Meta:
        verbose_name = _("大区")
        verbose_name_plural = _("大区")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Dealer(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("正常")
        SUSPENDED = "suspended", _("暂停")
        EXITED = "exited", _("已退网")

    code = models.CharField(_("经销商代码"), max_length=20, unique=True)
    name = models.CharField(_("经销商名称"), max_length=100)
    region = models.ForeignKey(
        Region, verbose_name=_("大区"), on_delete=models.PROTECT, related_name="dealers"
    )
    province = models.CharField(_("省份"), max_length=20, db_index=True)
    city = models.CharField(_("城市"), max_length=30, db_index=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    phone = models.CharField(_("门店电话"), max_length=30, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("经销商")
        verbose_name_plural = _("经销商")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                name="dealer_status_valid",
                condition=Q(status__in=["active", "suspended", "exited"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def accepts_leads(self) -> bool:
        return self.status == self.Status.ACTIVE


class DispatchWindow(models.Model):
    """A weekly opening during which HQ may dispatch leads to the dealer (e.g. Mon 08:30–20:00)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("周一")
        TUESDAY = 1, _("周二")
        WEDNESDAY = 2, _("周三")
        THURSDAY = 3, _("周四")
        FRIDAY = 4, _("周五")
        SATURDAY = 5, _("周六")
        SUNDAY = 6, _("周日")
        HOLIDAY = 7, _("法定节假日")

    dealer = models.ForeignKey(
        Dealer, verbose_name=_("经销商"), on_delete=models.CASCADE, related_name="windows"
    )
    weekday = models.PositiveSmallIntegerField(_("星期"), choices=Weekday.choices)
    opens_at = models.TimeField(_("开始"))
    closes_at = models.TimeField(_("结束"))

    class Meta:
        verbose_name = _("派发时段")
        verbose_name_plural = _("派发时段")
        ordering = ["dealer", "weekday", "opens_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["dealer", "weekday", "opens_at"], name="window_unique_start"
            ),
            models.CheckConstraint(
                name="window_opens_before_closes", condition=Q(opens_at__lt=F("closes_at"))
            ),
            models.CheckConstraint(name="window_weekday_0_7", condition=Q(weekday__lte=7)),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}–{self.closes_at:%H:%M}"


class Advisor(models.Model):
    """A dealer's staff member who works leads: sales manager, DCC or sales advisor."""

    class Role(models.TextChoices):
        MANAGER = "manager", _("销售经理")
        DCC = "dcc", _("DCC专员")
        ADVISOR = "advisor", _("销售顾问")

    class Level(models.IntegerChoices):
        JUNIOR = 1, _("初级")
        INTERMEDIATE = 2, _("中级")
        SENIOR = 3, _("高级")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登录账号"),
        on_delete=models.PROTECT,
        related_name="advisor",
    )
    dealer = models.ForeignKey(
        Dealer, verbose_name=_("经销商"), on_delete=models.PROTECT, related_name="advisors"
    )
    name = models.CharField(_("姓名"), max_length=50)
    role = models.CharField(_("角色"), max_length=10, choices=Role.choices, default=Role.ADVISOR)
    level = models.PositiveSmallIntegerField(_("级别"), choices=Level.choices, default=Level.JUNIOR)
    hire_date = models.DateField(_("入职日期"))
    years_experience = models.PositiveSmallIntegerField(_("从业年限"), default=0)
    is_active = models.BooleanField(_("在职"), default=True, db_index=True)
    tier = models.PositiveSmallIntegerField(
        _("分配梯队"), default=1, help_text=_("梯队延时分配：先分给第1梯队，超时未跟进转第2梯队。")
    )

    class Meta:
        verbose_name = _("销售顾问")
        verbose_name_plural = _("销售顾问")
        ordering = ["dealer", "name"]
        indexes = [models.Index(fields=["dealer", "role", "is_active"], name="advisor_dealer_role")]
        constraints = [
            models.CheckConstraint(
                name="advisor_role_valid", condition=Q(role__in=["manager", "dcc", "advisor"])
            ),
            models.CheckConstraint(
                name="advisor_level_1_3", condition=Q(level__gte=1, level__lte=3)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_role_display()}）"


class WorkCalendarDay(models.Model):
    """One day of China's work calendar: workday or not, with the holiday's name. Seeded from
    chinesecalendar (调休 included) and editable by HQ; a year without rows is never guessed."""

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("工作日"))
    is_holiday = models.BooleanField(_("法定节假日"), default=False)
    name = models.CharField(_("名称"), max_length=50, blank=True)
    source = models.CharField(
        _("来源"),
        max_length=10,
        choices=[("package", _("chinesecalendar")), ("manual", _("人工维护"))],
        default="manual",
    )

    class Meta:
        verbose_name = _("工作日历")
        verbose_name_plural = _("工作日历")
        ordering = ["date"]
        constraints = [
            models.CheckConstraint(
                name="calendar_holiday_is_rest_day",
                condition=Q(is_holiday=False) | Q(is_workday=False),
            ),
        ]

    def __str__(self) -> str:
        kind = _("工作日") if self.is_workday else (self.name or _("休息日"))
        return f"{self.date:%Y-%m-%d} {kind}"


class DealerClosure(models.Model):
    """Days a dealer does not take leads (renovation, inventory, local holiday …)."""

    dealer = models.ForeignKey(
        Dealer, verbose_name=_("经销商"), on_delete=models.CASCADE, related_name="closures"
    )
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(_("结束日期"))
    reason = models.CharField(_("原因"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("经销商停业")
        verbose_name_plural = _("经销商停业")
        ordering = ["dealer", "start_date"]
        constraints = [
            models.CheckConstraint(
                name="closure_dates_ordered", condition=Q(start_date__lte=F("end_date"))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start_date}–{self.end_date} {self.reason}"


class AssignmentPolicy(models.Model):
    """How a dealer assigns dispatched leads to its advisors; chosen by its manager."""

    class Strategy(models.TextChoices):
        MANUAL = "manual", _("手动分配（默认）")
        ROUND_ROBIN = "round_robin", _("轮流分配")
        FEWEST_OPEN = "fewest_open", _("在跟线索最少者优先")
        GRADE_PRIORITY = "grade_priority", _("级别优先（H/A给转化率最高的顾问）")
        POOL = "pool", _("公共池抢单")
        TIERED = "tiered", _("梯队延时分配")

    dealer = models.OneToOneField(
        Dealer, verbose_name=_("经销商"), on_delete=models.CASCADE, related_name="assignment_policy"
    )
    strategy = models.CharField(
        _("分配方式"), max_length=16, choices=Strategy.choices, default=Strategy.MANUAL
    )
    pool_daily_cap = models.PositiveSmallIntegerField(_("每人每日抢单上限"), default=10)
    grab_follow_up_hours = models.PositiveSmallIntegerField(
        _("抢单后须跟进时限（小时）"), default=4
    )
    grab_penalty = models.PositiveSmallIntegerField(
        _("超时未跟进扣减次日上限"),
        default=3,
        help_text=_("抢单后超时未跟进：线索回到公共池，该顾问24小时内的抢单上限减少此数。"),
    )
    tier_minutes = models.PositiveSmallIntegerField(_("第1梯队跟进时限（分钟）"), default=30)
    last_advisor = models.ForeignKey(
        "Advisor",
        verbose_name=_("上次轮到的顾问"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("分配策略")
        verbose_name_plural = _("分配策略")

    def __str__(self) -> str:
        return f"{self.dealer} · {self.get_strategy_display()}"


class PoolGrab(models.Model):
    """An advisor grabbed a lead from the dealer's public pool (for caps and penalties)."""

    advisor = models.ForeignKey(
        Advisor, verbose_name=_("销售顾问"), on_delete=models.CASCADE, related_name="grabs"
    )
    lead = models.ForeignKey(
        "leads.Lead", verbose_name=_("线索"), on_delete=models.CASCADE, related_name="grabs"
    )
    grabbed_at = models.DateTimeField(_("抢单时间"), db_index=True)
    settled_at = models.DateTimeField(_("结清时间"), null=True, blank=True, db_index=True)
    expired_at = models.DateTimeField(_("超时退回时间"), null=True, blank=True)
    penalty = models.PositiveSmallIntegerField(_("扣减上限"), default=0)

    class Meta:
        verbose_name = _("抢单记录")
        verbose_name_plural = _("抢单记录")
        ordering = ["-grabbed_at"]
        indexes = [models.Index(fields=["advisor", "grabbed_at"], name="grab_advisor_time")]

    def __str__(self) -> str:
        return f"{self.advisor} · #{self.lead_id}"
