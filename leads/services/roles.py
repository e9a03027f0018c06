"""The four role groups and their permissions, declared here and applied idempotently.

Groups are data in the database, but what each role may do is decided in code: `roles_ensure`
creates missing groups and resets every group to exactly the permissions listed below, so it is
safe to run on every deploy and from `seed_demo`.
"""

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

ROLE_HQ_ADMIN = "总部管理员"
ROLE_HQ_AGENT = "总部清洗坐席"
ROLE_DEALER_MANAGER = "经销商销售经理"
ROLE_ADVISOR = "销售顾问"

ROLES = (ROLE_HQ_ADMIN, ROLE_HQ_AGENT, ROLE_DEALER_MANAGER, ROLE_ADVISOR)

# HQ admins get every permission of these apps (including ones added later), plus read access
# to users and groups.
HQ_ADMIN_APPS = ("channels", "dealers", "leads", "reports", "django_q")

# "app_label.codename" per role. The HQ agent also needs to see vehicle models, regions and
# dispatch windows: the admin's autocomplete for the intended model and the dealer requires view
# permission on the related model. The dealer manager sees advisors to choose whom to assign.
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    ROLE_HQ_AGENT: (
        "channels.view_channel",
        "dealers.view_region",
        "dealers.view_dealer",
        "dealers.view_dispatchwindow",
        "dealers.view_advisor",
        "leads.view_vehicleseries",
        "leads.view_vehiclemodel",
        "leads.view_customer",
        "leads.view_rawlead",
        "leads.view_lead",
        "leads.view_followup",
        "leads.view_leadevent",
        "leads.change_lead",
        "leads.cleanse_lead",
        "leads.dispatch_lead",
    ),
    ROLE_DEALER_MANAGER: (
        "dealers.view_advisor",
        "leads.view_lead",
        "leads.view_customer",
        "leads.view_followup",
        "leads.assign_lead",
        "leads.approve_defeat",
        "leads.recall_lead",
        "leads.follow_lead",
    ),
    ROLE_ADVISOR: (
        "leads.view_lead",
        "leads.follow_lead",
    ),
}


def _hq_admin_permissions() -> list[Permission]:
    return list(
        Permission.objects.filter(
            Q(content_type__app_label__in=HQ_ADMIN_APPS)
            | Q(content_type__app_label="auth", codename__startswith="view_")
        )
    )


def _resolve(names: set[str]) -> dict[str, Permission]:
    pairs = [name.split(".", 1) for name in names]
    query = Q(pk__in=[])
    for app_label, codename in pairs:
        query |= Q(content_type__app_label=app_label, codename=codename)
    found = Permission.objects.filter(query).select_related("content_type")
    return {f"{p.content_type.app_label}.{p.codename}": p for p in found}


def roles_ensure() -> dict[str, Group]:
    """Create the four role groups and give each exactly the permissions declared above."""
    wanted = {name for names in ROLE_PERMISSIONS.values() for name in names}
    with transaction.atomic():
        by_name = _resolve(wanted)
        if len(by_name) < len(wanted):
            # Permissions are normally created after `migrate`; create them now if they are not.
            for app_config in apps.get_app_configs():
                create_permissions(app_config, verbosity=0)
            by_name = _resolve(wanted)
        missing = sorted(wanted - set(by_name))
        if missing:
            raise LookupError(f"Unknown permissions: {', '.join(missing)}")

        groups: dict[str, Group] = {}
        for role in ROLES:
            group, _created = Group.objects.get_or_create(name=role)
            if role == ROLE_HQ_ADMIN:
                permissions = _hq_admin_permissions()
            else:
                permissions = [by_name[name] for name in ROLE_PERMISSIONS[role]]
            group.permissions.set(permissions)
            groups[role] = group
    return groups
