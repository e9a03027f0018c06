"""Dispatch in the admin: "why not dispatched yet", manual transfer, dealer exit, the calendar,
closures and the dispatch policy."""

from contextvars import ContextVar

from django import forms
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import display
from unfold.widgets import (
    UnfoldAdminSelect2Widget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
)

from config.errors import DomainError
from dealers.models import Dealer, WorkCalendarDay
from leads.admin.records import ReadOnlyAdmin
from leads.models import HQ_STATUSES, CustomerNotice, DispatchPolicy, Status
from leads.services.dispatch import DispatchContext, dispatch_check
from leads.services.transfer import dealer_exit, lead_transfer

_context: ContextVar[DispatchContext | None] = ContextVar("dispatch_context", default=None)
UNDISPATCHED = [*HQ_STATUSES]


CONSENT_HELP = _(
    "把客户信息交给新经销商须有客户同意：写明依据，例如“客户 11-25 来电同意转至该店，坐席陈静”。"
)


class TransferForm(forms.Form):
    to_dealer = forms.ModelChoiceField(
        label=_("转派到经销商"),
        queryset=Dealer.objects.filter(status=Dealer.Status.ACTIVE).order_by("name"),
        widget=UnfoldAdminSelect2Widget,
    )
    reason = forms.CharField(
        label=_("原因"), max_length=200, widget=UnfoldAdminTextareaWidget(attrs={"rows": 2})
    )
    consent_basis = forms.CharField(
        label=_("客户同意依据"),
        max_length=100,
        help_text=CONSENT_HELP,
        widget=UnfoldAdminTextInputWidget,
    )


class LeadDispatchAdminMixin:
    """Adds to the lead admin: the "why not dispatched" column and field, and the transfer
    action."""

    actions = ["transfer_leads", "recall_leads"]

    def changelist_view(self, request, extra_context=None):
        token = _context.set(DispatchContext())
        try:
            response = super().changelist_view(request, extra_context)
            cl = getattr(response, "context_data", {}).get("cl")
            if cl is not None:
                dealers = {lead.dealer for lead in cl.result_list if lead.dealer_id}
                _context.get().hours.preload(dealers)
                response.render()
            return response
        finally:
            _context.reset(token)

    @display(description=_("未派发原因"))
    def dispatch_reason_display(self, obj):
        if obj.status not in UNDISPATCHED or obj.status in (Status.INVALID, Status.ARCHIVED):
            return "—"
        reasons = dispatch_check(obj, context=_context.get() or DispatchContext()).reasons()
        if not reasons:
            return _("满足条件，即将派发")
        # The first reason in the list; the lead's page shows all of them.
        more = _("（另 %(n)s 项）") % {"n": len(reasons) - 1} if len(reasons) > 1 else ""
        return f"{reasons[0]['message']}{more}"

    @display(description=_("派发检查"))
    def dispatch_check_display(self, obj):
        if obj.status not in UNDISPATCHED:
            return _("已派发") if obj.dispatched_at else "—"
        check = dispatch_check(obj)
        return check.summary() or _("满足全部条件，即将派发")

    @admin.action(description=_("转派到其他经销商…"), permissions=["transfer"])
    def transfer_leads(self, request, queryset):
        form = TransferForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            counts: dict[str, int] = {}
            for lead_id in queryset.values_list("pk", flat=True):
                try:
                    result = lead_transfer(
                        lead_id=lead_id,
                        to_dealer_id=form.cleaned_data["to_dealer"].pk,
                        actor=request.user,
                        reason=form.cleaned_data["reason"],
                        consent_basis=form.cleaned_data["consent_basis"],
                    )
                except DomainError as error:
                    self.message_user(request, f"#{lead_id}：{error}", messages.ERROR)
                    continue
                counts[result.case] = counts.get(result.case, 0) + 1
                level = messages.WARNING if result.case == "target_ordered" else messages.SUCCESS
                self.message_user(request, result.message, level)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("转派线索"),
            "opts": self.model._meta,
            "form": form,
            "queryset": queryset,
            "action": "transfer_leads",
        }
        return TemplateResponse(request, "admin/leads/lead/transfer.html", context)

    @admin.action(description=_("召回所选到经销商公共池"), permissions=["recall"])
    def recall_leads(self, request, queryset):
        from leads.services.assignment import leads_recall_batch

        outcomes = leads_recall_batch(
            lead_ids=list(queryset.values_list("pk", flat=True)),
            actor=request.user,
            reason=_("总部手动召回"),
        )
        for outcome in outcomes:
            level = messages.SUCCESS if outcome.ok else messages.ERROR
            self.message_user(request, f"#{outcome.lead_id}：{outcome.message}", level)

    def has_recall_permission(self, request):
        return request.user.has_perm("leads.recall_lead")

    def has_transfer_permission(self, request):
        return request.user.has_perm("leads.transfer_lead")


class DealerExitForm(forms.Form):
    to_dealer = forms.ModelChoiceField(
        label=_("线索转给"),
        queryset=Dealer.objects.filter(status=Dealer.Status.ACTIVE).order_by("name"),
        widget=UnfoldAdminSelect2Widget,
    )
    reason = forms.CharField(
        label=_("退网原因"), max_length=200, widget=UnfoldAdminTextareaWidget(attrs={"rows": 2})
    )
    consent_basis = forms.CharField(
        label=_("客户同意依据"),
        max_length=100,
        help_text=CONSENT_HELP,
        widget=UnfoldAdminTextInputWidget,
    )


def dealer_exit_view(model_admin, request, object_id):
    dealer = get_object_or_404(Dealer, pk=object_id)
    form = DealerExitForm(request.POST if request.method == "POST" else None)
    form.fields["to_dealer"].queryset = form.fields["to_dealer"].queryset.exclude(pk=dealer.pk)
    if request.method == "POST" and form.is_valid():
        try:
            counts = dealer_exit(
                dealer_id=dealer.pk,
                to_dealer_id=form.cleaned_data["to_dealer"].pk,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                consent_basis=form.cleaned_data["consent_basis"],
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _(
                    "%(dealer)s 已退网。转出 %(moved)s 条；客户已在对方成交未转 %(ordered)s 条；"
                    "合并到对方跟进中线索 %(merged)s 条；激活对方战败线索 %(reactivated)s 条。"
                )
                % {
                    "dealer": dealer.name,
                    "moved": counts["moved"],
                    "ordered": counts["target_ordered"],
                    "merged": counts["merged"],
                    "reactivated": counts["reactivated"],
                },
            )
            return redirect(reverse("admin:dealers_dealer_change", args=[dealer.pk]))
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("经销商退网 · %(dealer)s") % {"dealer": dealer.name},
        "opts": model_admin.model._meta,
        "form": form,
    }
    return TemplateResponse(request, "admin/leads/cleansing/form_page.html", context)


@admin.register(WorkCalendarDay)
class WorkCalendarDayAdmin(ModelAdmin):
    list_display = ["date", "is_workday", "is_holiday", "name", "source"]
    list_filter = ["is_workday", "is_holiday", "source"]
    list_editable = ["is_workday", "is_holiday", "name"]
    date_hierarchy = "date"
    search_fields = ["name"]
    ordering = ["-date"]


@admin.register(DispatchPolicy)
class DispatchPolicyAdmin(ModelAdmin):
    list_display = ["__str__", "score_threshold", "sweep_batch"]

    def has_add_permission(self, request):
        return not DispatchPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CustomerNotice)
class CustomerNoticeAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "kind",
        "customer",
        "lead",
        "from_dealer",
        "to_dealer",
        "created_by",
    ]
    list_filter = ["kind"]
    list_select_related = ["customer", "lead", "from_dealer", "to_dealer", "created_by"]
    search_fields = ["=lead__id", "customer__mobile"]
    readonly_fields = [f.name for f in CustomerNotice._meta.fields]
