"""Lifecycle rules in the admin (with their last run), and the advisor-leaves action."""

from django import forms
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import action
from unfold.widgets import UnfoldAdminSelectWidget, UnfoldAdminTextInputWidget

from config.errors import DomainError
from dealers.models import Advisor
from leads.models import LifecycleRule
from leads.security.requests import refuse_cross_site
from leads.services.lifecycle import advisor_deactivate, lifecycle_run


@admin.register(LifecycleRule)
class LifecycleRuleAdmin(ModelAdmin):
    list_display = [
        "name",
        "kind",
        "is_active",
        "channel_root",
        "grade",
        "advisor_level",
        "dealer",
        "hours",
        "days",
        "priority",
        "last_run_at",
        "last_result",
    ]
    list_filter = ["kind", "is_active"]
    list_editable = ["is_active"]
    list_select_related = ["channel_root", "dealer"]
    readonly_fields = ["last_run_at", "last_result"]
    actions_list = ["run_now"]

    @action(
        description=_("立即运行全部规则"), url_path="run", icon="play_arrow", permissions=["run"]
    )
    @refuse_cross_site
    def run_now(self, request):
        results = lifecycle_run()
        names = dict(LifecycleRule.objects.values_list("pk", "name"))
        for rule_id, summary in results.items():
            messages.info(request, f"{names.get(rule_id, rule_id)}：{summary}")
        return redirect(reverse("admin:leads_lifecyclerule_changelist"))

    def has_run_permission(self, request):
        return request.user.has_perm("leads.change_lifecyclerule")


class AdvisorLeavesForm(forms.Form):
    hand_to = forms.ModelChoiceField(
        label=_("交给同事（留空则召回到公共池）"),
        queryset=Advisor.objects.none(),
        required=False,
        widget=UnfoldAdminSelectWidget,
    )
    reason = forms.CharField(label=_("原因"), max_length=200, widget=UnfoldAdminTextInputWidget)


def advisor_leaves_view(model_admin, request, object_id):
    from leads.admin.cleansing import _form_page

    advisor = get_object_or_404(Advisor, pk=object_id)
    form = AdvisorLeavesForm(request.POST if request.method == "POST" else None)
    form.fields["hand_to"].queryset = Advisor.objects.filter(
        dealer_id=advisor.dealer_id, is_active=True
    ).exclude(pk=advisor.pk)
    if request.method == "POST" and form.is_valid():
        try:
            counts = advisor_deactivate(
                advisor_id=advisor.pk,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                hand_to_id=form.cleaned_data["hand_to"].pk
                if form.cleaned_data["hand_to"]
                else None,
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("%(n)s 已离职：交给同事 %(h)s 条，召回 %(r)s 条。")
                % {"n": advisor.name, "h": counts["handed"], "r": counts["recalled"]},
            )
            return redirect(reverse("admin:dealers_advisor_change", args=[advisor.pk]))
    return _form_page(model_admin, request, form, _("顾问离职交接 · %(n)s") % {"n": advisor.name})
