"""Admins of the lead's records: customers, raw leads, follow-ups, the audit, grade cycles."""

import json

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_fsm_log.models import StateLog
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import RangeDateFilter
from unfold.decorators import action

from leads.admin.entry import manual_entry_view
from leads.admin.exports import SafeExportMixin
from leads.admin.masked import MaskedTextAdminMixin, NoMobileLookupsMixin
from leads.masking import mask_data, mask_mobile, mask_mobiles
from leads.models import (
    Customer,
    FollowUp,
    GradeCycle,
    Lead,
    LeadEvent,
    Notification,
    RawLead,
    ScoringRule,
    VehicleModel,
    VehicleSeries,
)
from leads.selectors import customers_matching


class ReadOnlyAdmin(MaskedTextAdminMixin, ModelAdmin):
    """Records written only by services: visible (mobiles in their texts masked), never edited
    by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CustomerLeadInline(TabularInline):
    model = Lead
    fields = ["id", "status", "grade", "dealer", "advisor", "channel", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("dealer", "advisor", "channel")


@admin.register(Customer)
class CustomerAdmin(NoMobileLookupsMixin, SafeExportMixin, ModelAdmin):
    list_display = ["id", "name", "masked_mobile", "province", "city", "created_at"]
    search_fields = ["mobile", "name"]
    search_help_text = _("按手机号（任意格式或后四位）或姓名搜索")
    # Never the full number on screen (PIPL): the masked one; a caller reveals it on the lead.
    readonly_fields = ["masked_mobile", "created_at", "updated_at", "anonymised_at"]
    fields = [
        "masked_mobile",
        "name",
        "province",
        "city",
        "created_at",
        "updated_at",
        "anonymised_at",
    ]
    inlines = [CustomerLeadInline]
    show_full_result_count = False
    actions_detail = ["export_personal_data", "anonymise"]

    def get_search_results(self, request, queryset, search_term):
        return customers_matching(queryset, search_term), False

    def has_add_permission(self, request):
        return False  # customers come from intake (oneID by mobile)

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # name/city corrections go through the lead (audited)

    def has_privacy_request_permission(self, request, object_id=None):
        return request.user.has_perm("leads.handle_privacy_request")

    @admin.display(description=_("手机号"))
    def masked_mobile(self, obj):
        return obj.masked_mobile

    @action(
        description=_("导出个人信息"),
        url_path="personal-data",
        icon="download",
        permissions=["privacy_request"],
    )
    def export_personal_data(self, request, object_id):
        from leads.admin.privacy import customer_export_view

        return customer_export_view(self, request, object_id)

    @action(
        description=_("匿名化（删除个人信息）"),
        url_path="anonymise",
        icon="person_off",
        permissions=["privacy_request"],
    )
    def anonymise(self, request, object_id):
        from leads.admin.privacy import customer_anonymise_view

        return customer_anonymise_view(self, request, object_id)


@admin.register(RawLead)
class RawLeadAdmin(NoMobileLookupsMixin, SafeExportMixin, ReadOnlyAdmin):
    list_display = [
        "id",
        "received_at",
        "channel",
        "source",
        "external_id",
        "masked_mobile",
        "outcome",
        "outcome_reason",
        "lead",
    ]
    list_filter = ["outcome", "source", ("received_at", RangeDateFilter)]
    list_filter_submit = True
    list_select_related = ["channel", "lead"]
    search_fields = ["=mobile", "=external_id"]
    show_full_result_count = False
    # The mobile and the payload as received hold the full number: shown masked.
    fields = [
        "channel",
        "external_id",
        "source",
        "masked_payload",
        "received_at",
        "masked_mobile",
        "outcome",
        "outcome_reason",
        "outcome_detail",
        "customer",
        "lead",
        "submitted_by",
    ]
    readonly_fields = fields
    actions_list = ["enter_lead"]

    @action(description=_("录入线索"), url_path="enter", icon="add_call", permissions=["enter"])
    def enter_lead(self, request):
        return manual_entry_view(self, request)

    def has_enter_permission(self, request):
        return request.user.has_perm("leads.change_lead")

    @admin.display(description=_("规范化手机号"))
    def masked_mobile(self, obj):
        return mask_mobile(obj.mobile) if obj.mobile else "—"

    @admin.display(description=_("原始数据"))
    def masked_payload(self, obj):
        return format_html(
            '<pre class="whitespace-pre-wrap text-sm">{}</pre>',
            json.dumps(mask_data(obj.payload), ensure_ascii=False, indent=2),
        )


@admin.register(FollowUp)
class FollowUpAdmin(SafeExportMixin, ReadOnlyAdmin):
    list_display = ["id", "lead", "advisor", "method", "result", "grade_after", "created_at"]
    list_filter = ["method", "result", ("created_at", RangeDateFilter)]
    list_filter_submit = True
    list_select_related = ["advisor", "lead"]
    search_fields = ["=lead__id", "advisor__name"]
    readonly_fields = [f.name for f in FollowUp._meta.fields]
    show_full_result_count = False


@admin.register(LeadEvent)
class LeadEventAdmin(SafeExportMixin, ReadOnlyAdmin):
    list_display = [
        "id",
        "created_at",
        "lead",
        "kind",
        "action",
        "from_value",
        "to_value",
        "actor_label",
        "reason",
    ]
    list_filter = ["kind", ("created_at", RangeDateFilter)]
    list_filter_submit = True
    list_select_related = ["lead"]
    search_fields = ["=lead__id", "actor_label"]
    readonly_fields = [f.name for f in LeadEvent._meta.fields]
    show_full_result_count = False


@admin.register(StateLog)
class StateLogAdmin(SafeExportMixin, ReadOnlyAdmin):
    list_display = [
        "id",
        "timestamp",
        "content_type",
        "object_id",
        "transition",
        "source_state",
        "state",
        "by",
        "description",
    ]
    list_filter = ["transition", "state"]
    list_select_related = ["content_type", "by"]
    search_fields = ["=object_id"]
    readonly_fields = [
        "timestamp",
        "content_type",
        "object_id",
        "transition",
        "source_state",
        "state",
        "by",
        "description",
    ]


@admin.register(GradeCycle)
class GradeCycleAdmin(SafeExportMixin, ModelAdmin):
    list_display = ["grade", "days", "expected_purchase", "description"]
    list_editable = ["days"]
    ordering = ["days"]

    def has_delete_permission(self, request, obj=None):
        return False


class VehicleModelInline(TabularInline):
    model = VehicleModel
    extra = 0
    fields = ["code", "name", "is_active"]


@admin.register(VehicleSeries)
class VehicleSeriesAdmin(SafeExportMixin, ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]
    inlines = [VehicleModelInline]


@admin.register(VehicleModel)
class VehicleModelAdmin(SafeExportMixin, ModelAdmin):
    list_display = ["code", "name", "series", "is_active"]
    list_filter = ["series", "is_active"]
    list_select_related = ["series"]
    search_fields = ["code", "name"]


class RawLeadInline(TabularInline):
    """All the raw leads behind a lead, as received."""

    model = RawLead
    fields = ["received_at", "channel", "source", "external_id_masked", "outcome", "detail_masked"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = _("原始线索")

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("channel")

    @admin.display(description=_("渠道线索ID"))
    def external_id_masked(self, obj):
        return mask_mobiles(obj.external_id or "") or "—"

    @admin.display(description=_("结果说明"))
    def detail_masked(self, obj):
        return mask_mobiles(obj.outcome_detail or "") or "—"


@admin.register(ScoringRule)
class ScoringRuleAdmin(SafeExportMixin, ModelAdmin):
    list_display = ["kind", "points", "params", "is_active"]
    list_editable = ["points", "is_active"]
    ordering = ["kind"]

    def has_delete_permission(self, request, obj=None):
        return False  # switch a rule off instead


@admin.register(Notification)
class NotificationAdmin(SafeExportMixin, ReadOnlyAdmin):
    list_display = ["created_at", "kind", "recipient", "dealer", "lead", "message", "read_at"]
    list_filter = ["kind", ("created_at", RangeDateFilter)]
    list_filter_submit = True
    list_select_related = ["recipient", "dealer", "lead"]
    search_fields = ["=lead__id", "message"]
    readonly_fields = [f.name for f in Notification._meta.fields]
    show_full_result_count = False
