"""Dispatch: the global threshold, and the record that a customer was told of a new dealer."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leads.models.core import Customer, Lead


class DispatchPolicy(models.Model):
    """Global dispatch settings (one row); channels may override the threshold."""

    score_threshold = models.PositiveSmallIntegerField(_("全局派发分数线"), default=30)
    sweep_batch = models.PositiveIntegerField(_("每轮扫描最多派发"), default=5000)

    class Meta:
        verbose_name = _("派发策略")
        verbose_name_plural = _("派发策略")
        constraints = [models.CheckConstraint(name="dispatch_policy_singleton", condition=Q(id=1))]

    def __str__(self) -> str:
        return str(_("派发策略"))

    @classmethod
    def current(cls) -> "DispatchPolicy":
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy


class CustomerNotice(models.Model):
    """The customer was told that another dealer will contact them (transfer, dealer exit)."""

    class Kind(models.TextChoices):
        TRANSFER = "transfer", _("转派通知")
        DEALER_EXIT = "dealer_exit", _("经销商退网通知")

    customer = models.ForeignKey(
        Customer, verbose_name=_("客户"), on_delete=models.CASCADE, related_name="notices"
    )
    lead = models.ForeignKey(
        Lead,
        verbose_name=_("线索"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customer_notices",
    )
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    from_dealer = models.ForeignKey(
        "dealers.Dealer", verbose_name=_("原经销商"), on_delete=models.PROTECT, related_name="+"
    )
    to_dealer = models.ForeignKey(
        "dealers.Dealer", verbose_name=_("新经销商"), on_delete=models.PROTECT, related_name="+"
    )
    message = models.CharField(_("通知内容"), max_length=255)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("客户通知")
        verbose_name_plural = _("客户通知")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.message
