"""Failed logins: who was locked out, from where; an administrator can lift a lock."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateTimeFilter

from leads.models import LoginFailure
from leads.security.lockout import login_failures_clear


@admin.register(LoginFailure)
class LoginFailureAdmin(ModelAdmin):
    """Written only by the login signals: visible, never added or edited by hand."""

    list_display = ["username", "ip", "created_at"]
    list_filter = [("created_at", RangeDateTimeFilter)]
    list_filter_submit = True
    search_fields = ["username"]
    date_hierarchy = "created_at"
    readonly_fields = ["username", "ip", "created_at"]
    actions = ["unlock"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("解锁账号"), permissions=["delete"])
    def unlock(self, request, queryset):
        usernames = set(queryset.values_list("username", flat=True))
        deleted = login_failures_clear(usernames=usernames)
        self.message_user(
            request,
            ngettext(
                "已解锁 %(accounts)d 个账号（清除 %(count)d 条失败记录）。",
                "已解锁 %(accounts)d 个账号（清除 %(count)d 条失败记录）。",
                len(usernames),
            )
            % {"accounts": len(usernames), "count": deleted},
            messages.SUCCESS,
        )
