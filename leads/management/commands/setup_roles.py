"""Create or reset the role groups and their permissions (idempotent; run on every deploy)."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from leads.services.roles import roles_ensure


class Command(BaseCommand):
    help = _("创建或重置各角色的权限组（可重复执行），并按员工档案同步经销商员工与大区经理的角色。")

    def handle(self, *args, **options):
        groups = roles_ensure()
        for name, group in groups.items():
            self.stdout.write(
                _("%(role)s：%(perms)d 项权限，%(users)d 个账号")
                % {
                    "role": name,
                    "perms": group.permissions.count(),
                    "users": group.user_set.count(),
                }
            )
