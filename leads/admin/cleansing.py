"""The HQ cleansing desk in the admin: the queue with "next lead", the call workbench, the
nurturing pool, sampling supervision and the workload page."""

from datetime import timedelta

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import DropdownFilter, RangeDateFilter, RelatedDropdownFilter
from unfold.decorators import action, display

from config.errors import DomainError
from leads.admin.cleansing_forms import (
    CallOutcomeForm,
    NurtureTouchForm,
    SampleDrawForm,
    SampleResultForm,
)
from leads.admin.filters import ChannelLevel1Filter, ChannelLevel2Filter, ChannelLevel3Filter
from leads.admin.forms import ReasonForm
from leads.admin.lead import _age
from leads.admin.masked import MaskedTextAdminMixin
from leads.admin.records import ReadOnlyAdmin
from leads.forms import reveal_panel
from leads.models import (
    CallRecord,
    CleansingPolicy,
    CleansingQueueLead,
    InvalidReason,
    Lead,
    NurtureTouch,
    NurturingLead,
    Status,
    SupervisionSample,
)
from leads.security.requests import refuse_cross_site
from leads.selectors import (
    cleansing_queue,
    cleansing_workload,
    customer_history,
    lead_timeline,
    nurturing_pool,
    supervision_summary,
)
from leads.services import lead_archive
from leads.services.cleansing import (
    lead_call_record,
    lead_claim,
    lead_claim_next,
    lead_nurture_touch_record,
    supervision_sample_record,
    supervision_samples_draw,
)


class CleansingPermissions:
    """The desk is for users who may cleanse leads (HQ agents, HQ admins); auditors, who hold
    the proxy model's view permission, read it without its actions."""

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_view_permission(self, request, obj=None):
        opts = self.opts
        return request.user.has_perm("leads.cleanse_lead") or request.user.has_perm(
            f"{opts.app_label}.view_{opts.model_name}"
        )

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_work_permission(self, request, object_id=None):
        return request.user.has_perm("leads.cleanse_lead")

    def has_workload_permission(self, request, object_id=None):
        return self.has_view_permission(request)  # agents, HQ admins, auditors


class CityFilter(DropdownFilter):
    title = _("城市")
    parameter_name = "city"

    def lookups(self, request, model_admin):
        cities = (
            Lead.objects.filter(status=Status.CLEANSING)
            .exclude(customer__city="")
            .values_list("customer__city", flat=True)
            .distinct()
            .order_by("customer__city")[:300]
        )
        return [(c, c) for c in cities]

    def queryset(self, request, queryset):
        return queryset.filter(customer__city=self.value()) if self.value() else queryset


class AgeFilter(admin.SimpleListFilter):
    title = _("等待时长")
    parameter_name = "age"
    BUCKETS = {
        "1h": (None, timedelta(hours=1)),
        "24h": (timedelta(hours=1), timedelta(hours=24)),
        "3d": (timedelta(hours=24), timedelta(days=3)),
        "old": (timedelta(days=3), None),
    }

    def lookups(self, request, model_admin):
        return [
            ("1h", _("1小时内")),
            ("24h", _("1–24小时")),
            ("3d", _("1–3天")),
            ("old", _("3天以上")),
        ]

    def queryset(self, request, queryset):
        if self.value() not in self.BUCKETS:
            return queryset
        low, high = self.BUCKETS[self.value()]
        now = timezone.now()
        if low is not None:
            queryset = queryset.filter(created_at__lte=now - low)
        if high is not None:
            queryset = queryset.filter(created_at__gt=now - high)
        return queryset


class AttemptsFilter(admin.SimpleListFilter):
    title = _("未接通次数")
    parameter_name = "attempts"

    def lookups(self, request, model_admin):
        return [("0", "0"), ("1", "1"), ("2", _("2次及以上"))]

    def queryset(self, request, queryset):
        match self.value():
            case "0" | "1":
                return queryset.filter(call_attempts=int(self.value()))
            case "2":
                return queryset.filter(call_attempts__gte=2)
        return queryset


def _work_url(lead_id: int) -> str:
    return reverse("admin:leads_cleansingqueuelead_work", args=[lead_id])


@admin.register(CleansingQueueLead)
class CleansingQueueAdmin(CleansingPermissions, ModelAdmin):
    list_display = [
        "id",
        "customer_display",
        "city_display",
        "channel_display",
        "age_display",
        "call_attempts",
        "claim_display",
        "hq_reason",
    ]
    list_display_links = None
    list_filter = [
        ChannelLevel1Filter,
        ChannelLevel2Filter,
        ChannelLevel3Filter,
        CityFilter,
        AgeFilter,
        AttemptsFilter,
    ]
    list_filter_submit = True
    search_fields = ["customer__mobile", "customer__name"]
    show_full_result_count = False
    list_per_page = 50
    actions_list = ["claim_next", "workload"]
    actions_row = ["work"]

    def get_queryset(self, request):
        return cleansing_queue()

    def get_search_results(self, request, queryset, search_term):
        from leads.selectors import leads_matching

        return leads_matching(queryset, search_term), False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_work_permission(request):
            raise PermissionDenied
        return redirect(_work_url(object_id))

    @display(description=_("客户"))
    def customer_display(self, obj):
        return format_html(
            '<a href="{}" class="font-medium text-primary-600">{}</a><br>'
            '<span style="opacity:.7">{}</span>',
            _work_url(obj.pk),
            obj.customer.name or _("未留名"),
            obj.customer.masked_mobile,
        )

    @display(description=_("城市"))
    def city_display(self, obj):
        return obj.customer.city or "—"

    @display(description=_("渠道"))
    def channel_display(self, obj):
        return " › ".join(obj.channel.path_names())

    @display(description=_("已等待"), ordering="created_at")
    def age_display(self, obj):
        return _age(timezone.now() - obj.created_at)

    @display(description=_("领取"))
    def claim_display(self, obj):
        if obj.claimed_by_id and obj.claim_expires_at and obj.claim_expires_at > timezone.now():
            return obj.claimed_by.get_username()
        return "—"

    @action(description=_("领取下一条"), url_path="next", icon="call", permissions=["work"])
    @refuse_cross_site
    def claim_next(self, request):
        lead = lead_claim_next(
            agent=request.user,
            channel_id=_int(
                request.GET.get("channel_l3")
                or request.GET.get("channel_l2")
                or request.GET.get("channel_l1")
            ),
            city=request.GET.get("city", ""),
        )
        if lead is None:
            messages.info(request, _("清洗队列已清空，没有可领取的线索。"))
            return redirect(reverse("admin:leads_cleansingqueuelead_changelist"))
        return redirect(_work_url(lead.pk))

    @action(description=_("处理"), url_path="work", icon="headset_mic", permissions=["work"])
    @refuse_cross_site
    def work(self, request, object_id):
        return workbench_view(self, request, object_id)

    @action(
        description=_("工作量"), url_path="workload", icon="monitoring", permissions=["workload"]
    )
    def workload(self, request):
        day = timezone.localdate()
        context = {
            **self.admin_site.each_context(request),
            "title": _("清洗工作量（%(day)s）") % {"day": day},
            "opts": self.model._meta,
            "workload": cleansing_workload(day),
        }
        return TemplateResponse(request, "admin/leads/cleansing/workload.html", context)


def _int(value):
    try:
        return int(value) if value else None
    except ValueError:
        return None


def workbench_view(model_admin, request, object_id):
    lead = get_object_or_404(
        Lead.objects.select_related("customer", "channel__parent__parent", "claimed_by"),
        pk=object_id,
        status__in=[Status.CLEANSING, Status.NURTURING],
    )
    back = (
        reverse("admin:leads_nurturinglead_changelist")
        if lead.status == Status.NURTURING
        else reverse("admin:leads_cleansingqueuelead_changelist")
    )
    if request.method == "POST":
        form = CallOutcomeForm(request.POST, lead=lead)
        if form.is_valid():
            try:
                result = lead_call_record(
                    lead_id=lead.pk, agent=request.user, **form.service_kwargs()
                )
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"#{lead.pk}：{result.message}")
                if "_next" in request.POST:
                    following = lead_claim_next(agent=request.user)
                    if following is not None:
                        return redirect(_work_url(following.pk))
                    messages.info(request, _("清洗队列已清空。"))
                return redirect(back)
    else:
        if not lead_claim(lead_id=lead.pk, agent=request.user):
            messages.warning(
                request,
                _("该线索正由 %(agent)s 处理（领取至 %(until)s），请领取下一条。")
                % {
                    "agent": lead.claimed_by.get_username() if lead.claimed_by else "",
                    "until": timezone.localtime(lead.claim_expires_at).strftime("%H:%M")
                    if lead.claim_expires_at
                    else "",
                },
            )
        lead.refresh_from_db()
        form = CallOutcomeForm(lead=lead)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("外呼处理 · 线索 #%(id)s") % {"id": lead.pk},
        "opts": model_admin.model._meta,
        "lead": lead,
        "form": form,
        "history": customer_history(lead),
        "timeline": lead_timeline(lead),
        "back_url": back,
        "lead_url": reverse("admin:leads_lead_change", args=[lead.pk]),
        "policy": CleansingPolicy.current(),
        "reveal": reveal_panel(
            request,
            lead,
            action_url=reverse("admin:leads_mobilereveal_reveal", args=[lead.pk]),
            next_url=request.path,
        ),
    }
    return TemplateResponse(request, "admin/leads/cleansing/workbench.html", context)


class NurtureDueFilter(admin.SimpleListFilter):
    title = _("培育到期")
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [("due", _("已到期")), ("week", _("7天内到期")), ("later", _("以后"))]

    def queryset(self, request, queryset):
        now = timezone.now()
        match self.value():
            case "due":
                return queryset.filter(nurture_due_at__lte=now)
            case "week":
                return queryset.filter(
                    nurture_due_at__gt=now, nurture_due_at__lte=now + timedelta(days=7)
                )
            case "later":
                return queryset.filter(nurture_due_at__gt=now + timedelta(days=7))
        return queryset


@admin.register(NurturingLead)
class NurturingAdmin(CleansingPermissions, ModelAdmin):
    list_display = [
        "id",
        "customer_display",
        "grade",
        "purchase_timeframe",
        "due_display",
        "intent_check_display",
        "channel_display",
    ]
    list_display_links = None
    list_filter = [NurtureDueFilter, "grade", "purchase_timeframe"]
    list_filter_submit = True
    search_fields = ["customer__mobile", "customer__name"]
    show_full_result_count = False
    actions_row = ["touch", "recall_call", "archive_lead"]

    def get_queryset(self, request):
        return nurturing_pool()

    def get_search_results(self, request, queryset, search_term):
        from leads.selectors import leads_matching

        return leads_matching(queryset, search_term), False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The lead's page for who may read leads, the workbench for an agent."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.user.has_perm("leads.view_lead"):
            return redirect(reverse("admin:leads_lead_change", args=[object_id]))
        if self.has_work_permission(request):
            return redirect(_work_url(object_id))
        raise PermissionDenied

    @display(description=_("客户"))
    def customer_display(self, obj):
        return format_html(
            '<a href="{}">{}</a><br><span style="opacity:.7">{}</span>',
            reverse("admin:leads_nurturinglead_change", args=[obj.pk]),
            obj.customer.name or _("未留名"),
            obj.customer.masked_mobile,
        )

    @display(description=_("下次培育"), ordering="nurture_due_at", label=True)
    def due_display(self, obj):
        if obj.nurture_due_at is None:
            return _("未排期")
        text = timezone.localtime(obj.nurture_due_at).strftime("%Y-%m-%d")
        return f"{text} · {_('已到期')}" if obj.nurture_due_at <= timezone.now() else text

    @display(description=_("意向复核"))
    def intent_check_display(self, obj):
        if obj.intent_check_due:
            return _("需复核")
        return timezone.localtime(obj.last_call_at).strftime("%Y-%m-%d")

    @display(description=_("渠道"))
    def channel_display(self, obj):
        return obj.channel.name

    @action(description=_("培育触达"), url_path="touch", icon="sms", permissions=["work"])
    def touch(self, request, object_id):
        lead = get_object_or_404(Lead.objects.select_related("customer"), pk=object_id)
        form = NurtureTouchForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                lead_nurture_touch_record(lead_id=lead.pk, agent=request.user, **form.cleaned_data)
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("已记录培育触达。"))
                return redirect(reverse("admin:leads_nurturinglead_changelist"))
        return _form_page(
            self, request, form, _("培育触达 · 线索 #%(id)s") % {"id": lead.pk}, lead=lead
        )

    @action(description=_("外呼复核"), url_path="call", icon="headset_mic", permissions=["work"])
    def recall_call(self, request, object_id):
        return redirect(_work_url(object_id))

    @action(description=_("培育失败归档"), url_path="archive", icon="archive", permissions=["work"])
    def archive_lead(self, request, object_id):
        lead = get_object_or_404(Lead.objects.select_related("customer"), pk=object_id)
        form = ReasonForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                lead_archive(
                    lead_id=lead.pk, actor=request.user, reason=form.cleaned_data["reason"]
                )
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("线索 #%(id)s 已归档。") % {"id": lead.pk})
                return redirect(reverse("admin:leads_nurturinglead_changelist"))
        return _form_page(
            self, request, form, _("培育失败归档 · 线索 #%(id)s") % {"id": lead.pk}, lead=lead
        )


def _form_page(model_admin, request, form, title, **extra):
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.model._meta,
        "form": form,
        **extra,
    }
    return TemplateResponse(request, "admin/leads/cleansing/form_page.html", context)


@admin.register(SupervisionSample)
class SupervisionSampleAdmin(MaskedTextAdminMixin, CleansingPermissions, ModelAdmin):
    list_display = [
        "id",
        "kind",
        "period_start",
        "period_end",
        "dealer",
        "lead_link",
        "result",
        "notes",
        "checked_by",
        "checked_at",
    ]
    list_filter = [
        "kind",
        "result",
        ("dealer", RelatedDropdownFilter),
        ("period_start", RangeDateFilter),
    ]
    list_filter_submit = True
    list_select_related = ["dealer", "checked_by"]
    list_before_template = "admin/leads/cleansing/supervision_summary.html"
    actions_list = ["draw"]
    actions_row = ["record"]

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        cl = getattr(response, "context_data", {}).get("cl")
        if cl is not None:
            response.context_data["supervision_summary"] = supervision_summary(cl.queryset)
        return response

    @display(description=_("线索"))
    def lead_link(self, obj):
        return format_html(
            '<a href="{}">#{}</a>',
            reverse("admin:leads_lead_change", args=[obj.lead_id]),
            obj.lead_id,
        )

    @action(description=_("抽样"), url_path="draw", icon="casino", permissions=["work"])
    def draw(self, request):
        form = SampleDrawForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                count = supervision_samples_draw(**form.cleaned_data)
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("已抽取 %(n)s 条线索待回访。") % {"n": count})
                return redirect(reverse("admin:leads_supervisionsample_changelist"))
        return _form_page(self, request, form, _("抽样监督 · 抽样"))

    @action(description=_("记录回访"), url_path="record", icon="fact_check", permissions=["work"])
    def record(self, request, object_id):
        sample = get_object_or_404(SupervisionSample, pk=object_id)
        form = SampleResultForm(request.POST if request.method == "POST" else None, sample=sample)
        if request.method == "POST" and form.is_valid():
            try:
                supervision_sample_record(
                    sample_id=sample.pk, actor=request.user, **form.cleaned_data
                )
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("已记录回访结果。"))
                return redirect(reverse("admin:leads_supervisionsample_changelist"))
        return _form_page(
            self,
            request,
            form,
            _("记录回访 · %(kind)s · 线索 #%(id)s")
            % {"kind": sample.get_kind_display(), "id": sample.lead_id},
            lead=sample.lead,
            reveal=reveal_panel(
                request,
                sample.lead,
                action_url=reverse("admin:leads_mobilereveal_reveal", args=[sample.lead_id]),
                next_url=request.path,
            ),
        )


@admin.register(CallRecord)
class CallRecordAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "agent",
        "lead",
        "reached",
        "intent",
        "grade",
        "outcome",
        "dealer",
        "consent",
    ]
    list_filter = ["outcome", "reached", "intent", ("created_at", RangeDateFilter)]
    list_filter_submit = True
    list_select_related = ["agent", "lead", "dealer"]
    search_fields = ["=lead__id", "agent__username"]
    readonly_fields = [f.name for f in CallRecord._meta.fields]
    show_full_result_count = False


@admin.register(NurtureTouch)
class NurtureTouchAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "agent", "lead", "medium", "content", "sent_ok"]
    list_filter = ["medium", "sent_ok"]
    list_select_related = ["agent", "lead"]
    search_fields = ["=lead__id"]
    readonly_fields = [f.name for f in NurtureTouch._meta.fields]


@admin.register(InvalidReason)
class InvalidReasonAdmin(ModelAdmin):
    list_display = ["code", "name", "is_active", "sort_order"]
    list_editable = ["name", "is_active", "sort_order"]
    search_fields = ["code", "name"]

    def has_delete_permission(self, request, obj=None):
        return False  # reasons in use stay; switch them off instead


@admin.register(CleansingPolicy)
class CleansingPolicyAdmin(ModelAdmin):
    list_display = [
        "__str__",
        "max_unanswered_calls",
        "claim_minutes",
        "nurture_short_days",
        "nurture_long_days",
        "intent_check_days",
    ]

    def has_add_permission(self, request):
        return not CleansingPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
