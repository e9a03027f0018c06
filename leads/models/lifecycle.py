"""Lifecycle rules (召回/静默/释放/激活, follow-up escalation), configured by HQ."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class LifecycleRule(models.Model):
    """One automatic rule with its scope; every action it takes is on the lead's timeline."""

    class Kind(models.TextChoices):
        RECALL_NO_FIRST_FOLLOW_UP = "no_first", _("分配后N小时未首次跟进 → 召回到公共池")
        RECALL_CYCLE_OVERDUE = "cycle_overdue", _("超过级别跟进周期N天未跟进 → 召回到公共池")
        VALIDITY = "validity", _("有效期到期 → 静默 → 释放到公共池")
        ESCALATION = "escalation", _("逾期跟进升级：提醒顾问 → 通知经理 → 召回")

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    is_active = models.BooleanField(_("启用"), default=True)
    # scope: empty means "all"
    channel_root = models.ForeignKey(
        "channels.Channel",
        verbose_name=_("一级渠道（线索类型）"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        limit_choices_to={"level": 1},
        related_name="+",
    )
    grade = models.CharField(_("意向级别"), max_length=1, blank=True)
    advisor_level = models.PositiveSmallIntegerField(_("顾问级别"), null=True, blank=True)
    dealer = models.ForeignKey(
        "dealers.Dealer",
        verbose_name=_("经销商"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    hours = models.PositiveIntegerField(
        _("时限（小时）"),
        default=24,
        help_text=_("未首次跟进：分配后小时数；逾期升级：提醒顾问的小时数。"),
    )
    days = models.PositiveIntegerField(
        _("天数"),
        default=0,
        help_text=_("超周期：周期之外的天数；有效期：基础有效天数。"),
    )
    params = models.JSONField(
        _("参数"),
        default=dict,
        blank=True,
        help_text=_(
            '有效期：{"stage_days": {"invited": 1, "arrived": 3, "test_drive": 3, "ordered": 7},'
            ' "silence_hours": 24}；升级：{"manager_hours": 48, "recall_hours": 96}'
        ),
    )
    priority = models.PositiveSmallIntegerField(
        _("优先级"), default=100, help_text=_("范围越具体的规则排在越前。")
    )
    last_run_at = models.DateTimeField(_("上次运行"), null=True, blank=True)
    last_result = models.CharField(_("上次结果"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("线索生命周期规则")
        verbose_name_plural = _("线索生命周期规则")
        ordering = ["kind", "priority", "pk"]
        constraints = [
            models.CheckConstraint(
                name="rule_advisor_level_1_3",
                condition=Q(advisor_level__isnull=True)
                | Q(advisor_level__gte=1, advisor_level__lte=3),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def scope_q(self) -> Q:
        """The leads this rule applies to."""
        q = Q()
        if self.channel_root_id:
            q &= Q(channel__parent__parent_id=self.channel_root_id)
        if self.grade:
            q &= Q(grade=self.grade)
        if self.advisor_level:
            q &= Q(advisor__level=self.advisor_level)
        if self.dealer_id:
            q &= Q(dealer_id=self.dealer_id)
        return q
