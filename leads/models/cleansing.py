"""HQ cleansing and nurturing: the call records, the reasons list, the policy, the samples."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leads.models.core import Grade, Intent, Lead


class CleansingPolicy(models.Model):
    """The tunable numbers of the cleansing desk (one row, edited by HQ in the admin)."""

    max_unanswered_calls = models.PositiveSmallIntegerField(_("未接通几次判为无法联系"), default=3)
    claim_minutes = models.PositiveSmallIntegerField(_("领取有效期（分钟）"), default=15)
    nurture_short_days = models.PositiveSmallIntegerField(
        _("培育周期：2–6个月意向（天）"), default=14
    )
    nurture_long_days = models.PositiveSmallIntegerField(
        _("培育周期：6–12个月意向（天）"), default=30
    )
    intent_check_days = models.PositiveSmallIntegerField(_("意向复核周期（天）"), default=60)
    defeated_sample_size = models.PositiveSmallIntegerField(_("每期战败抽样数"), default=20)
    dispatched_sample_size = models.PositiveSmallIntegerField(_("每期派发抽样数"), default=20)

    class Meta:
        verbose_name = _("清洗策略")
        verbose_name_plural = _("清洗策略")
        constraints = [
            models.CheckConstraint(name="policy_singleton", condition=Q(id=1)),
            models.CheckConstraint(
                name="policy_positive",
                condition=Q(max_unanswered_calls__gt=0, claim_minutes__gt=0),
            ),
        ]

    def __str__(self) -> str:
        return str(_("清洗策略"))

    @classmethod
    def current(cls) -> "CleansingPolicy":
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy


class InvalidReason(models.Model):
    """The HQ-maintained list of reasons a lead is invalid (空号, 非本人留资, 同行 …)."""

    code = models.CharField(_("代码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    is_active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("无效原因")
        verbose_name_plural = _("无效原因")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class CallRecord(models.Model):
    """One call of an HQ agent to the customer of a lead, with what came of it."""

    class Outcome(models.TextChoices):
        NO_ANSWER = "no_answer", _("未接通")
        UNREACHABLE = "unreachable", _("无法联系（判无效）")
        QUALIFIED = "qualified", _("合格待派发")
        MERGED = "merged", _("合并到经销商已有线索")
        NURTURING = "nurturing", _("转入培育")
        INVALID = "invalid", _("无效")
        NURTURE_TOUCH = "nurture_touch", _("培育回访")

    lead = models.ForeignKey(
        Lead, verbose_name=_("线索"), on_delete=models.CASCADE, related_name="calls"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("坐席"), on_delete=models.PROTECT, related_name="+"
    )
    reached = models.BooleanField(_("已接通"))
    intent = models.CharField(_("意向程度"), max_length=10, choices=Intent.choices, blank=True)
    grade = models.CharField(_("意向级别"), max_length=1, choices=Grade.choices, blank=True)
    invalid_reason = models.ForeignKey(
        InvalidReason, verbose_name=_("无效原因"), on_delete=models.PROTECT, null=True, blank=True
    )
    dealer = models.ForeignKey(
        "dealers.Dealer",
        verbose_name=_("确认经销商"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    consent = models.BooleanField(_("客户同意经销商联系"), default=False)
    outcome = models.CharField(_("结果"), max_length=14, choices=Outcome.choices)
    notes = models.TextField(_("备注"), blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("外呼记录")
        verbose_name_plural = _("外呼记录")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["agent", "created_at"], name="call_agent_created")]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} · {self.created_at:%Y-%m-%d %H:%M}"


class NurtureTouch(models.Model):
    """One nurturing contact (SMS, e-mail, call) sent through the pluggable sender."""

    class Medium(models.TextChoices):
        SMS = "sms", _("短信")
        EMAIL = "email", _("邮件")
        CALL = "call", _("外呼")

    lead = models.ForeignKey(
        Lead, verbose_name=_("线索"), on_delete=models.CASCADE, related_name="nurture_touches"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("坐席"), on_delete=models.PROTECT, related_name="+"
    )
    medium = models.CharField(_("方式"), max_length=5, choices=Medium.choices)
    content = models.CharField(_("内容"), max_length=500, blank=True)
    sent_ok = models.BooleanField(_("发送成功"), default=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("培育触达")
        verbose_name_plural = _("培育触达")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_medium_display()} · {self.created_at:%Y-%m-%d}"


class SupervisionSample(models.Model):
    """A lead drawn at random for an HQ call-back: was the defeat real, was the customer
    contacted after dispatch? (抽样监督)"""

    class Kind(models.TextChoices):
        DEFEATED = "defeated", _("战败回访")
        DISPATCHED = "dispatched", _("派发回访")

    class Result(models.TextChoices):
        PENDING = "pending", _("待回访")
        CONFIRMED = "confirmed", _("属实")
        NOT_CONFIRMED = "not_confirmed", _("不属实")
        CONTACTED = "contacted", _("经销商已联系")
        NOT_CONTACTED = "not_contacted", _("经销商未联系")
        UNREACHABLE = "unreachable", _("客户无法联系")

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    period_start = models.DateField(_("抽样期开始"))
    period_end = models.DateField(_("抽样期结束"))
    lead = models.ForeignKey(
        Lead, verbose_name=_("线索"), on_delete=models.CASCADE, related_name="samples"
    )
    dealer = models.ForeignKey(
        "dealers.Dealer", verbose_name=_("经销商"), on_delete=models.PROTECT, related_name="+"
    )
    result = models.CharField(
        _("回访结果"), max_length=14, choices=Result.choices, default=Result.PENDING
    )
    notes = models.CharField(_("备注"), max_length=255, blank=True)
    drawn_at = models.DateTimeField(_("抽取时间"), default=timezone.now)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("回访人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    checked_at = models.DateTimeField(_("回访时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("抽样监督")
        verbose_name_plural = _("抽样监督")
        ordering = ["-period_start", "dealer", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "period_start", "lead"], name="sample_once_per_period"
            ),
            models.CheckConstraint(
                name="sample_period_ordered", condition=Q(period_start__lte=models.F("period_end"))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.lead_id}"


class CleansingQueueLead(Lead):
    """The HQ cleansing queue (待清洗) as its own admin screen."""

    class Meta:
        proxy = True
        verbose_name = _("待清洗线索")
        verbose_name_plural = _("清洗队列")


class NurturingLead(Lead):
    """The HQ nurturing pool (培育) as its own admin screen."""

    class Meta:
        proxy = True
        verbose_name = _("培育线索")
        verbose_name_plural = _("培育池")


class DefeatReason(models.Model):
    """The list advisors choose a defeat reason from (价格, 已购竞品, 暂缓购车 …)."""

    code = models.CharField(_("代码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    is_active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("战败原因")
        verbose_name_plural = _("战败原因")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name
