"""HQ manual entry of a lead (a phone call, a walk-in at an event): the same intake service."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.widgets import (
    UnfoldAdminSelectWidget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
    UnfoldBooleanSwitchWidget,
)

from channels.models import Channel
from config.errors import DomainError
from dealers.models import Dealer
from leads.models import PurchaseTimeframe, RawLead, VehicleModel
from leads.services.intake import lead_intake


class ManualLeadForm(forms.Form):
    channel = forms.ModelChoiceField(
        label=_("渠道"),
        queryset=Channel.objects.filter(level=Channel.Level.SOURCE, is_active=True),
        widget=UnfoldAdminSelectWidget,
    )
    mobile = forms.CharField(label=_("手机号"), max_length=40, widget=UnfoldAdminTextInputWidget)
    name = forms.CharField(
        label=_("姓名"), max_length=50, required=False, widget=UnfoldAdminTextInputWidget
    )
    province = forms.CharField(
        label=_("省份"), max_length=20, required=False, widget=UnfoldAdminTextInputWidget
    )
    city = forms.CharField(
        label=_("城市"), max_length=30, required=False, widget=UnfoldAdminTextInputWidget
    )
    dealer = forms.ModelChoiceField(
        label=_("客户选择的经销商"),
        queryset=Dealer.objects.filter(status=Dealer.Status.ACTIVE),
        required=False,
        widget=UnfoldAdminSelectWidget,
    )
    consent = forms.BooleanField(
        label=_("客户同意该经销商联系"), required=False, widget=UnfoldBooleanSwitchWidget
    )
    model = forms.ModelChoiceField(
        label=_("意向车型"),
        queryset=VehicleModel.objects.filter(is_active=True),
        required=False,
        widget=UnfoldAdminSelectWidget,
    )
    purchase_timeframe = forms.ChoiceField(
        label=_("预计购车时间"),
        choices=[("", "—"), *PurchaseTimeframe.choices],
        required=False,
        widget=UnfoldAdminSelectWidget,
    )
    remark = forms.CharField(
        label=_("备注"), max_length=500, required=False, widget=UnfoldAdminTextareaWidget
    )

    def payload(self) -> dict:
        """The submission as the intake stores it: plain values, codes instead of objects."""
        data = self.cleaned_data
        payload = {
            key: data[key]
            for key in ("mobile", "name", "province", "city", "purchase_timeframe", "remark")
            if data.get(key)
        }
        if data.get("dealer"):
            payload["dealer_code"] = data["dealer"].code
            payload["consent"] = bool(data.get("consent"))
        if data.get("model"):
            payload["model_code"] = data["model"].code
        return payload


def manual_entry_view(model_admin, request):
    form = ManualLeadForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            result = lead_intake(
                channel=form.cleaned_data["channel"],
                data=form.payload(),
                source=RawLead.Source.ADMIN,
                submitted_by=request.user,
            )
        except DomainError as error:
            messages.error(request, str(error))
        else:
            level = messages.WARNING if result.outcome == "invalid" else messages.SUCCESS
            messages.add_message(request, level, _entry_message(result))
            if result.lead_id:
                return redirect(reverse("admin:leads_lead_change", args=[result.lead_id]))
            return redirect(reverse("admin:leads_rawlead_changelist"))
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("录入线索"),
        "form": form,
        "opts": model_admin.model._meta,
    }
    return TemplateResponse(request, "admin/leads/rawlead/manual_entry.html", context)


def _entry_message(result) -> str:
    outcome = {"created": _("已新建线索"), "merged": _("已合并到已有线索"), "invalid": _("无效")}
    text = (
        f"{outcome[result.outcome]} #{result.lead_id}"
        if result.lead_id
        else str(outcome[result.outcome])
    )
    if result.messages:
        text = f"{text}：{'；'.join(result.messages)}"
    return format_html("{}", text)
