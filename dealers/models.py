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
