"""Read-only admin pages show text as stored, except mobile numbers: people type them into
notes, reasons and messages ("客户改用 139 8765 4321"), and such a number is as personal as the
customer's own. Pages that never save mask every mobile in every text and JSON field of the
rows they show."""

from django.db import models

from leads.masking import mask_data

_TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)


def mask_instance(obj):
    """The same instance with every mobile inside its text and JSON fields masked (in memory;
    only for instances that are never saved)."""
    for field in obj._meta.concrete_fields:
        if isinstance(field, _TEXT_FIELDS) and not field.choices:
            value = getattr(obj, field.attname)
            if value:
                setattr(obj, field.attname, mask_data(value))
    return obj


class MaskedTextAdminMixin:
    """For ModelAdmins that never change their rows: list and detail pages mask mobiles."""

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and not self.has_change_permission(request, obj):
            mask_instance(obj)
        return obj

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None and not self.has_change_permission(request):
            changelist.result_list = [mask_instance(obj) for obj in changelist.result_list]
        return response


class NoMobileLookupsMixin:
    """No `?mobile__startswith=` / `?mobile__regex=` in the admin's URL filters: they would
    recover a masked number digit by digit (search accepts a whole number or the last four
    digits only)."""

    def lookup_allowed(self, lookup, value, request=None):
        if "mobile" in lookup:
            return False
        return super().lookup_allowed(lookup, value, request)
