"""Exports of the admin's tables (django-import-export's ExportMixin, unfold's forms), made safe:

- xlsx with Chinese headers (the fields' verbose names, choices as their labels);
- every text cell that begins with =, +, -, @, a tab or a carriage return is neutralised with a
  leading apostrophe (import-export's own option only strips a leading "=");
- mobiles are masked (138****8000) unless the user has `leads.view_full_mobile`;
- secrets (hashes, passwords) are never exported;
- each export writes an ExportLog row: who, when, which table, which filter, how many rows.

Add `SafeExportMixin` as the first base of a ModelAdmin to give it the export button.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources
from import_export.admin import ExportMixin
from import_export.formats.base_formats import XLSX
from unfold.contrib.import_export.forms import ExportForm

from leads.imports.exports import export_log_record, may_see_full_mobiles, safe_cell
from leads.models import Lead

# Tables without personal data (their exports are logged too, flagged as such).
NON_PERSONAL = {
    "channels.channel",
    "channels.channeltoken",
    "dealers.region",
    "dealers.dealer",
    "dealers.dispatchwindow",
    "leads.vehicleseries",
    "leads.vehiclemodel",
    "leads.gradecycle",
    "leads.scoringrule",
}
SECRET_WORDS = ("hash", "password", "secret", "token_key")


def export_max_rows() -> int:
    return getattr(settings, "LEAD_EXPORT_MAX_ROWS", 200_000)


class ChineseModelResource(resources.ModelResource):
    """A table as people read it: verbose names as headers, labels instead of codes."""

    @classmethod
    def field_from_django_field(cls, field_name, django_field, readonly):
        field = super().field_from_django_field(field_name, django_field, readonly)
        name = str(django_field.verbose_name)
        if isinstance(django_field, models.ForeignKey):
            name = _("%(name)sID") % {"name": name}
        field.column_name = name
        if getattr(django_field, "choices", None):
            choices = dict(django_field.flatchoices)
            attribute = django_field.attname

            def label(obj, choices=choices, attribute=attribute):
                value = getattr(obj, attribute)
                return str(choices.get(value, value)) if value not in (None, "") else ""

            field.dehydrate_method = label
        return field


def chinese_resource_for(model: type[models.Model]) -> type[resources.ModelResource]:
    excluded = [
        f.name for f in model._meta.concrete_fields if any(word in f.name for word in SECRET_WORDS)
    ]
    meta = type("Meta", (), {"model": model, "exclude": excluded})
    return type(f"{model.__name__}ExportResource", (ChineseModelResource,), {"Meta": meta})


class LeadExportResource(resources.ModelResource):
    """The lead list as the lead list shows it (same joins: lead_list_admin)."""

    id = fields.Field(attribute="id", column_name=gettext_lazy("线索ID"))
    customer_name = fields.Field(column_name=gettext_lazy("客户姓名"))
    mobile = fields.Field(column_name=gettext_lazy("手机号"))
    province = fields.Field(column_name=gettext_lazy("省份"))
    city = fields.Field(column_name=gettext_lazy("城市"))
    status = fields.Field(column_name=gettext_lazy("状态"))
    grade = fields.Field(column_name=gettext_lazy("意向级别"))
    flags = fields.Field(column_name=gettext_lazy("标记"))
    channel_l1 = fields.Field(column_name=gettext_lazy("一级渠道"))
    channel_l2 = fields.Field(column_name=gettext_lazy("二级渠道"))
    channel_l3 = fields.Field(column_name=gettext_lazy("三级渠道"))
    dealer_code = fields.Field(column_name=gettext_lazy("经销商代码"))
    dealer_name = fields.Field(column_name=gettext_lazy("经销商"))
    advisor = fields.Field(column_name=gettext_lazy("销售顾问"))
    intended_model = fields.Field(column_name=gettext_lazy("意向车型"))
    intent = fields.Field(column_name=gettext_lazy("意向程度"))
    purchase_timeframe = fields.Field(column_name=gettext_lazy("预计购车时间"))
    score = fields.Field(attribute="score", column_name=gettext_lazy("评分"))
    duplicate_count = fields.Field(
        attribute="duplicate_count", column_name=gettext_lazy("重复次数")
    )
    created_at = fields.Field(attribute="created_at", column_name=gettext_lazy("创建时间"))
    dispatched_at = fields.Field(attribute="dispatched_at", column_name=gettext_lazy("派发时间"))
    assigned_at = fields.Field(attribute="assigned_at", column_name=gettext_lazy("分配时间"))
    first_followed_at = fields.Field(
        attribute="first_followed_at", column_name=gettext_lazy("首次跟进时间")
    )
    invalid_reason = fields.Field(attribute="invalid_reason", column_name=gettext_lazy("无效原因"))
    defeat_reason = fields.Field(attribute="defeat_reason", column_name=gettext_lazy("战败原因"))

    class Meta:
        model = Lead
        fields = (
            "id",
            "customer_name",
            "mobile",
            "province",
            "city",
            "status",
            "grade",
            "flags",
            "channel_l1",
            "channel_l2",
            "channel_l3",
            "dealer_code",
            "dealer_name",
            "advisor",
            "intended_model",
            "intent",
            "purchase_timeframe",
            "score",
            "duplicate_count",
            "created_at",
            "dispatched_at",
            "assigned_at",
            "first_followed_at",
            "invalid_reason",
            "defeat_reason",
        )
        export_order = fields

    def dehydrate_customer_name(self, lead):
        return lead.customer.name

    def dehydrate_mobile(self, lead):
        return lead.customer.mobile

    def dehydrate_province(self, lead):
        return lead.customer.province

    def dehydrate_city(self, lead):
        return lead.customer.city

    def dehydrate_status(self, lead):
        return str(lead.get_status_display())

    def dehydrate_grade(self, lead):
        return str(lead.get_grade_display()) if lead.grade else ""

    def dehydrate_flags(self, lead):
        return "".join(lead.flags)

    def _channel_level(self, lead, level: int) -> str:
        names = lead.channel.path_names()
        return names[level - 1] if len(names) >= level else ""

    def dehydrate_channel_l1(self, lead):
        return self._channel_level(lead, 1)

    def dehydrate_channel_l2(self, lead):
        return self._channel_level(lead, 2)

    def dehydrate_channel_l3(self, lead):
        return self._channel_level(lead, 3)

    def dehydrate_dealer_code(self, lead):
        return lead.dealer.code if lead.dealer_id else ""

    def dehydrate_dealer_name(self, lead):
        return lead.dealer.name if lead.dealer_id else str(_("总部"))

    def dehydrate_advisor(self, lead):
        return lead.advisor.name if lead.advisor_id else ""

    def dehydrate_intended_model(self, lead):
        return lead.intended_model.name if lead.intended_model_id else ""

    def dehydrate_intent(self, lead):
        return str(lead.get_intent_display()) if lead.intent else ""

    def dehydrate_purchase_timeframe(self, lead):
        return str(lead.get_purchase_timeframe_display()) if lead.purchase_timeframe else ""


def sanitise_dataset(dataset, *, mask: bool):
    """Neutralise formulas and mask mobiles in every cell of an export, in place."""
    rows = [[_native(safe_cell(value, mask=mask)) for value in row] for row in dataset]
    headers = dataset.headers
    dataset.wipe()
    dataset.headers = headers
    for row in rows:
        dataset.append(row)
    return dataset


def _native(value):
    if isinstance(value, datetime) and timezone.is_aware(value):
        return timezone.localtime(value).replace(tzinfo=None)
    return value


class SafeExportMixin(ExportMixin):
    """Export to xlsx with Chinese headers, neutralised formulas, masked mobiles, and an audit
    row per export."""

    export_form_class = ExportForm
    formats = [XLSX]

    def get_resource_classes(self, request):
        if self.resource_classes:
            return self.resource_classes
        return [chinese_resource_for(self.model)]

    def has_export_permission(self, request):
        return self.has_view_permission(request)

    def get_export_filename(self, request, queryset, file_format):
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return f"{self.model._meta.verbose_name_plural}-{stamp}.{file_format.get_extension()}"

    def get_data_for_export(self, request, queryset, **kwargs):
        count = queryset.count()
        if count > export_max_rows():
            raise ValueError(
                _("共 %(n)s 行，超过单次导出上限 %(limit)s 行，请先筛选再导出。")
                % {"n": f"{count:,}", "limit": f"{export_max_rows():,}"}
            )
        dataset = super().get_data_for_export(request, queryset, **kwargs)
        mask = not may_see_full_mobiles(request.user)
        sanitise_dataset(dataset, mask=mask)
        request._export_audit = {"rows": len(dataset), "mask": mask}
        return dataset

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        response = super()._do_file_export(file_format, request, queryset, export_form)
        audit = getattr(request, "_export_audit", {"rows": 0, "mask": True})
        label = self.model._meta.label_lower
        export_log_record(
            user=request.user,
            model=label,
            model_label=str(self.model._meta.verbose_name_plural),
            filters=_describe_filters(request),
            row_count=audit["rows"],
            file_format=file_format.get_extension(),
            personal_data=label not in NON_PERSONAL,
            mobiles_masked=audit["mask"],
            purpose=str(_("后台导出")),
        )
        return response


def _describe_filters(request) -> str:
    params = request.GET.copy()
    for internal in ("_changelist_filters", "p", "o"):
        params.pop(internal, None)
    return params.urlencode() or str(_("全部（无筛选）"))
