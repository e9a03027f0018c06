"""List filters of the lead admin: channel at each level, region, flags."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import DropdownFilter

from channels.models import Channel
from dealers.models import Region


class _ChannelLevelFilter(DropdownFilter):
    level: int
    lookup: str

    def lookups(self, request, model_admin):
        return [(str(c.pk), c.name) for c in Channel.objects.filter(level=self.level)]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(**{self.lookup: self.value()})
        return queryset


class ChannelLevel1Filter(_ChannelLevelFilter):
    title = _("一级渠道")
    parameter_name = "channel_l1"
    level = 1
    lookup = "channel__parent__parent_id"


class ChannelLevel2Filter(_ChannelLevelFilter):
    title = _("二级渠道")
    parameter_name = "channel_l2"
    level = 2
    lookup = "channel__parent_id"


class ChannelLevel3Filter(_ChannelLevelFilter):
    title = _("三级渠道")
    parameter_name = "channel_l3"
    level = 3
    lookup = "channel_id"


class RegionFilter(DropdownFilter):
    title = _("大区")
    parameter_name = "region"

    def lookups(self, request, model_admin):
        return [(str(r.pk), r.name) for r in Region.objects.all()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(dealer__region_id=self.value())
        return queryset


class FlagFilter(admin.SimpleListFilter):
    title = _("标记")
    parameter_name = "flag"

    def lookups(self, request, model_admin):
        return [("dup", _("重 重复合并")), ("grab", _("抢 抢单")), ("react", _("激 已激活"))]

    def queryset(self, request, queryset):
        match self.value():
            case "dup":
                return queryset.filter(duplicate_count__gt=0)
            case "grab":
                return queryset.filter(is_grabbed=True)
            case "react":
                return queryset.filter(is_reactivated=True)
        return queryset
