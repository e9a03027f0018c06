from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin

from channels.models import Channel, ChannelToken
from channels.services import channel_token_rotate
from config.errors import DomainError
from leads.admin.exports import SafeExportMixin


@admin.register(Channel)
class ChannelAdmin(SafeExportMixin, ModelAdmin):
    list_display = [
        "code",
        "name",
        "level",
        "parent_path",
        "needs_cleansing",
        "score_weight",
        "is_active",
        "has_token",
    ]
    list_filter = ["level", "needs_cleansing", "is_active"]
    list_select_related = ["parent__parent", "token"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]
    ordering = ["level", "sort_order", "code"]
    actions = ["rotate_token"]

    def has_rotate_token_permission(self, request):
        return request.user.has_perm("channels.change_channeltoken")

    @admin.display(description=_("上级"))
    def parent_path(self, obj):
        return " › ".join(obj.path_names()[:-1]) or "—"

    @admin.display(description=_("接口令牌"), boolean=True)
    def has_token(self, obj):
        return hasattr(obj, "token")

    @admin.action(
        description=_("生成/轮换接口令牌（旧令牌立即失效）"), permissions=["rotate_token"]
    )
    def rotate_token(self, request, queryset):
        for channel in queryset:
            try:
                key = channel_token_rotate(channel=channel, actor=request.user)
            except DomainError as error:
                self.message_user(request, str(error), messages.ERROR)
                continue
            self.message_user(
                request,
                _("%(channel)s 的新令牌（仅显示这一次）：%(key)s")
                % {"channel": channel.name, "key": key},
                messages.SUCCESS,
            )

    def has_delete_permission(self, request, obj=None):
        return False  # channels with leads are kept for reports; deactivate instead


@admin.register(ChannelToken)
class ChannelTokenAdmin(SafeExportMixin, ModelAdmin):
    list_display = ["channel", "prefix", "created_at", "created_by", "last_used_at"]
    list_select_related = ["channel", "created_by"]
    search_fields = ["channel__code", "channel__name"]
    readonly_fields = ["channel", "prefix", "created_at", "created_by", "last_used_at"]
    exclude = ["key_hash"]

    def has_add_permission(self, request):
        return False  # tokens are created by the channel action or `manage.py channel_token`

    def has_change_permission(self, request, obj=None):
        return False
