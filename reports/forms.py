"""The dashboards' filter: a period, the series grain, the channel level and, for HQ and
region managers, a region or a dealer inside their scope."""

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dealers.models import Dealer, Region
from reports.scope import ReportScope
from reports.selectors import GRAINS, ReportQuery

MAX_DAYS = 731


class ReportFilterForm(forms.Form):
    start = forms.DateField(label=_("开始日期"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("结束日期"), widget=forms.DateInput(attrs={"type": "date"}))
    grain = forms.ChoiceField(
        label=_("统计周期"),
        choices=[("day", _("按日")), ("week", _("按周")), ("month", _("按月"))],
        initial="day",
    )
    level = forms.TypedChoiceField(
        label=_("渠道级别"),
        choices=[(1, _("一级渠道")), (2, _("二级渠道")), (3, _("三级渠道"))],
        coerce=int,
        initial=2,
    )
    region = forms.ModelChoiceField(
        label=_("大区"), queryset=Region.objects.none(), required=False, empty_label=_("全部大区")
    )
    dealer = forms.ModelChoiceField(
        label=_("经销商"),
        queryset=Dealer.objects.none(),
        required=False,
        empty_label=_("全部经销商"),
    )

    def __init__(self, data=None, *, scope: ReportScope, fixed_dealer=None):
        today = timezone.localdate()
        defaults = {
            "start": today.replace(day=1),
            "end": today,
            "grain": "day",
            "level": 2,
        }
        merged = {key: str(value) for key, value in defaults.items()}
        for key in data or {}:
            if data.get(key) not in (None, ""):
                merged[key] = data.get(key)
        super().__init__(merged)
        self.scope = scope
        self.fixed_dealer = fixed_dealer
        regions = Region.objects.order_by("code")
        if not scope.is_network:
            regions = regions.filter(pk__in=scope.region_ids)
        self.fields["region"].queryset = regions
        self.fields["dealer"].queryset = scope.dealers()
        if fixed_dealer is not None or scope.kind == "dealer":
            del self.fields["region"]
            del self.fields["dealer"]

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError(_("结束日期不能早于开始日期。"))
            if (end - start) > timedelta(days=MAX_DAYS):
                raise forms.ValidationError(_("一次最多查看两年。"))
        if data.get("grain") not in GRAINS:
            data["grain"] = "day"
        return data

    def query(self) -> ReportQuery:
        """The report query of a valid form (or of the defaults when the form is invalid)."""
        self.is_valid()  # a field that fails (a dealer outside the scope) falls back alone
        data = dict(self.cleaned_data)
        if self.non_field_errors():
            data.pop("start", None)
            data.pop("end", None)
        today = timezone.localdate()
        region = data.get("region")
        dealer = data.get("dealer")
        if self.fixed_dealer is not None:
            dealer_id = self.fixed_dealer.pk
        elif self.scope.kind == "dealer":
            dealer_id = next(iter(self.scope.dealer_ids))
        else:
            dealer_id = dealer.pk if dealer else None
        return ReportQuery(
            scope=self.scope,
            start=data.get("start") or today.replace(day=1),
            end=data.get("end") or today,
            grain=data.get("grain") or "day",
            region_id=region.pk if region and not dealer_id else None,
            dealer_id=dealer_id,
            channel_level=data.get("level") or 2,
        )
