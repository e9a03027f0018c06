"""The customer's PIPL requests in the admin: the two pages behind the customer's "导出个人信息"
and "匿名化" buttons, and the read-only log of every request handled."""

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateFilter
from unfold.decorators import display
from unfold.widgets import UnfoldAdminTextInputWidget, UnfoldBooleanSwitchWidget

from config.errors import DomainError
from leads.admin.masked import MaskedTextAdminMixin
from leads.models import Customer, PrivacyRequest
from leads.services.customer_rights import (
    PERMISSION,
    SUMMARY_LABELS,
    XLSX_CONTENT_TYPE,
    customer_anonymise,
    customer_data_export,
)


class PrivacyRequestForm(forms.Form):
    reference = forms.CharField(
        label=_("请求来源/工单号"),
        max_length=100,
        help_text=_("例如：客服工单号、来函编号、邮件主题。"),
        widget=UnfoldAdminTextInputWidget,
    )
    note = forms.CharField(
        label=_("备注"), max_length=255, required=False, widget=UnfoldAdminTextInputWidget
    )


class ErasureForm(PrivacyRequestForm):
    confirm = forms.BooleanField(
        label=_("我已核实请求人的身份，确认删除（匿名化）该客户的个人信息，此操作不可恢复。"),
        widget=UnfoldBooleanSwitchWidget,
        error_messages={"required": _("请勾选确认后再执行匿名化。")},
    )


def customer_export_view(model_admin, request, object_id):
    """Ask for the request's reference, then download the customer's data as .xlsx."""
    customer = get_object_or_404(Customer, pk=object_id)
    form = PrivacyRequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            privacy_request, content = customer_data_export(
                customer_id=customer.pk, actor=request.user, **form.cleaned_data
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            stamp = timezone.localtime(privacy_request.created_at).strftime("%Y%m%d-%H%M")
            response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
            response["Content-Disposition"] = (
                f'attachment; filename="customer-{customer.pk}-personal-data-{stamp}.xlsx"'
            )
            return response
    return _request_page(
        model_admin,
        request,
        customer,
        form,
        title=_("导出个人信息 · 客户 #%(id)s") % {"id": customer.pk},
        erasure=False,
    )


def customer_anonymise_view(model_admin, request, object_id):
    """Ask for the reference and an explicit confirmation, then anonymise the customer."""
    customer = get_object_or_404(Customer, pk=object_id)
    form = ErasureForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            privacy_request = customer_anonymise(
                customer_id=customer.pk,
                actor=request.user,
                reference=form.cleaned_data["reference"],
                note=form.cleaned_data["note"],
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("客户 #%(id)s 的个人信息已匿名化（%(summary)s）。")
                % {"id": customer.pk, "summary": summary_text(privacy_request.summary)},
            )
            return redirect(reverse("admin:leads_customer_change", args=[customer.pk]))
    return _request_page(
        model_admin,
        request,
        customer,
        form,
        title=_("匿名化（删除个人信息） · 客户 #%(id)s") % {"id": customer.pk},
        erasure=True,
    )


def _request_page(model_admin, request, customer, form, *, title, erasure):
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.model._meta,
        "customer": customer,
        "lead_count": customer.leads.count(),
        "raw_lead_count": customer.raw_leads.count(),
        "form": form,
        "erasure": erasure,
        "back_url": reverse("admin:leads_customer_change", args=[customer.pk]),
    }
    return TemplateResponse(request, "admin/leads/privacy/request_form.html", context)


def summary_text(summary: dict) -> str:
    """{"leads": 2, "raw_leads": 3} as "线索 2 · 原始线索 3" (kinds with rows only)."""
    return " · ".join(
        f"{SUMMARY_LABELS.get(code, code)} {count}" for code, count in summary.items() if count
    )


@admin.register(PrivacyRequest)
class PrivacyRequestAdmin(MaskedTextAdminMixin, ModelAdmin):
    """Every access and erasure request handled: who, when, on what grounds, what was done."""

    list_display = [
        "created_at",
        "kind",
        "customer_display",
        "reference",
        "handled_by",
        "summary_display",
    ]
    list_filter = ["kind", ("created_at", RangeDateFilter)]
    list_filter_submit = True
    list_select_related = ["customer", "handled_by"]
    search_fields = ["reference", "=customer__id"]
    fields = [
        "created_at",
        "kind",
        "customer_display",
        "reference",
        "note",
        "handled_by",
        "summary_display",
    ]
    readonly_fields = fields
    show_full_result_count = False

    def has_module_permission(self, request):
        return request.user.has_perm(PERMISSION) or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(PERMISSION) or super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @display(description=_("客户"))
    def customer_display(self, obj):
        # The log names no one: the id and the masked number are enough to find the customer.
        return f"#{obj.customer_id} · {obj.customer.masked_mobile}"

    @display(description=_("处理结果"))
    def summary_display(self, obj):
        return summary_text(obj.summary) or "—"
