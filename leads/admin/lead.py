from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django_fsm.admin import FSMAdminMixin
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import (
    RangeDateFilter,
    RelatedDropdownFilter,
)
from unfold.decorators import display

from config.errors import DomainError
from leads import services
from leads.admin.dispatch import LeadDispatchAdminMixin
from leads.admin.exports import LeadExportResource, SafeExportMixin
from leads.admin.filters import (
    ChannelLevel1Filter,
    ChannelLevel2Filter,
    ChannelLevel3Filter,
    FlagFilter,
    RegionFilter,
)
from leads.admin.masked import NoMobileLookupsMixin
from leads.admin.records import RawLeadInline
from leads.admin.reveals import reveal_action_url
from leads.admin.scoping import region_scoped
from leads.forms import reveal_panel
from leads.masking import mask_mobiles
from leads.models import Lead, Status
from leads.selectors import lead_list_admin, lead_timeline, leads_matching

STATUS_COLOURS = {
    **{status: "info" for status in Status.values},
    Status.CLEANSING: "warning",
    Status.NURTURING: "warning",
    Status.DEFEAT_REQUESTED: "warning",
    Status.SILENCED: "warning",
    Status.ORDERED: "success",
    Status.INVALID: "danger",
    Status.DEFEATED: "danger",
    Status.ARCHIVED: "danger",
}

# The admin's transition buttons call these services; nothing else changes a lead's state.
TRANSITION_SERVICES = {
    "send_to_cleansing": services.lead_send_to_cleansing,
    "qualify": services.lead_qualify,
    "invalidate": services.lead_invalidate,
    "nurture": services.lead_nurture,
    "archive": services.lead_archive,
    "dispatch": services.lead_dispatch,
    "assign": services.lead_assign,
    "approve_defeat": services.lead_approve_defeat,
    "reject_defeat": services.lead_reject_defeat,
    "recall": services.lead_recall,
    "set_grade": services.lead_set_grade,
}


@admin.register(Lead)
class LeadAdmin(
    NoMobileLookupsMixin, SafeExportMixin, LeadDispatchAdminMixin, FSMAdminMixin, ModelAdmin
):
    resource_classes = [LeadExportResource]
    fsm_fields = ["status", "grade"]
    change_form_template = "admin/leads/lead/change_form.html"
    fsm_transition_form_template = "admin/leads/lead/transition_form.html"
    list_display = [
        "id",
        "customer_display",
        "flags_display",
        "status_display",
        "grade_display",
        "channel_display",
        "dealer_display",
        "advisor_display",
        "score",
        "waiting_display",
        "created_display",
        "dispatched_display",
        "dispatch_reason_display",
    ]
    list_display_links = ["id", "customer_display"]
    list_filter = [
        "status",
        "grade",
        ChannelLevel1Filter,
        ChannelLevel2Filter,
        ChannelLevel3Filter,
        ("dealer", RelatedDropdownFilter),
        RegionFilter,
        FlagFilter,
        "intent",
        ("created_at", RangeDateFilter),
        ("dispatched_at", RangeDateFilter),
    ]
    list_filter_submit = True
    list_per_page = 50
    show_full_result_count = False
    search_fields = ["customer__mobile", "customer__name"]
    search_help_text = _("按手机号（任意格式或后四位）、客户姓名或 #线索号 搜索")
    ordering = ["-created_at"]
    date_hierarchy = None
    fieldsets = [
        (_("客户"), {"fields": ["customer_link", "customer_mobile", "customer_city"]}),
        (
            _("线索"),
            {
                "fields": [
                    "status",
                    "grade",
                    "flags_display",
                    "channel_path",
                    "intended_model",
                    "intent",
                    "purchase_timeframe",
                    "score",
                    "score_breakdown_display",
                ]
            },
        ),
        (
            _("归属"),
            {
                "fields": [
                    "dealer",
                    "advisor",
                    "consent_display",
                    "dispatch_check_display",
                    "assignment_reason",
                    "silence_until",
                    "escalation_level",
                    "hq_reason",
                    "invalid_reason",
                    "defeat_reason",
                ]
            },
        ),
        (
            _("时间"),
            {
                "fields": [
                    "created_at",
                    "qualified_at",
                    "dispatch_at",
                    "dispatched_at",
                    "assigned_at",
                    "first_followed_at",
                    "next_follow_up_at",
                    "last_activity_at",
                    "arrived_at",
                    "ordered_at",
                    "defeated_at",
                ]
            },
        ),
    ]
    editable_fields = ("intended_model", "intent", "purchase_timeframe")
    inlines = [RawLeadInline]

    def get_queryset(self, request):
        return region_scoped(request, lead_list_admin(), "dealer__region")

    # Text people typed (reasons, the consent note) is shown read-only on this page: a number
    # typed into it is masked like the customer's own. Never saved (save_model goes through
    # lead_update with the changed editable fields only).
    TYPED_TEXT = (
        "hq_reason",
        "invalid_reason",
        "defeat_reason",
        "consent_note",
        "assignment_reason",
    )

    def get_object(self, request, object_id, from_field=None):
        lead = super().get_object(request, object_id, from_field)
        if lead is not None:
            for name in self.TYPED_TEXT:
                setattr(lead, name, mask_mobiles(getattr(lead, name) or ""))
        return lead

    def get_search_results(self, request, queryset, search_term):
        return leads_matching(queryset, search_term), False

    def get_readonly_fields(self, request, obj=None):
        names = [f.name for f in Lead._meta.fields if f.name not in self.editable_fields]
        return [
            *names,
            "customer_link",
            "customer_mobile",
            "customer_city",
            "flags_display",
            "channel_path",
            "score_breakdown_display",
            "consent_display",
            "dispatch_check_display",
        ]

    def has_add_permission(self, request):
        return False  # leads are created by intake only (raw lead first)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        changes = {}
        for name in form.changed_data:
            value = form.cleaned_data[name]
            key = "intended_model_id" if name == "intended_model" else name
            changes[key] = value.pk if name == "intended_model" and value else value
        if changes:
            try:
                services.lead_update(lead_id=obj.pk, changes=changes, actor=request.user)
            except DomainError as error:
                self.message_user(request, str(error), messages.ERROR)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        lead = self.get_object(request, object_id)
        if lead is not None:
            extra_context["timeline"] = lead_timeline(lead)
            extra_context["reveal"] = reveal_panel(
                request,
                lead,
                action_url=reveal_action_url(lead.pk),
                next_url=request.path,
            )
        return super().change_view(request, object_id, form_url, extra_context)

    # --- transitions through services ---

    @staticmethod
    def get_fsm_block_label(fsm_field_name: str) -> str:
        return str(_("状态操作") if fsm_field_name == "status" else _("级别操作"))

    def fsm_transition_view(self, request, *args, **kwargs):
        if not self.has_change_permission(request):
            raise PermissionDenied  # read-only roles: no transition form at all
        return super().fsm_transition_view(request, *args, **kwargs)

    def _get_fsm_extra_context(self, *, request, obj):
        # Read-only roles (operations, auditors, region managers) see no transition buttons.
        if obj is None or not self.has_change_permission(request, obj):
            return iter(())
        return super()._get_fsm_extra_context(request=request, obj=obj)

    def is_fsm_transition_visible(self, transition) -> bool:
        return transition.name in TRANSITION_SERVICES and bool(transition.custom.get("admin"))

    def _apply_fsm_transition(self, *, obj, transition_name, request, kwargs=None):
        service = TRANSITION_SERVICES.get(transition_name)
        if service is None:
            self.message_user(request, _("此操作不能在后台执行。"), messages.ERROR)
            return False
        params = dict(kwargs or {})
        if "advisor_choice" in params:
            params["advisor_id"] = params.pop("advisor_choice").pk
        try:
            service(lead_id=obj.pk, actor=request.user, **params)
        except DomainError as error:
            self.message_user(request, str(error), messages.ERROR)
            return False
        label = next(iter(getattr(Lead, transition_name)._django_fsm.transitions.values()))
        self.message_user(
            request,
            _("已完成：%(action)s") % {"action": label.custom.get("label", transition_name)},
            messages.SUCCESS,
        )
        return True

    # --- columns ---

    @display(description=_("客户"), ordering="customer__name")
    def customer_display(self, obj):
        return format_html(
            "{}<br><span style='opacity:.7'>{}</span>",
            obj.customer.name or _("未留名"),
            obj.customer.masked_mobile,
        )

    @display(description=_("标记"))
    def flags_display(self, obj):
        marks = obj.flags
        if obj.duplicate_count > 1:
            marks = [f"重×{obj.duplicate_count}" if m == "重" else m for m in marks]
        return " ".join(marks) or "—"

    @display(description=_("状态"), ordering="status", label=STATUS_COLOURS)
    def status_display(self, obj):
        return obj.status, obj.get_status_display()

    @display(description=_("级别"), ordering="grade")
    def grade_display(self, obj):
        return obj.grade or "—"

    @display(description=_("销售顾问"), ordering="advisor__name")
    def advisor_display(self, obj):
        return obj.advisor.name if obj.advisor else "—"

    @display(description=_("创建时间"), ordering="created_at")
    def created_display(self, obj):
        return _short_time(obj.created_at)

    @display(description=_("派发时间"), ordering="dispatched_at")
    def dispatched_display(self, obj):
        return _short_time(obj.dispatched_at)

    @display(description=_("渠道"), ordering="channel__name")
    def channel_display(self, obj):
        return obj.channel.name

    @display(description=_("经销商"), ordering="dealer__code")
    def dealer_display(self, obj):
        return obj.dealer.name if obj.dealer else _("总部")

    @display(description=_("已等待"))
    def waiting_display(self, obj):
        if obj.status in (Status.ORDERED, Status.DEFEATED, Status.INVALID, Status.ARCHIVED):
            return "—"
        return _age(timezone.now() - obj.created_at)

    # --- change page fields ---

    @display(description=_("客户"))
    def customer_link(self, obj):
        from django.urls import reverse

        url = reverse("admin:leads_customer_change", args=[obj.customer_id])
        return format_html('<a href="{}">{}</a>', url, obj.customer.name or _("未留名"))

    @display(description=_("手机号"))
    def customer_mobile(self, obj):
        return obj.customer.masked_mobile  # in full only through the logged reveal above

    @display(description=_("城市"))
    def customer_city(self, obj):
        return obj.customer.city or "—"

    @display(description=_("渠道（一级 › 二级 › 三级）"))
    def channel_path(self, obj):
        return " › ".join(obj.channel.path_names())

    @display(description=_("评分构成"))
    def score_breakdown_display(self, obj):
        rows = obj.score_breakdown or []
        if not rows:
            return "—"
        lines = format_html_join(
            "",
            "<li>{}：<b>{}</b> {}</li>",
            ((row.get("rule", ""), row.get("points", 0), row.get("detail", "")) for row in rows),
        )
        return format_html(
            '<ul class="score-breakdown">{}</ul><div>{}</div>',
            lines,
            _("合计 %(n)s 分") % {"n": obj.score},
        )

    @display(description=_("客户同意"))
    def consent_display(self, obj):
        if not obj.consent_dealer_id:
            return _("未记录")
        when = (
            timezone.localtime(obj.consent_at).strftime("%Y-%m-%d %H:%M") if obj.consent_at else ""
        )
        return " · ".join(p for p in (str(obj.consent_dealer), when, obj.consent_note) if p)


def _short_time(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


def _age(delta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return _("%(n)d分钟") % {"n": minutes}
    hours = minutes // 60
    if hours < 48:
        return _("%(n)d小时") % {"n": hours}
    return _("%(n)d天") % {"n": hours // 24}
