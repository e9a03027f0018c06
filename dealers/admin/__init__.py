from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action

from dealers.models import Advisor, Dealer, DealerClosure, DispatchWindow, Region
from leads.admin.exports import SafeExportMixin
from leads.admin.scoping import RegionScopedAdminMixin
from leads.services.roles import advisor_role_sync


@admin.register(Region)
class RegionAdmin(RegionScopedAdminMixin, SafeExportMixin, ModelAdmin):
    region_lookup = "pk"
    list_display = ["code", "name", "dealer_count"]
    search_fields = ["code", "name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(num_dealers=Count("dealers"))

    @admin.display(description=_("经销商数"), ordering="num_dealers")
    def dealer_count(self, obj):
        return obj.num_dealers


class DispatchWindowInline(TabularInline):
    model = DispatchWindow
    extra = 0
    fields = ["weekday", "opens_at", "closes_at"]


class DealerClosureInline(TabularInline):
    model = DealerClosure
    extra = 0
    fields = ["start_date", "end_date", "reason"]


@admin.register(Dealer)
class DealerAdmin(RegionScopedAdminMixin, SafeExportMixin, ModelAdmin):
    region_lookup = "region"
    list_display = ["code", "name", "region", "province", "city", "status", "advisor_count"]
    list_filter = ["status", "region", "province"]
    list_select_related = ["region"]
    search_fields = ["code", "name", "city"]
    inlines = [DispatchWindowInline, DealerClosureInline]
    actions_detail = ["exit_network"]

    @action(description=_("经销商退网…"), url_path="exit", icon="logout", permissions=["exit"])
    def exit_network(self, request, object_id):
        from leads.admin.dispatch import dealer_exit_view

        return dealer_exit_view(self, request, object_id)

    def has_exit_permission(self, request, object_id=None):
        return request.user.has_perm("leads.transfer_lead")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(num_advisors=Count("advisors"))

    @admin.display(description=_("顾问数"), ordering="num_advisors")
    def advisor_count(self, obj):
        return obj.num_advisors


@admin.register(DealerClosure)
class DealerClosureAdmin(RegionScopedAdminMixin, SafeExportMixin, ModelAdmin):
    list_display = ["dealer", "start_date", "end_date", "reason"]
    list_select_related = ["dealer"]
    search_fields = ["dealer__code", "dealer__name"]


@admin.register(DispatchWindow)
class DispatchWindowAdmin(RegionScopedAdminMixin, SafeExportMixin, ModelAdmin):
    list_display = ["dealer", "weekday", "opens_at", "closes_at"]
    list_filter = ["weekday"]
    list_select_related = ["dealer"]
    search_fields = ["dealer__code", "dealer__name"]


@admin.register(Advisor)
class AdvisorAdmin(RegionScopedAdminMixin, SafeExportMixin, ModelAdmin):
    list_display = [
        "name",
        "dealer",
        "role",
        "level",
        "hire_date",
        "years_experience",
        "is_active",
    ]
    list_filter = ["role", "level", "is_active"]
    list_select_related = ["dealer", "user"]
    search_fields = ["name", "user__username", "dealer__code", "dealer__name"]
    autocomplete_fields = ["user", "dealer"]
    actions_detail = ["leaves"]

    @action(
        description=_("离职交接…"), url_path="leaves", icon="person_remove", permissions=["leaves"]
    )
    def leaves(self, request, object_id):
        from leads.admin.lifecycle import advisor_leaves_view

        return advisor_leaves_view(self, request, object_id)

    def has_leaves_permission(self, request, object_id=None):
        return request.user.has_perm("dealers.change_advisor")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            # Dealer staff sign in on the dealer pages: an admin (HQ) login cannot be one.
            kwargs["queryset"] = get_user_model().objects.filter(is_staff=False, is_superuser=False)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        advisor_role_sync(obj)  # the login's group follows the role
