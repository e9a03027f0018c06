"""Forms of the cleansing desk: the call outcome, the nurture touch, sampling."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from unfold.widgets import (
    UnfoldAdminDateWidget,
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminRadioSelectWidget,
    UnfoldAdminSelect2Widget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
    UnfoldBooleanSwitchWidget,
)

from leads.models import (
    Grade,
    Intent,
    InvalidReason,
    NurtureTouch,
    PurchaseTimeframe,
    SupervisionSample,
    VehicleModel,
)
from leads.selectors import dealers_for_customer

BLANK = [("", "—")]


class CallOutcomeForm(forms.Form):
    reached = forms.ChoiceField(
        label=_("是否接通"),
        choices=[("yes", _("接通")), ("no", _("未接通"))],
        widget=UnfoldAdminRadioSelectWidget,
    )
    intent = forms.ChoiceField(
        label=_("意向程度"),
        choices=BLANK + Intent.choices,
        required=False,
        widget=UnfoldAdminSelectWidget,
    )
    invalid_reason = forms.ModelChoiceField(
        label=_("无效原因"),
        queryset=InvalidReason.objects.filter(is_active=True),
        required=False,
        widget=UnfoldAdminSelectWidget,
    )
    grade = forms.ChoiceField(
        label=_("意向级别"),
        choices=BLANK + [(g.value, g.label) for g in (Grade.H, Grade.A, Grade.B, Grade.C, Grade.N)],
        required=False,
        widget=UnfoldAdminSelectWidget,
    )
    intended_model = forms.ModelChoiceField(
        label=_("意向车型"),
        queryset=VehicleModel.objects.filter(is_active=True),
        required=False,
        widget=UnfoldAdminSelect2Widget,
    )
    purchase_timeframe = forms.ChoiceField(
        label=_("预计购车时间"),
        choices=BLANK + PurchaseTimeframe.choices,
        required=False,
        widget=UnfoldAdminSelectWidget,
    )
    dealer = forms.ModelChoiceField(
        label=_("客户选择的经销商"),
        queryset=None,
        required=False,
        widget=UnfoldAdminSelect2Widget,
        help_text=_("按客户所在城市列出，可搜索；由客户选择，不代为指定。"),
    )
    consent = forms.BooleanField(
        label=_("客户同意该经销商联系"), required=False, widget=UnfoldBooleanSwitchWidget
    )
    name = forms.CharField(
        label=_("客户姓名"), max_length=50, required=False, widget=UnfoldAdminTextInputWidget
    )
    city = forms.CharField(
        label=_("城市"), max_length=30, required=False, widget=UnfoldAdminTextInputWidget
    )
    notes = forms.CharField(
        label=_("备注"), required=False, widget=UnfoldAdminTextareaWidget(attrs={"rows": 3})
    )

    def __init__(self, *args, lead, **kwargs):
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("name", lead.customer.name)
        initial.setdefault("city", lead.customer.city)
        initial.setdefault("intended_model", lead.intended_model_id)
        initial.setdefault("purchase_timeframe", lead.purchase_timeframe)
        initial.setdefault("intent", lead.intent)
        initial.setdefault("grade", lead.grade if lead.grade in Grade.values else "")
        initial.setdefault("dealer", lead.dealer_id)
        super().__init__(*args, **kwargs)
        self.fields["dealer"].queryset = dealers_for_customer(lead.customer)
        self.lead = lead

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        lead, customer = self.lead, self.lead.customer
        return {
            "reached": data["reached"] == "yes",
            "intent": data["intent"],
            "invalid_reason_id": data["invalid_reason"].pk if data["invalid_reason"] else None,
            "grade": data["grade"],
            "model_id": data["intended_model"].pk if data["intended_model"] else None,
            "timeframe": data["purchase_timeframe"]
            if data["purchase_timeframe"] != lead.purchase_timeframe
            else "",
            "dealer_id": data["dealer"].pk if data["dealer"] else None,
            "consent": data["consent"],
            "name": data["name"] if data["name"] != customer.name else None,
            "city": data["city"] if data["city"] != customer.city else None,
            "notes": data["notes"],
        }


class NurtureTouchForm(forms.Form):
    medium = forms.ChoiceField(
        label=_("方式"), choices=NurtureTouch.Medium.choices, widget=UnfoldAdminSelectWidget
    )
    content = forms.CharField(
        label=_("内容"),
        max_length=500,
        required=False,
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 3}),
    )


class SampleDrawForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("类型"), choices=SupervisionSample.Kind.choices, widget=UnfoldAdminSelectWidget
    )
    period_start = forms.DateField(label=_("开始日期"), widget=UnfoldAdminDateWidget)
    period_end = forms.DateField(label=_("结束日期"), widget=UnfoldAdminDateWidget)
    size = forms.IntegerField(
        label=_("抽样数量"),
        min_value=1,
        max_value=1000,
        required=False,
        widget=UnfoldAdminIntegerFieldWidget,
        help_text=_("留空使用清洗策略中的默认数量"),
    )

    def clean(self):
        data = super().clean()
        if data.get("period_start") and data.get("period_end"):
            if data["period_start"] > data["period_end"]:
                raise forms.ValidationError(_("开始日期不能晚于结束日期。"))
            if data["period_end"] > timezone.localdate():
                raise forms.ValidationError(_("结束日期不能晚于今天。"))
        return data


class SampleResultForm(forms.Form):
    result = forms.ChoiceField(label=_("回访结果"), choices=[], widget=UnfoldAdminRadioSelectWidget)
    notes = forms.CharField(
        label=_("备注"), max_length=255, required=False, widget=UnfoldAdminTextInputWidget
    )

    def __init__(self, *args, sample, **kwargs):
        super().__init__(*args, **kwargs)
        results = SupervisionSample.Result
        allowed = (
            [results.CONFIRMED, results.NOT_CONFIRMED, results.UNREACHABLE]
            if sample.kind == SupervisionSample.Kind.DEFEATED
            else [results.CONTACTED, results.NOT_CONTACTED, results.UNREACHABLE]
        )
        self.fields["result"].choices = [(r.value, r.label) for r in allowed]
