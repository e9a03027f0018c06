from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Channel(models.Model):
    """One node of the three-level taxonomy: OEM/dealer channel › category › concrete source.

    Only level-3 channels receive leads; levels 1 and 2 group them for filters and reports.
    """

    class Level(models.IntegerChoices):
        ORIGIN = 1, _("一级渠道（厂商/经销商）")
        CATEGORY = 2, _("二级渠道（类别）")
        SOURCE = 3, _("三级渠道（具体来源）")

    code = models.CharField(_("渠道编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.PositiveSmallIntegerField(_("级别"), choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级渠道"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    is_active = models.BooleanField(_("启用"), default=True)
    needs_cleansing = models.BooleanField(
        _("需要清洗"), default=False, help_text=_("该渠道的线索先进入总部清洗队列。")
    )
    score_weight = models.PositiveSmallIntegerField(
        _("质量权重"), default=50, help_text=_("0–100，线索评分中渠道质量的分值。")
    )
    dispatch_threshold = models.PositiveSmallIntegerField(
        _("派发分数线"),
        null=True,
        blank=True,
        help_text=_("留空使用全局派发分数线。"),
    )
    owner_advisor = models.ForeignKey(
        "dealers.Advisor",
        verbose_name=_("专属顾问"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="own_channels",
        help_text=_("顾问自己的渠道（如微信名片）：经此渠道回来的客户定向分配给该顾问。"),
    )
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("渠道")
        verbose_name_plural = _("渠道")
        ordering = ["level", "sort_order", "code"]
        constraints = [
            models.CheckConstraint(
                name="channel_level_1_to_3", condition=Q(level__gte=1, level__lte=3)
            ),
            models.CheckConstraint(
                name="channel_parent_iff_not_top",
                condition=Q(level=1, parent__isnull=True) | Q(level__gt=1, parent__isnull=False),
            ),
            models.CheckConstraint(
                name="channel_score_weight_0_100", condition=Q(score_weight__lte=100)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def receives_leads(self) -> bool:
        return self.level == self.Level.SOURCE and self.is_active

    def path_names(self) -> list[str]:
        """Names from level 1 down to this channel (uses parents already loaded, if any)."""
        names, node = [], self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return list(reversed(names))


class ChannelToken(models.Model):
    """The API credential of a level-3 channel. Only a hash is stored; the token is shown once."""

    channel = models.OneToOneField(
        Channel, verbose_name=_("渠道"), on_delete=models.CASCADE, related_name="token"
    )
    key_hash = models.CharField(_("令牌摘要"), max_length=64, unique=True)
    prefix = models.CharField(_("令牌前缀"), max_length=8)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    class Meta:
        verbose_name = _("渠道接口令牌")
        verbose_name_plural = _("渠道接口令牌")

    def __str__(self) -> str:
        return f"{self.channel.code} · {self.prefix}…"
