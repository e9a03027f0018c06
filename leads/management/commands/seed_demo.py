"""`manage.py seed_demo`: fill an empty database with the demo network, leads and logins."""

import argparse

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from leads.demo import demo_data_exists, demo_logins_table, demo_seed, demo_summary_table


class Command(BaseCommand):
    help = _(
        "生成演示数据：三级渠道、大区、经销商与派发时段、销售顾问、车型，以及 N 条带完整历史的"
        "线索和演示账号。只能在空库上运行；--if-empty 在已有数据时直接跳过。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=2000, help=_("线索数量（0 = 只生成网络）"))
        parser.add_argument(
            "--if-empty", action="store_true", help=_("已有演示数据（渠道）时什么也不做")
        )
        parser.add_argument("--seed", type=int, default=20240601, help=_("随机种子"))
        # Smaller networks make the tests fast; not meant for everyday use.
        parser.add_argument("--dealers", type=int, default=200, help=argparse.SUPPRESS)
        parser.add_argument("--advisors-per-dealer", type=int, default=15, help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        if demo_data_exists():
            if options["if_empty"]:
                self.stdout.write(_("演示数据已存在（数据库中已有渠道），跳过生成。"))
                return
            raise CommandError(
                _("数据库中已有渠道数据：seed_demo 只在空库上生成；加 --if-empty 可跳过。")
            )
        if options["leads"] < 0 or options["dealers"] < 1 or options["advisors_per_dealer"] < 3:
            raise CommandError(_("--leads 不能为负；至少 1 家经销商，每家至少 3 名员工。"))
        verbose = options["verbosity"] >= 1
        summary = demo_seed(
            leads=options["leads"],
            seed=options["seed"],
            dealers=options["dealers"],
            advisors_per_dealer=options["advisors_per_dealer"],
            progress=self.stdout.write if verbose else None,
        )
        if verbose:
            self.stdout.write("")
            self.stdout.write(demo_summary_table(summary))
            self.stdout.write("")
            self.stdout.write(demo_logins_table())
