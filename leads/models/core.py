"""Customers, raw leads, leads with their two state machines, follow-ups and the audit trail.

State machine transitions change in-memory fields only. Services (leads/services/) load the
row with a lock, call the transition, save with update_fields and write the LeadEvent.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from leads.masking import mask_mobile


class VehicleSeries(models.Model):
    code = models.CharField(_("车系编码"), max_length=20, unique=True)
    name = models.CharField(_("车系名称"), max_length=50)

    class Meta:
        verbose_name = _("车系")
        verbose_name_plural = _("车系")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class VehicleModel(models.Model):
    series = models.ForeignKey(
        VehicleSeries, verbose_name=_("车系"), on_delete=models.PROTECT, related_name="models"
    )
    code = models.CharField(_("车型编码"), max_length=30, unique=True)
    name = models.CharField(_("车型名称"), max_length=100)
    is_active = models.BooleanField(_("在售"), default=True)

    class Meta:
        verbose_name = _("车型")
        verbose_name_plural = _("车型")
        ordering = ["series__code", "code"]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    """One person (oneID), keyed by the normalised mainland mobile number."""

    mobile = models.CharField(_("手机号"), max_length=11, unique=True)
    name = models.CharField(_("姓名"), max_length=50, blank=True)
    province = models.CharField(_("省份"), max_length=20, blank=True)
    city = models.CharField(_("城市"), max_length=30, blank=True, db_index=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    # Set when the customer asked to be erased: name, mobile and free text are gone, the rows
    # (and so every count and KPI) stay. The mobile becomes "X<id>" to keep it unique.
    anonymised_at = models.DateTimeField(_("匿名化时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("客户")
        verbose_name_plural = _("客户")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="customer_mobile_cn_format",
                condition=Q(mobile__regex=r"^1[3-9][0-9]{9}$")
                | Q(anonymised_at__isnull=False, mobile__regex=r"^X[0-9]{1,10}$"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name or _('未留名')} {self.masked_mobile}"

    @property
    def masked_mobile(self) -> str:
        if self.anonymised_at is not None:
            return str(_("已匿名"))
        return mask_mobile(self.mobile)


class RawLead(models.Model):
    """One submission from one channel, stored exactly as received and never edited."""

    class Source(models.TextChoices):
        API = "api", _("接口")
        EXCEL = "excel", _("Excel导入")
        ADMIN = "admin", _("后台录入")
        DEALER = "dealer", _("经销商录入")

    class Outcome(models.TextChoices):
        PENDING = "pending", _("处理中")
        NEW = "new", _("新建线索")
        MERGED = "merged", _("合并到已有线索")
        REACTIVATED = "reactivated", _("合并并激活")
        INVALID = "invalid", _("无效")

    channel = models.ForeignKey(
        "channels.Channel",
        verbose_name=_("渠道"),
        on_delete=models.PROTECT,
        related_name="raw_leads",
    )
    external_id = models.CharField(_("渠道线索ID"), max_length=64, null=True, blank=True)
    source = models.CharField(_("来源方式"), max_length=10, choices=Source.choices)
    payload = models.JSONField(_("原始数据"))
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now, db_index=True)
    mobile = models.CharField(_("规范化手机号"), max_length=11, blank=True, db_index=True)
    outcome = models.CharField(
        _("处理结果"), max_length=12, choices=Outcome.choices, default=Outcome.PENDING
    )
    outcome_reason = models.CharField(_("结果原因代码"), max_length=200, blank=True)
    outcome_detail = models.CharField(_("结果说明"), max_length=255, blank=True)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("客户"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="raw_leads",
    )
    lead = models.ForeignKey(
        "Lead",
        verbose_name=_("线索"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="raw_leads",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("原始线索")
        verbose_name_plural = _("原始线索")
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["channel", "received_at"], name="rawlead_channel_received"),
            models.Index(fields=["outcome", "received_at"], name="rawlead_outcome_received"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=Q(external_id__isnull=False),
                name="rawlead_unique_external_id_per_channel",
            ),
            models.CheckConstraint(
                name="rawlead_outcome_valid",
                condition=Q(outcome__in=["pending", "new", "merged", "reactivated", "invalid"]),
            ),
            models.CheckConstraint(
                name="rawlead_routed_has_lead",
                condition=Q(outcome__in=["pending", "invalid"]) | Q(lead__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{_('原始线索')} #{self.pk}"


class GradeCycle(models.Model):
    """The follow-up cycle of an open grade: an H lead is followed up at least every 7 days."""

    grade = models.CharField(_("意向级别"), max_length=1, unique=True)
    days = models.PositiveSmallIntegerField(_("跟进周期（天）"))
    expected_purchase = models.CharField(_("预计购车时间"), max_length=30, blank=True)
    description = models.CharField(_("说明"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("级别跟进周期")
        verbose_name_plural = _("级别跟进周期")
        ordering = ["days"]
        constraints = [
            models.CheckConstraint(
                name="gradecycle_open_grades_only", condition=Q(grade__in=["H", "A", "B", "C"])
            ),
            models.CheckConstraint(name="gradecycle_days_positive", condition=Q(days__gt=0)),
        ]

    def __str__(self) -> str:
        return f"{self.grade}: {self.days}"


class Grade(models.TextChoices):
    UNRATED = "", _("未定级")
    H = "H", _("H 两周内购车")
    A = "A", _("A 一个月内购车")
    B = "B", _("B 三个月内购车")
    C = "C", _("C 六个月内购车")
    N = "N", _("N 半年以上")
    O = "O", _("O 已成交")  # noqa: E741
    F = "F", _("F 已战败")


class Status(models.TextChoices):
    # At HQ
    NEW = "new", _("新建")
    CLEANSING = "cleansing", _("待清洗")
    QUALIFIED = "qualified", _("合格待派发")
    INVALID = "invalid", _("无效")
    NURTURING = "nurturing", _("培育中")
    ARCHIVED = "archived", _("已归档")
    # At the dealer
    DISPATCHED = "dispatched", _("已派发待分配")
    ASSIGNED = "assigned", _("首次待跟进")
    FOLLOWING = "following", _("再次待跟进")
    INVITED = "invited", _("邀约成功")
    ARRIVED = "arrived", _("已到店")
    TEST_DRIVE = "test_drive", _("已试驾")
    ORDERED = "ordered", _("已成交")
    DEFEAT_REQUESTED = "defeat_requested", _("战败待审")
    DEFEATED = "defeated", _("已战败")
    SILENCED = "silenced", _("静默中")
    RELEASED = "released", _("已释放")
    RECALLED = "recalled", _("已召回")


HQ_STATUSES = [
    Status.NEW,
    Status.CLEANSING,
    Status.QUALIFIED,
    Status.INVALID,
    Status.NURTURING,
    Status.ARCHIVED,
]
# An advisor is working the lead.
WORKING_STATUSES = [
    Status.ASSIGNED,
    Status.FOLLOWING,
    Status.INVITED,
    Status.ARRIVED,
    Status.TEST_DRIVE,
]
# Statuses in which the lead belongs to an advisor.
OWNED_STATUSES = [*WORKING_STATUSES, Status.DEFEAT_REQUESTED, Status.SILENCED]
# At the dealer, waiting for an advisor (the dealer's inbox and pool).
POOL_STATUSES = [Status.DISPATCHED, Status.RELEASED, Status.RECALLED]
# Can be brought back by new customer activity (flag 激).
REACTIVATABLE_STATUSES = [Status.DEFEATED, Status.INVALID, Status.ARCHIVED, Status.RELEASED]
OPEN_GRADES = [Grade.H, Grade.A, Grade.B, Grade.C]


class Intent(models.TextChoices):
    HIGH = "high", _("高")
    NORMAL = "normal", _("一般")
    LOW = "low", _("低")
    INVALID = "invalid", _("无效")


class PurchaseTimeframe(models.TextChoices):
    WEEKS_2 = "2w", _("两周内")
    MONTH_1 = "1m", _("一个月内")
    MONTHS_3 = "3m", _("三个月内")
    MONTHS_6 = "6m", _("六个月内")
    LATER = "later", _("半年以上")


class Lead(ConcurrentTransitionMixin, models.Model):
    """The unique lead of one customer at one dealer (or at HQ while no dealer is known)."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("客户"), on_delete=models.PROTECT, related_name="leads"
    )
    dealer = models.ForeignKey(
        "dealers.Dealer",
        verbose_name=_("经销商"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="leads",
    )
    advisor = models.ForeignKey(
        "dealers.Advisor",
        verbose_name=_("销售顾问"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="leads",
    )
    channel = models.ForeignKey(
        "channels.Channel",
        verbose_name=_("首次来源渠道"),
        on_delete=models.PROTECT,
        related_name="leads",
    )
    intended_model = models.ForeignKey(
        VehicleModel,
        verbose_name=_("意向车型"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="leads",
    )
    status = FSMField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.NEW, protected=True
    )
    status_before_silence = models.CharField(
        _("静默前状态"), max_length=20, choices=Status.choices, blank=True
    )
    grade = FSMField(
        _("意向级别"),
        max_length=1,
        choices=Grade.choices,
        default=Grade.UNRATED,
        blank=True,
        protected=True,
    )
    intent = models.CharField(_("意向程度"), max_length=10, choices=Intent.choices, blank=True)
    purchase_timeframe = models.CharField(
        _("预计购车时间"), max_length=5, choices=PurchaseTimeframe.choices, blank=True
    )
    score = models.PositiveSmallIntegerField(_("评分"), default=0)
    score_breakdown = models.JSONField(_("评分明细"), default=list, blank=True)

    duplicate_count = models.PositiveIntegerField(_("重复次数"), default=0)
    is_grabbed = models.BooleanField(_("抢单"), default=False)
    is_reactivated = models.BooleanField(_("已激活"), default=False)

    hq_reason = models.CharField(_("滞留总部原因"), max_length=255, blank=True)
    invalid_reason = models.CharField(_("无效原因"), max_length=255, blank=True)
    defeat_reason = models.CharField(_("战败原因"), max_length=255, blank=True)

    consent_dealer = models.ForeignKey(
        "dealers.Dealer",
        verbose_name=_("客户同意联系的经销商"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    consent_at = models.DateTimeField(_("同意时间"), null=True, blank=True)
    consent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("同意记录人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    consent_note = models.CharField(_("同意来源"), max_length=100, blank=True)

    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, db_index=True)
    qualified_at = models.DateTimeField(_("合格时间"), null=True, blank=True)
    dispatch_at = models.DateTimeField(_("计划派发时间"), null=True, blank=True)
    eligible_at = models.DateTimeField(_("满足派发条件时间"), null=True, blank=True)
    dispatch_latency_ms = models.PositiveIntegerField(_("派发延迟（毫秒）"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("派发时间"), null=True, blank=True, db_index=True)
    assigned_at = models.DateTimeField(_("分配时间"), null=True, blank=True)
    first_followed_at = models.DateTimeField(_("首次跟进时间"), null=True, blank=True)
    next_follow_up_at = models.DateTimeField(_("下次跟进时间"), null=True, blank=True)
    last_activity_at = models.DateTimeField(_("最近活动时间"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("到店时间"), null=True, blank=True)
    ordered_at = models.DateTimeField(_("成交时间"), null=True, blank=True)
    defeated_at = models.DateTimeField(_("战败时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    # HQ cleansing: who is calling the lead now, until when, and how many calls went unanswered.
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("领取坐席"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    claim_expires_at = models.DateTimeField(_("领取到期"), null=True, blank=True)
    call_attempts = models.PositiveSmallIntegerField(_("未接通次数"), default=0)
    nurture_due_at = models.DateTimeField(_("下次培育时间"), null=True, blank=True, db_index=True)
    assignment_reason = models.CharField(_("分配依据"), max_length=255, blank=True)
    silenced_at = models.DateTimeField(_("静默开始"), null=True, blank=True)
    silence_until = models.DateTimeField(_("静默结束"), null=True, blank=True)
    released_from = models.ForeignKey(
        "dealers.Advisor",
        verbose_name=_("释放前的顾问"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    escalation_level = models.PositiveSmallIntegerField(_("逾期升级级别"), default=0)
    assignment_tier = models.PositiveSmallIntegerField(_("分配梯队"), null=True, blank=True)

    class Meta:
        verbose_name = _("线索")
        verbose_name_plural = _("线索")
        ordering = ["-created_at"]
        permissions = [
            ("cleanse_lead", _("可清洗线索")),
            ("dispatch_lead", _("可派发线索")),
            ("transfer_lead", _("可转派线索")),
            ("assign_lead", _("可分配线索")),
            ("follow_lead", _("可跟进线索")),
            ("approve_defeat", _("可审批战败")),
            ("recall_lead", _("可召回线索")),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="lead_status_created"),
            models.Index(fields=["dealer", "status"], name="lead_dealer_status"),
            models.Index(fields=["advisor", "status"], name="lead_advisor_status"),
            models.Index(fields=["next_follow_up_at"], name="lead_next_follow_up"),
            models.Index(
                fields=["created_at"],
                condition=Q(status="cleansing"),
                name="lead_cleansing_queue",
            ),
            models.Index(
                fields=["dispatch_at"],
                condition=Q(status="qualified", dispatch_at__isnull=False),
                name="lead_dispatch_due",
            ),
        ]
        constraints = [
            # The uniqueness rule (唯一性): one lead per customer per dealer, and one at HQ.
            models.UniqueConstraint(
                fields=["customer", "dealer"],
                condition=Q(dealer__isnull=False),
                name="lead_unique_customer_per_dealer",
            ),
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(dealer__isnull=True),
                name="lead_unique_customer_at_hq",
            ),
            models.CheckConstraint(name="lead_status_valid", condition=Q(status__in=Status.values)),
            models.CheckConstraint(name="lead_grade_valid", condition=Q(grade__in=Grade.values)),
            models.CheckConstraint(
                name="lead_at_dealer_has_dealer",
                condition=Q(status__in=HQ_STATUSES) | Q(dealer__isnull=False),
            ),
            models.CheckConstraint(
                name="lead_owned_has_advisor",
                condition=~Q(status__in=OWNED_STATUSES) | Q(advisor__isnull=False),
            ),
            models.CheckConstraint(
                name="lead_advisor_needs_dealer",
                condition=Q(advisor__isnull=True) | Q(dealer__isnull=False),
            ),
            models.CheckConstraint(name="lead_score_0_100", condition=Q(score__lte=100)),
            models.CheckConstraint(
                name="lead_claim_has_expiry",
                condition=Q(claimed_by__isnull=True) | Q(claim_expires_at__isnull=False),
            ),
            models.CheckConstraint(
                name="lead_dispatched_after_created",
                condition=Q(dispatched_at__isnull=True) | Q(dispatched_at__gte=F("created_at")),
            ),
        ]

    def __str__(self) -> str:
        return f"{_('线索')} #{self.pk}"

    # --- conditions (pure: local fields only, no queries) ---

    def has_dealer_consent(self) -> bool:
        """The customer agreed that this very dealer may contact them."""
        return self.dealer_id is not None and self.consent_dealer_id == self.dealer_id

    def has_advisor(self) -> bool:
        return self.advisor_id is not None

    def has_invalid_reason(self) -> bool:
        return bool(self.invalid_reason)

    def has_defeat_reason(self) -> bool:
        return bool(self.defeat_reason)

    @property
    def flags(self) -> list[str]:
        """The marks shown beside a lead: 重 merged duplicate, 抢 grabbed, 激 reactivated."""
        marks = []
        if self.duplicate_count:
            marks.append("重")
        if self.is_grabbed:
            marks.append("抢")
        if self.is_reactivated:
            marks.append("激")
        return marks

    # --- the status machine: HQ side ---

    @transition(
        field=status,
        source=Status.NEW,
        target=Status.CLEANSING,
        permission="leads.cleanse_lead",
        custom={"label": _("转入清洗"), "admin": True},
    )
    def send_to_cleansing(self, *, reason: str = "") -> None:
        self.hq_reason = reason

    @transition(
        field=status,
        source=[Status.NEW, Status.CLEANSING, Status.NURTURING],
        target=Status.QUALIFIED,
        conditions=[has_dealer_consent],
        permission="leads.cleanse_lead",
        custom={"label": _("确认合格"), "admin": True},
    )
    def qualify(self, *, at) -> None:
        self.qualified_at = at
        self.hq_reason = ""
        self.nurture_due_at = None
        self.claimed_by = None
        self.claim_expires_at = None

    @transition(
        field=status,
        source=[Status.NEW, Status.CLEANSING, Status.QUALIFIED, Status.NURTURING],
        target=Status.INVALID,
        permission="leads.cleanse_lead",
        custom={"label": _("标记无效"), "admin": True, "form": "leads.admin.forms.ReasonForm"},
    )
    def invalidate(self, *, reason: str) -> None:
        self.invalid_reason = reason
        self.dispatch_at = None
        self.nurture_due_at = None
        self.claimed_by = None
        self.claim_expires_at = None

    @transition(
        field=status,
        source=[Status.NEW, Status.CLEANSING, Status.QUALIFIED],
        target=Status.NURTURING,
        permission="leads.cleanse_lead",
        custom={"label": _("转入培育"), "admin": True},
    )
    def nurture(self) -> None:
        self.dispatch_at = None
        self.claimed_by = None
        self.claim_expires_at = None

    @transition(
        field=status,
        source=Status.NURTURING,
        target=Status.ARCHIVED,
        permission="leads.cleanse_lead",
        custom={"label": _("培育失败归档"), "admin": True, "form": "leads.admin.forms.ReasonForm"},
    )
    def archive(self, *, reason: str = "") -> None:
        self.hq_reason = reason
        self.nurture_due_at = None

    @transition(
        field=status,
        source=Status.QUALIFIED,
        target=Status.DISPATCHED,
        conditions=[has_dealer_consent],
        permission="leads.dispatch_lead",
        custom={"label": _("立即派发"), "admin": True},
    )
    def dispatch(self, *, at) -> None:
        self.dispatched_at = at
        self.dispatch_at = None

    @transition(
        field=status,
        source=[*POOL_STATUSES, *OWNED_STATUSES],
        target=Status.DISPATCHED,
        permission="leads.transfer_lead",
        custom={"label": _("转派经销商"), "admin": False},
    )
    def transfer(self, *, dealer, at) -> None:
        self.dealer = dealer
        self.advisor = None
        self.assigned_at = None
        self.dispatched_at = at
        self.status_before_silence = ""

    @transition(
        field=status,
        source=REACTIVATABLE_STATUSES,
        target=RETURN_VALUE(Status.CLEANSING, Status.DISPATCHED),
        custom={"label": _("激活"), "admin": False},
    )
    def reactivate(self) -> str:
        """Back to the dealer's inbox when it has a dealer, else back to the HQ queue."""
        self.is_reactivated = True
        self.advisor = None
        self.invalid_reason = ""
        self.defeat_reason = ""
        # A new round: the last round's unanswered calls and escalations no longer count.
        self.call_attempts = 0
        self.escalation_level = 0
        self.claimed_by = None
        self.claim_expires_at = None
        return Status.DISPATCHED if self.dealer_id else Status.CLEANSING

    # --- the status machine: dealer side ---

    @transition(
        field=status,
        source=POOL_STATUSES,
        target=Status.ASSIGNED,
        permission="leads.assign_lead",
        custom={"label": _("分配顾问"), "admin": True, "form": "leads.admin.forms.AssignForm"},
    )
    def assign(self, *, advisor, at) -> None:
        self.advisor = advisor
        self.assigned_at = at

    @transition(
        field=status,
        source=Status.ASSIGNED,
        target=Status.FOLLOWING,
        permission="leads.follow_lead",
        custom={"label": _("首次跟进"), "admin": False},
    )
    def start_following(self, *, at) -> None:
        self.first_followed_at = at

    @transition(
        field=status,
        source=[Status.ASSIGNED, Status.FOLLOWING],
        target=Status.INVITED,
        permission="leads.follow_lead",
        custom={"label": _("邀约成功"), "admin": False},
    )
    def invite(self) -> None:
        pass

    @transition(
        field=status,
        source=[Status.ASSIGNED, Status.FOLLOWING, Status.INVITED],
        target=Status.ARRIVED,
        permission="leads.follow_lead",
        custom={"label": _("已到店"), "admin": False},
    )
    def arrive(self, *, at) -> None:
        self.arrived_at = at

    @transition(
        field=status,
        source=Status.ARRIVED,
        target=Status.TEST_DRIVE,
        permission="leads.follow_lead",
        custom={"label": _("已试驾"), "admin": False},
    )
    def test_drive(self) -> None:
        pass

    @transition(
        field=status,
        source=WORKING_STATUSES,
        target=Status.ORDERED,
        permission="leads.follow_lead",
        custom={"label": _("成交"), "admin": False},
    )
    def order(self, *, at) -> None:
        self.ordered_at = at
        self.next_follow_up_at = None

    @transition(
        field=status,
        source=WORKING_STATUSES,
        target=Status.DEFEAT_REQUESTED,
        permission="leads.follow_lead",
        custom={"label": _("申请战败"), "admin": False},
    )
    def request_defeat(self, *, reason: str) -> None:
        self.defeat_reason = reason

    @transition(
        field=status,
        source=Status.DEFEAT_REQUESTED,
        target=Status.DEFEATED,
        conditions=[has_defeat_reason],
        permission="leads.approve_defeat",
        custom={"label": _("批准战败"), "admin": True},
    )
    def approve_defeat(self, *, at) -> None:
        self.defeated_at = at
        self.next_follow_up_at = None

    @transition(
        field=status,
        source=Status.DEFEAT_REQUESTED,
        target=Status.FOLLOWING,
        permission="leads.approve_defeat",
        custom={"label": _("驳回战败"), "admin": True, "form": "leads.admin.forms.ReasonForm"},
    )
    def reject_defeat(self, *, reason: str = "") -> None:
        self.defeat_reason = ""

    @transition(
        field=status,
        source=WORKING_STATUSES,
        target=Status.SILENCED,
        custom={"label": _("静默"), "admin": False},
    )
    def silence(self) -> None:
        self.status_before_silence = self.status

    @transition(
        field=status,
        source=Status.SILENCED,
        target=RETURN_VALUE(*WORKING_STATUSES),
        custom={"label": _("解除静默"), "admin": False},
    )
    def unsilence(self) -> str:
        """Back to the stage the advisor had reached before the silence."""
        previous = self.status_before_silence or Status.FOLLOWING
        self.status_before_silence = ""
        self.silenced_at = self.silence_until = None
        return previous

    @transition(
        field=status,
        source=Status.SILENCED,
        target=Status.RELEASED,
        custom={"label": _("释放到公共池"), "admin": False},
    )
    def release(self) -> None:
        self.released_from_id = self.advisor_id
        self.advisor = None
        self.status_before_silence = ""
        self.silence_until = None

    @transition(
        field=status,
        source=[*WORKING_STATUSES, Status.SILENCED],
        target=Status.RECALLED,
        permission="leads.recall_lead",
        custom={"label": _("召回到公共池"), "admin": True},
    )
    def recall(self) -> None:
        self.advisor = None
        self.status_before_silence = ""

    # --- the grade machine ---

    @transition(
        field=grade,
        source=[Grade.UNRATED, Grade.H, Grade.A, Grade.B, Grade.C, Grade.N],
        target=RETURN_VALUE(Grade.H, Grade.A, Grade.B, Grade.C, Grade.N),
        custom={"label": _("调整级别"), "admin": True, "form": "leads.admin.forms.GradeForm"},
    )
    def set_grade(self, *, grade: str) -> str:
        return grade

    @transition(
        field=grade,
        source=[Grade.UNRATED, *OPEN_GRADES],
        target=Grade.O,
        custom={"label": _("成交"), "admin": False},
    )
    def grade_ordered(self) -> None:
        pass

    @transition(
        field=grade,
        source=[Grade.UNRATED, *OPEN_GRADES, Grade.N],
        target=Grade.F,
        custom={"label": _("战败"), "admin": False},
    )
    def grade_defeated(self) -> None:
        pass

    @transition(
        field=grade,
        source=Grade.F,
        target=Grade.UNRATED,
        custom={"label": _("战败激活"), "admin": False},
    )
    def grade_reactivated(self) -> None:
        pass


class FollowUp(models.Model):
    """One contact of an advisor with the customer, with its result and the next due time."""

    class Method(models.TextChoices):
        PHONE = "phone", _("电话")
        WECHAT = "wechat", _("微信")
        SMS = "sms", _("短信")
        STORE = "store", _("到店")
        OTHER = "other", _("其他")

    class Result(models.TextChoices):
        REACHED = "reached", _("已联系")
        NOT_REACHED = "not_reached", _("未接通")
        INVITED = "invited", _("邀约成功")
        ARRIVED = "arrived", _("到店")
        TEST_DRIVE = "test_drive", _("试驾")
        ORDERED = "ordered", _("成交")
        DEFEAT = "defeat", _("申请战败")

    lead = models.ForeignKey(
        Lead, verbose_name=_("线索"), on_delete=models.CASCADE, related_name="follow_ups"
    )
    advisor = models.ForeignKey(
        "dealers.Advisor",
        verbose_name=_("销售顾问"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="follow_ups",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    method = models.CharField(_("跟进方式"), max_length=10, choices=Method.choices)
    result = models.CharField(_("跟进结果"), max_length=12, choices=Result.choices)
    grade_after = models.CharField(_("跟进后级别"), max_length=1, choices=Grade.choices, blank=True)
    next_follow_up_at = models.DateTimeField(_("下次跟进时间"), null=True, blank=True)
    notes = models.TextField(_("备注"), blank=True)
    created_at = models.DateTimeField(_("跟进时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("跟进记录")
        verbose_name_plural = _("跟进记录")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["lead", "created_at"], name="followup_lead_created")]

    def __str__(self) -> str:
        return f"{self.get_method_display()} · {self.get_result_display()}"


class LeadEvent(models.Model):
    """The audit trail: one row per change a service makes to a lead (who, when, from, to, why)."""

    class Kind(models.TextChoices):
        CREATED = "created", _("创建")
        MERGED = "merged", _("重复合并")
        STATUS = "status", _("状态变更")
        GRADE = "grade", _("级别变更")
        DISPATCHED = "dispatched", _("派发")
        TRANSFERRED = "transferred", _("转派")
        ASSIGNED = "assigned", _("分配")
        FOLLOW_UP = "follow_up", _("跟进")
        UPDATED = "updated", _("信息修改")
        CONSENT = "consent", _("客户同意")
        REACTIVATED = "reactivated", _("激活")
        NOTIFIED = "notified", _("通知")
        NOTE = "note", _("备注")

    lead = models.ForeignKey(
        Lead, verbose_name=_("线索"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(_("操作方"), max_length=100, blank=True)
    action = models.CharField(_("操作"), max_length=40)
    from_value = models.CharField(_("变更前"), max_length=40, blank=True)
    to_value = models.CharField(_("变更后"), max_length=40, blank=True)
    reason = models.CharField(_("原因"), max_length=255, blank=True)
    data = models.JSONField(_("详情"), default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("线索日志")
        verbose_name_plural = _("线索日志")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["lead", "created_at"], name="leadevent_lead_created")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.action}"


class ScoringRule(models.Model):
    """One configurable rule of the lead score. The score is the capped sum of the rules that
    apply, stored with its per-rule breakdown so that a lead can say why it has 72 points."""

    class Kind(models.TextChoices):
        CHANNEL_WEIGHT = "channel_weight", _("渠道质量（按渠道权重折算）")
        HAS_NAME = "has_name", _("留有姓名")
        HAS_CITY = "has_city", _("留有城市")
        MODEL_NAMED = "model_named", _("指定意向车型")
        DEALER_NAMED = "dealer_named", _("指定经销商")
        CONSENT = "consent", _("同意经销商联系")
        TIMEFRAME = "timeframe", _("购车时间")
        REPEATED = "repeated", _("重复留资（每次）")

    kind = models.CharField(_("规则类型"), max_length=20, choices=Kind.choices, unique=True)
    points = models.PositiveSmallIntegerField(
        _("分值"),
        help_text=_(
            "渠道质量：满分（按渠道权重0–100折算）；重复留资：每次加分；其余：满足即加分。"
        ),
    )
    params = models.JSONField(
        _("参数"),
        default=dict,
        blank=True,
        help_text=_(
            '购车时间按档位折算比例，如 {"2w": 1.0, "1m": 0.8}；重复留资可设 {"max_times": 3}。'
        ),
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("评分规则")
        verbose_name_plural = _("评分规则")
        ordering = ["kind"]
        constraints = [
            models.CheckConstraint(name="scoringrule_points_0_100", condition=Q(points__lte=100)),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}（{self.points}）"


class Notification(models.Model):
    """A message in a user's or a dealer's inbox (duplicate arrived, lead dispatched …)."""

    class Kind(models.TextChoices):
        DUPLICATE = "duplicate", _("重复留资")
        REACTIVATED = "reactivated", _("线索激活")
        DISPATCHED = "dispatched", _("新派发线索")
        ASSIGNED = "assigned", _("新分配线索")
        OTHER = "other", _("其他")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="lead_notifications",
    )
    dealer = models.ForeignKey(
        "dealers.Dealer",
        verbose_name=_("经销商"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    lead = models.ForeignKey(
        Lead, verbose_name=_("线索"), on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    message = models.CharField(_("内容"), max_length=255)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_recipient"),
            models.Index(fields=["dealer", "read_at"], name="notification_dealer"),
        ]
        constraints = [
            models.CheckConstraint(
                name="notification_has_addressee",
                condition=Q(recipient__isnull=False) | Q(dealer__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.message
