"""Forms of the dealer pages. They only parse; the services decide."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dealers.models import Advisor, AssignmentPolicy
from leads.models import DefeatReason, FollowUp, Grade

FOLLOW_UP_RESULTS = [c for c in FollowUp.Result.choices if c[0] != FollowUp.Result.DEFEAT]
GRADES = [("", _("不变"))] + [
    (g.value, g.label) for g in (Grade.H, Grade.A, Grade.B, Grade.C, Grade.N)
]


def _advisors(dealer_id):
    return Advisor.objects.filter(dealer_id=dealer_id, is_active=True).order_by("tier", "name")


class ReassignForm(forms.Form):
    advisor = forms.ModelChoiceField(label=_("分配给"), queryset=Advisor.objects.none())
    reason = forms.CharField(label=_("原因"), max_length=200)

    def __init__(self, *args, dealer_id, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["advisor"].queryset = _advisors(dealer_id)


class RecallForm(forms.Form):
    reason = forms.CharField(label=_("召回原因"), max_length=200)


class FollowUpForm(forms.Form):
    method = forms.ChoiceField(label=_("跟进方式"), choices=FollowUp.Method.choices)
    result = forms.ChoiceField(label=_("跟进结果"), choices=FOLLOW_UP_RESULTS)
    grade = forms.ChoiceField(label=_("意向级别"), choices=GRADES, required=False)
    next_follow_up_at = forms.DateTimeField(
        label=_("下次跟进时间"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text=_("留空按级别跟进周期自动计算"),
    )
    notes = forms.CharField(
        label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class DefeatRequestForm(forms.Form):
    reason = forms.ModelChoiceField(
        label=_("战败原因"), queryset=DefeatReason.objects.filter(is_active=True)
    )
    note = forms.CharField(label=_("说明"), max_length=200, required=False)


class DefeatDecisionForm(forms.Form):
    note = forms.CharField(label=_("给顾问的说明"), max_length=200, required=False)


class CustomerCorrectionForm(forms.Form):
    name = forms.CharField(label=_("客户姓名"), max_length=50, required=False)
    mobile = forms.CharField(
        label=_("新手机号"),
        max_length=20,
        required=False,
        help_text=_("留空表示不改；当前号码不在此显示。"),
    )


class PolicyForm(forms.ModelForm):
    class Meta:
        model = AssignmentPolicy
        fields = [
            "strategy",
            "pool_daily_cap",
            "grab_follow_up_hours",
            "grab_penalty",
            "tier_minutes",
        ]
        widgets = {"strategy": forms.RadioSelect}


def default_next_follow_up():
    return timezone.localtime() + timezone.timedelta(days=1)
