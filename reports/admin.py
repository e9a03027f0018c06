"""The HQ dashboards in the admin: unfold's index shows this month's headline KPIs
(DASHBOARD_CALLBACK), the KPI dashboard page shows every figure with its chart, table, export
and drill-down, plus the refresh log and the region managers."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_q.tasks import async_task
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from leads.security.requests import refuse_cross_site
from reports import pages
from reports.dashboard import build_dashboard, build_summary
from reports.drill import AdminLinks, cell_from_params
from reports.forms import ReportFilterForm
from reports.models import Dashboard, RegionManager, RollupRun
from reports.scope import report_scope_for
from reports.selectors import ReportQuery


def can_view_reports(request) -> bool:
    """Sidebar and index: HQ users with the dashboard's view permission."""
    return request.user.has_perm("reports.view_dashboard")


def _links_for(q: ReportQuery) -> AdminLinks:
    """HQ drills into the admin's lead list; a region manager into the report's own list,
    which keeps to their dealers (the lead admin shows every dealer's leads)."""
    return AdminLinks(scope_region=q.region_id, own_list_only=not q.scope.is_network)


def dashboard_callback(request, context):
    """unfold's index: this month's headline KPIs and trend for users who may see reports."""
    if not can_view_reports(request):
        return context
    scope = report_scope_for(request.user)
    if not scope.allowed:
        return context
    today = timezone.localdate()
    q = ReportQuery(scope=scope, start=today.replace(day=1), end=today)
    context["report_summary"] = {
        **build_summary(q, _links_for(q)),
        "q": q,
        "url": reverse("admin:reports_dashboard_changelist"),
        "freshness": pages.freshness(),
    }
    return context


@admin.register(Dashboard)
class DashboardAdmin(ModelAdmin):
    """The KPI dashboard page (its changelist), the leads behind a figure, and a refresh."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).none()

    def get_urls(self):
        extra = [
            path(
                "leads/",
                self.admin_site.admin_view(self.leads_view),
                name="reports_dashboard_leads",
            ),
            path(
                "refresh/",
                self.admin_site.admin_view(self.refresh_view),
                name="reports_dashboard_refresh",
            ),
        ]
        return extra + super().get_urls()

    def _scope(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        scope = report_scope_for(request.user)
        if not scope.allowed:
            raise PermissionDenied
        return scope

    def changelist_view(self, request, extra_context=None):
        scope = self._scope(request)
        form = ReportFilterForm(request.GET, scope=scope)
        q = form.query()
        links = _links_for(q)
        key = request.GET.get("export")
        if key:
            if not request.user.has_perm("reports.export_dashboard"):
                raise PermissionDenied
            return pages.export(request, q, links, key)
        report = build_dashboard(q, links)
        for figure in report["figures"]:
            figure.export_url = pages.export_url(request, figure.table.key)
        context = {
            **self.admin_site.each_context(request),
            "title": _("线索KPI看板"),
            "opts": self.model._meta,
            "form": form,
            "q": q,
            "scope_label": pages.scope_label(q),
            "report": report,
            "freshness": pages.freshness(),
            "can_export": request.user.has_perm("reports.export_dashboard"),
            "can_refresh": request.user.has_perm("reports.refresh_dashboard"),
            "kpis_export_url": pages.export_url(request, "kpis"),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "reports/admin/dashboard.html", context)

    def leads_view(self, request):
        scope = self._scope(request)
        form = ReportFilterForm(request.GET, scope=scope)
        q = form.query()
        try:
            cell = cell_from_params(request.GET, scope, q.dealer_ids)
        except ValueError:
            messages.error(request, _("链接参数有误。"))
            return redirect("admin:reports_dashboard_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": _("明细：%(measure)s") % {"measure": pages.MEASURE_BY_KEY[cell.measure].label},
            "opts": self.model._meta,
            **pages.drill_page(request, cell),
            "in_admin": True,
        }
        return TemplateResponse(request, "reports/admin/leads.html", context)

    def refresh_view(self, request):
        if request.method != "POST" or not request.user.has_perm("reports.refresh_dashboard"):
            raise PermissionDenied
        self._scope(request)
        q = ReportFilterForm(request.POST, scope=report_scope_for(request.user)).query()
        async_task(
            "reports.tasks.reports_rollup_refresh_range_task",
            q.start.isoformat(),
            q.end.isoformat(),
            request.user.pk,
            task_name=f"reports-refresh-{q.start}-{q.end}",
        )
        messages.success(
            request,
            _("已提交重算 %(start)s ~ %(end)s 的汇总，稍后刷新页面查看。")
            % {"start": q.start, "end": q.end},
        )
        return redirect(
            f"{reverse('admin:reports_dashboard_changelist')}?{request.POST.get('query', '')}"
        )


@admin.register(RollupRun)
class RollupRunAdmin(ModelAdmin):
    list_display = [
        "started_at",
        "mode",
        "day_from",
        "day_to",
        "days",
        "rows",
        "seconds_display",
        "state_display",
        "triggered_by",
    ]
    list_filter = ["mode"]
    list_per_page = 50
    actions_list = ["refresh_now"]
    readonly_fields = [f.name for f in RollupRun._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_refresh_permission(self, request, object_id=None):
        return request.user.has_perm("reports.refresh_dashboard")

    @display(description=gettext_lazy("用时"))
    def seconds_display(self, obj):
        return f"{obj.seconds:.1f} s" if obj.seconds is not None else "—"

    @display(
        description=gettext_lazy("结果"),
        label={"ok": "success", "failed": "danger", "running": "warning"},
    )
    def state_display(self, obj):
        if obj.error:
            return "failed", _("失败")
        if obj.finished_at is None:
            return "running", _("进行中")
        return "ok", _("完成")

    @action(
        description=gettext_lazy("立即增量刷新"),
        url_path="refresh",
        icon="refresh",
        permissions=["refresh"],
    )
    @refuse_cross_site
    def refresh_now(self, request):
        async_task("reports.tasks.reports_rollup_refresh_task", task_name="reports-refresh-now")
        messages.success(request, _("已提交增量刷新（今天、昨天及有变动的日期）。"))
        return redirect(reverse("admin:reports_rolluprun_changelist"))


@admin.register(RegionManager)
class RegionManagerAdmin(ModelAdmin):
    list_display = ["region", "user", "created_at"]
    list_filter = ["region"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "region__name"]
    autocomplete_fields = ["user", "region"]
    fields = ["region", "user"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("region", "user")

    def save_model(self, request, obj, form, change):
        from leads.services.roles import region_manager_role_sync

        super().save_model(request, obj, form, change)
        region_manager_role_sync(obj.user)  # the login gets the role's permissions at once


def can_manage_region_managers(request) -> bool:
    return request.user.has_perm("reports.view_regionmanager")
