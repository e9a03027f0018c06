"""The roles of the lead centre as permission groups, declared here and applied idempotently.

Groups are data in the database, but what each role may do is decided in code: `roles_ensure`
(run by `python manage.py setup_roles`, `make run` and `seed_demo`) creates missing groups,
resets every role group to exactly the permissions listed below, and puts dealer staff and
region managers into the group of the role their record says they have.

Row scoping (which dealer's or region's rows a user sees) is not a permission: dealer pages
scope by the user's `Advisor` record (dealers/access.py), the admin and the reports by
`RegionManager` rows (reports/scope.py, leads/admin/scoping.py).
"""

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

ROLE_HQ_ADMIN = "总部管理员"
ROLE_HQ_OPS = "总部运营"
ROLE_HQ_AGENT = "总部清洗坐席"
ROLE_HQ_AUDITOR = "总部审计"
ROLE_REGION_MANAGER = "大区经理"
ROLE_DEALER_MANAGER = "经销商销售经理"
ROLE_DCC = "经销商DCC"
ROLE_ADVISOR = "销售顾问"
ROLE_API_CLIENT = "渠道接口"

ROLES = (
    ROLE_HQ_ADMIN,
    ROLE_HQ_OPS,
    ROLE_HQ_AGENT,
    ROLE_HQ_AUDITOR,
    ROLE_REGION_MANAGER,
    ROLE_DEALER_MANAGER,
    ROLE_DCC,
    ROLE_ADVISOR,
    ROLE_API_CLIENT,
)

# Roles whose members use the admin (is_staff); the others use the dealer pages or the API.
ADMIN_ROLES = (ROLE_HQ_ADMIN, ROLE_HQ_OPS, ROLE_HQ_AGENT, ROLE_HQ_AUDITOR, ROLE_REGION_MANAGER)

# Apps whose every permission (including ones added later) the HQ administrator holds, and
# whose every view permission the auditor holds.
OWN_APPS = ("channels", "dealers", "leads", "reports", "django_fsm_log")
# User accounts stay with superusers: whoever may change users may make themselves superuser.
# The task queue is read only (schedules are declared in code); DRF's user tokens not at all
# (channels use their own tokens; a user token would be a credential for any account).
HQ_ADMIN_APPS = OWN_APPS
# What the auditor may not read even so: secrets (token hashes).
AUDITOR_EXCLUDED = ("channels.view_channeltoken",)


def _model(label: str, actions: str = "vacd") -> tuple[str, ...]:
    """ "app.model" with v(iew) a(dd) c(hange) d(elete) → the permission names."""
    app_label, model = label.split(".")
    words = {"v": "view", "a": "add", "c": "change", "d": "delete"}
    return tuple(f"{app_label}.{words[letter]}_{model}" for letter in actions)


# "app_label.codename" per role (the HQ administrator and auditor are computed, see above).
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    # Channels, rules, the dealer network, reports and uploads. Leads are read (masked) to
    # answer channels' questions; numbers are never revealed by operations.
    ROLE_HQ_OPS: (
        *_model("channels.channel"),
        *_model("channels.channeltoken"),
        *_model("dealers.region"),
        *_model("dealers.dealer", "vac"),
        *_model("dealers.dispatchwindow"),
        *_model("dealers.dealerclosure"),
        *_model("dealers.workcalendarday"),
        *_model("dealers.advisor", "vac"),
        *_model("leads.vehicleseries"),
        *_model("leads.vehiclemodel"),
        *_model("leads.scoringrule", "vc"),
        *_model("leads.gradecycle", "vc"),
        *_model("leads.lifecyclerule"),
        *_model("leads.dispatchpolicy", "vc"),
        *_model("leads.cleansingpolicy", "vc"),
        *_model("leads.invalidreason", "vac"),
        *_model("leads.importjob", "vac"),
        *_model("leads.lead", "v"),
        *_model("leads.rawlead", "v"),
        *_model("leads.customernotice", "v"),
        "leads.transfer_lead",
        *_model("reports.dashboard", "v"),
        "reports.export_dashboard",
        "reports.refresh_dashboard",
        *_model("reports.rolluprun", "v"),
        *_model("reports.regionmanager"),
        # to link advisors and region managers to their logins
        "auth.view_user",
    ),
    # The cleansing and nurturing workbench only (with the look-ups its forms need).
    ROLE_HQ_AGENT: (
        "leads.cleanse_lead",
        "leads.dispatch_lead",
        "leads.reveal_mobile",
        *_model("leads.callrecord", "v"),
        *_model("leads.nurturetouch", "v"),
        "channels.view_channel",
        "dealers.view_region",
        "dealers.view_dealer",
        "dealers.view_dispatchwindow",
        "leads.view_vehicleseries",
        "leads.view_vehiclemodel",
    ),
    # Their region's dealers, staff and leads (masked), and the reports.
    ROLE_REGION_MANAGER: (
        "dealers.view_region",
        "dealers.view_dealer",
        "dealers.view_dispatchwindow",
        "dealers.view_dealerclosure",
        "dealers.view_advisor",
        "leads.view_lead",
        "reports.view_dashboard",
        "reports.export_dashboard",
    ),
    # Dealer staff work in the dealer pages, scoped by their Advisor record.
    ROLE_DEALER_MANAGER: (
        "leads.view_lead",
        "leads.assign_lead",
        "leads.approve_defeat",
        "leads.recall_lead",
        "leads.follow_lead",
        "leads.reveal_mobile",
        "dealers.view_advisor",
    ),
    ROLE_DCC: (
        "leads.view_lead",
        "leads.assign_lead",
        "leads.recall_lead",
        "leads.follow_lead",
        "leads.reveal_mobile",
        "dealers.view_advisor",
    ),
    ROLE_ADVISOR: (
        "leads.view_lead",
        "leads.follow_lead",
        "leads.reveal_mobile",
    ),
    # Service accounts of media channels and apps: they push raw leads through the API with
    # their channel's token (channels/auth.py) and see nothing else.
    ROLE_API_CLIENT: ("leads.add_rawlead",),
}


def _computed_permissions(role: str) -> list[Permission]:
    if role == ROLE_HQ_ADMIN:
        return list(
            Permission.objects.filter(
                Q(content_type__app_label__in=HQ_ADMIN_APPS)
                | Q(content_type__app_label__in=("auth", "django_q"), codename__startswith="view_")
            )
        )
    # Auditor: read everything of the lead centre, plus users, groups and the task log.
    viewable = Permission.objects.filter(codename__startswith="view_").filter(
        Q(content_type__app_label__in=OWN_APPS)
        | Q(content_type__app_label="auth")
        | Q(content_type__app_label="django_q")
    )
    return [
        permission
        for permission in viewable.select_related("content_type")
        if f"{permission.content_type.app_label}.{permission.codename}" not in AUDITOR_EXCLUDED
        and permission.codename != "view_full_mobile"
    ]


def _resolve(names: set[str]) -> dict[str, Permission]:
    query = Q(pk__in=[])
    for name in names:
        app_label, codename = name.split(".", 1)
        query |= Q(content_type__app_label=app_label, codename=codename)
    found = Permission.objects.filter(query).select_related("content_type")
    return {f"{p.content_type.app_label}.{p.codename}": p for p in found}


def role_of_advisor(advisor) -> str:
    from dealers.models import Advisor

    return {
        Advisor.Role.MANAGER: ROLE_DEALER_MANAGER,
        Advisor.Role.DCC: ROLE_DCC,
    }.get(advisor.role, ROLE_ADVISOR)


def roles_ensure() -> dict[str, Group]:
    """Create the role groups, give each exactly its declared permissions, and put dealer
    staff and region managers into their role's group. Safe to run any number of times."""
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
            if role in ROLE_PERMISSIONS:
                permissions = [by_name[name] for name in ROLE_PERMISSIONS[role]]
            else:
                permissions = _computed_permissions(role)
            group.permissions.set(permissions)
            groups[role] = group
        _sync_memberships(groups)
    return groups


def _sync_memberships(groups: dict[str, Group]) -> None:
    """Dealer staff are in exactly the group of their Advisor role; region managers in theirs."""
    from dealers.models import Advisor
    from reports.models import RegionManager

    membership = get_user_model().groups.through
    dealer_groups = {
        groups[ROLE_DEALER_MANAGER].pk,
        groups[ROLE_DCC].pk,
        groups[ROLE_ADVISOR].pk,
    }
    wanted: set[tuple[int, int]] = {
        (user_id, groups[role_of_advisor(Advisor(role=role))].pk)
        for user_id, role in Advisor.objects.filter(
            user__isnull=False, user__is_staff=False, user__is_superuser=False
        ).values_list("user_id", "role")
    }
    wanted |= {
        (user_id, groups[ROLE_REGION_MANAGER].pk)
        for user_id in RegionManager.objects.values_list("user_id", flat=True)
    }
    staff_ids = {user_id for user_id, _group in wanted}
    existing = set(
        membership.objects.filter(group_id__in=dealer_groups, user_id__in=staff_ids).values_list(
            "user_id", "group_id"
        )
    )
    stale = {
        (user_id, group_id) for user_id, group_id in existing if (user_id, group_id) not in wanted
    }
    for user_id, group_id in stale:
        membership.objects.filter(user_id=user_id, group_id=group_id).delete()
    present = set(
        membership.objects.filter(user_id__in=staff_ids).values_list("user_id", "group_id")
    )
    membership.objects.bulk_create(
        [membership(user_id=u, group_id=g) for u, g in sorted(wanted - present)],
        batch_size=1000,
    )


def _role_groups() -> dict[str, Group]:
    """The role groups by name, created (with their permissions) if any is missing."""
    groups = {group.name: group for group in Group.objects.filter(name__in=ROLES)}
    return groups if len(groups) == len(ROLES) else roles_ensure()


def advisor_role_sync(advisor) -> None:
    """After an Advisor's role or login changed: their login is in exactly that role's group."""
    if advisor.user_id is None or advisor.user.is_staff or advisor.user.is_superuser:
        return  # HQ logins never take a dealer role (dealers.access.member_of ignores them)
    groups = _role_groups()
    advisor.user.groups.remove(groups[ROLE_DEALER_MANAGER], groups[ROLE_DCC], groups[ROLE_ADVISOR])
    advisor.user.groups.add(groups[role_of_advisor(advisor)])


def region_manager_role_sync(user) -> None:
    """A login just made region manager is in the region manager's group (its rows in
    RegionManager decide which regions it sees)."""
    user.groups.add(_role_groups()[ROLE_REGION_MANAGER])
