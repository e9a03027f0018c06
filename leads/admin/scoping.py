"""Row scoping in the admin: a region manager sees only their regions' dealers, staff and
leads (the reports' rule, reports/scope.py); HQ staff see the whole network."""

from reports.scope import ALL, REGION, report_scope_for


def admin_scope(request):
    scope = getattr(request, "_admin_scope", None)
    if scope is None:
        scope = request._admin_scope = report_scope_for(request.user)
    return scope


def region_scoped(request, queryset, region_lookup: str):
    """`queryset` narrowed to the user's regions (`region_lookup` leads from the model to
    dealers.Region); nothing for a user with no scope."""
    scope = admin_scope(request)
    if scope.kind == ALL:
        return queryset
    if scope.kind == REGION:
        return queryset.filter(**{f"{region_lookup}__in": scope.region_ids})
    return queryset.none()


class RegionScopedAdminMixin:
    """For a ModelAdmin whose rows belong to a region through `region_lookup`."""

    region_lookup = "dealer__region"

    def get_queryset(self, request):
        return region_scoped(request, super().get_queryset(request), self.region_lookup)
