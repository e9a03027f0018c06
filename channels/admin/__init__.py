from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from channels.models import Channel


@admin.register(Channel)
class ChannelAdmin(ModelAdmin):
    list_display = [
        "code",
        "name",
        "level",
        "parent_path",
        "needs_cleansing",
        "score_weight",
        "is_active",
    ]
    list_filter = ["level", "needs_cleansing", "is_active"]
    list_select_related = ["parent__parent"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]
    ordering = ["level", "sort_order", "code"]

    @admin.display(description=_("上级"))
    def parent_path(self, obj):
        return " › ".join(obj.path_names()[:-1]) or "—"

    def has_delete_permission(self, request, obj=None):
        return False  # channels with leads are kept for reports; deactivate instead
