"""`manage.py demo_logins`: print the demo accounts (used by `make run`)."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from leads.demo import demo_logins_table


class Command(BaseCommand):
    help = _("列出演示账号：用户名、密码、角色与登录地址。")

    def handle(self, *args, **options):
        self.stdout.write(demo_logins_table())
