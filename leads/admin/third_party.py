"""Users, groups and the task queue admins, re-registered on unfold so the whole admin is one
theme (django-q2 registers plain ModelAdmins; unfold must come first in the MRO)."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

User = get_user_model()

admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class UserAdmin(BaseUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin, ModelAdmin):
    pass


class ActionsNeedChangeMixin:
    """Third-party admins declare actions (resubmit a task …) without permissions: a reader
    (the auditor, HQ admins on the task queue) gets none of them."""

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.has_change_permission(request):
            return actions
        return {name: a for name, a in actions.items() if name == "delete_selected"}


def _reregister_on_unfold() -> None:
    """Give every third-party ModelAdmin that is not on unfold an unfold subclass."""
    for model, model_admin in list(admin.site._registry.items()):
        if isinstance(model_admin, ModelAdmin):
            continue
        base = type(model_admin)
        themed = type(
            base.__name__, (ActionsNeedChangeMixin, ModelAdmin, base), {"__module__": __name__}
        )
        admin.site.unregister(model)
        admin.site.register(model, themed)


_reregister_on_unfold()
