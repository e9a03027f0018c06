"""Personal-data protection (PIPL): who revealed which customer's number and why, the
customer's requests to see or erase their data, and failed logins (lockout)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MobileReveal(models.Model):
    """One click on "查看号码": who saw which customer's full number, on which lead, when, why.

    Numbers are masked everywhere; this row is the only way a full number reaches a screen.
    """

    class Reason(models.TextChoices):
        CALL = "call", _("外呼/回访客户")
        CALLBACK = "callback", _("客户要求回电")
        VERIFY = "verify", _("核实号码信息")
        COMPLAINT = "complaint", _("处理客户投诉")
        OTHER = "other", _("其他（须说明）")

    class Source(models.TextChoices):
        ADMIN = "admin", _("后台线索页")
        WORKBENCH = "workbench", _("清洗工作台")
        DEALER = "dealer", _("经销商页面")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("查看人"),
        on_delete=models.PROTECT,
        related_name="mobile_reveals",
    )
    lead = models.ForeignKey(
        "leads.Lead", verbose_name=_("线索"), on_delete=models.PROTECT, related_name="reveals"
    )
    customer = models.ForeignKey(
        "leads.Customer",
        verbose_name=_("客户"),
        on_delete=models.PROTECT,
        related_name="reveals",
    )
    reason = models.CharField(_("原因"), max_length=12, choices=Reason.choices)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    source = models.CharField(_("页面"), max_length=12, choices=Source.choices)
    ip = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    created_at = models.DateTimeField(_("查看时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("号码查看记录")
        verbose_name_plural = _("号码查看记录")
        ordering = ["-created_at"]
        permissions = [("reveal_mobile", _("可在联系客户时查看完整手机号（留痕）"))]
        indexes = [models.Index(fields=["user", "created_at"], name="reveal_user_time")]
        constraints = [
            models.CheckConstraint(
                name="reveal_other_needs_note",
                condition=~models.Q(reason="other") | ~models.Q(note=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · #{self.lead_id} · {self.get_reason_display()}"


class PrivacyRequest(models.Model):
    """A customer's request under PIPL: a copy of what is held (access) or erasure."""

    class Kind(models.TextChoices):
        ACCESS = "access", _("查阅/复制个人信息")
        ERASURE = "erasure", _("删除个人信息（匿名化）")

    kind = models.CharField(_("请求类型"), max_length=10, choices=Kind.choices)
    customer = models.ForeignKey(
        "leads.Customer",
        verbose_name=_("客户"),
        on_delete=models.PROTECT,
        related_name="privacy_requests",
    )
    reference = models.CharField(_("请求来源/工单号"), max_length=100)
    note = models.CharField(_("备注"), max_length=255, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("处理时间"), default=timezone.now, db_index=True)
    summary = models.JSONField(_("处理结果"), default=dict, blank=True)

    class Meta:
        verbose_name = _("个人信息请求")
        verbose_name_plural = _("个人信息请求")
        ordering = ["-created_at"]
        permissions = [("handle_privacy_request", _("可处理客户的查阅与删除请求"))]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.reference}"


class LoginFailure(models.Model):
    """One failed login; enough of them in a short time lock the account (see leads.security)."""

    username = models.CharField(_("账号"), max_length=150, db_index=True)
    ip = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("登录失败记录")
        verbose_name_plural = _("登录失败记录")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.username} · {self.ip or '—'}"
