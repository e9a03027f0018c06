"""The mobile reveal log: the reveal endpoint used by the admin pages, the log for auditors
(filter by user and day) and the daily summary that flags users revealing far more than usual."""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateTimeFilter, RelatedDropdownFilter
from unfold.decorators import action, display
from unfold.widgets import UnfoldAdminDateWidget, UnfoldAdminSelectWidget

from config.errors import DomainError
from leads.admin.masked import MaskedTextAdminMixin
from leads.forms import RevealForm
from leads.models import MobileReveal
from leads.security.lockout import client_ip
from leads.selectors import reveal_daily_summary
from leads.services.reveal import mobile_reveal


def reveal_redirect(request, next_url: str, fallback: str, reveal_pk: int | None):
    """Back to the page the reveal came from (same host only), naming the reveal row."""
    if not next_url or not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = fallback
    if reveal_pk is not None:
        next_url += ("&" if "?" in next_url else "?") + f"reveal={reveal_pk}"
    return redirect(next_url)


class RevealSummaryForm(forms.Form):
    day_from = forms.DateField(label=_("开始日期"), widget=UnfoldAdminDateWidget)
    day_to = forms.DateField(label=_("结束日期"), widget=UnfoldAdminDateWidget)
    user = forms.ModelChoiceField(
        label=_("查看人"),
        queryset=get_user_model().objects.filter(mobile_reveals__isnull=False).distinct(),
        required=False,
        widget=UnfoldAdminSelectWidget,
    )
    flagged_only = forms.BooleanField(label=_("只看异常"), required=False)

    def clean(self):
        data = super().clean()
        start, end = data.get("day_from"), data.get("day_to")
        if start and end and start > end:
            raise forms.ValidationError(_("开始日期不能晚于结束日期。"))
        if start and end and (end - start).days > 92:
            raise forms.ValidationError(_("一次最多查看 92 天。"))
        return data


@admin.register(MobileReveal)
class MobileRevealAdmin(MaskedTextAdminMixin, ModelAdmin):
    list_display = [
        "created_at",
        "user",
        "lead_link",
        "customer_display",
        "reason",
        "note",
        "source",
        "ip",
    ]
    list_filter = [
        ("user", RelatedDropdownFilter),
        ("created_at", RangeDateTimeFilter),
        "reason",
        "source",
    ]
    list_filter_submit = True
    date_hierarchy = "created_at"
    search_fields = ["user__username", "=lead__id"]
    list_select_related = ["user", "customer"]
    show_full_result_count = False
    actions_list = ["daily"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in MobileReveal._meta.fields]

    @display(description=_("线索"), ordering="lead_id")
    def lead_link(self, obj):
        return f"#{obj.lead_id}"

    @display(description=_("客户"))
    def customer_display(self, obj):
        return obj.customer.masked_mobile

    # --- the reveal itself (POST from the lead page or the cleansing workbench) ---

    def get_urls(self):
        return [
            path(
                "reveal/<int:lead_id>/",
                self.admin_site.admin_view(self.reveal_view),
                name="leads_mobilereveal_reveal",
            ),
            *super().get_urls(),
        ]

    def reveal_view(self, request, lead_id: int):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        form = RevealForm(request.POST)
        fallback = reverse("admin:index")
        if not form.is_valid():
            errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
            messages.error(request, "；".join(errors))
            return reveal_redirect(request, request.POST.get("next", ""), fallback, None)
        try:
            reveal = mobile_reveal(
                actor=request.user,
                lead_id=lead_id,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                source=_source_of(form.cleaned_data["next"]),
                ip=client_ip(request),
            )
        except DomainError as error:
            messages.error(request, str(error))
            return reveal_redirect(request, form.cleaned_data["next"], fallback, None)
        return reveal_redirect(request, form.cleaned_data["next"], fallback, reveal.pk)

    # --- the daily summary for auditors ---

    @action(description=_("每日汇总与异常"), url_path="daily", icon="monitoring")
    def daily(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        form = RevealSummaryForm(
            request.GET or None,
            initial={"day_from": today - timedelta(days=6), "day_to": today},
        )
        rows = []
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            start, end, user = data["day_from"], data["day_to"], data["user"]
            flagged_only = data["flagged_only"]
        elif not form.is_bound:
            start, end, user, flagged_only = today - timedelta(days=6), today, None, False
        else:
            start = None
        if start is not None:
            rows = reveal_daily_summary(
                day_from=start, day_to=end, user_id=user.pk if user else None
            )
            if flagged_only:
                rows = [row for row in rows if row.flagged]
        changelist = reverse("admin:leads_mobilereveal_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": _("号码查看：每日汇总"),
            "opts": self.model._meta,
            "form": form,
            "rows": [
                {
                    "row": row,
                    "url": f"{changelist}?user__id__exact={row.user_id}"
                    f"&created_at__year={row.day.year}&created_at__month={row.day.month}"
                    f"&created_at__day={row.day.day}",
                }
                for row in rows
            ],
            "flag_rule": _(
                "当天查看 ≥ %(min)s 个号码，且达到本人前 %(days)s 天日均的 "
                "%(factor)s 倍，标记为异常。"
            )
            % {
                "min": _setting("REVEAL_FLAG_MIN"),
                "days": _setting("REVEAL_BASELINE_DAYS"),
                "factor": _setting("REVEAL_FLAG_FACTOR"),
            },
        }
        return TemplateResponse(request, "admin/leads/reveals/daily.html", context)


def _setting(name: str):
    from django.conf import settings

    return getattr(settings, name)


def _source_of(next_url: str) -> str:
    if "/cleansingqueuelead/" in next_url or "/nurturinglead/" in next_url:
        return MobileReveal.Source.WORKBENCH
    return MobileReveal.Source.ADMIN


def reveal_action_url(lead_id: int) -> str:
    return reverse("admin:leads_mobilereveal_reveal", args=[lead_id])
