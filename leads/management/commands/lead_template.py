"""`manage.py lead_template OUT.xlsx [--dealer CODE]`: write the lead import template."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from dealers.models import Dealer
from leads.imports.template import lead_template_build


class Command(BaseCommand):
    help = _(
        "生成线索导入模板（xlsx）：中文表头、填写说明、渠道/经销商/车型/购车时间下拉列表和一行示例。"
    )

    def add_arguments(self, parser):
        parser.add_argument("out", help=_("输出文件，如 线索导入模板.xlsx"))
        parser.add_argument(
            "--dealer", help=_("经销商代码：生成该经销商用的模板（无渠道和经销商列）")
        )

    def handle(self, *args, out, dealer=None, **options):
        dealer_obj = None
        if dealer:
            dealer_obj = Dealer.objects.filter(code=dealer).first()
            if dealer_obj is None:
                raise CommandError(_("经销商代码 %(code)s 不存在。") % {"code": dealer})
        lead_template_build(out, dealer=dealer_obj)
        self.stdout.write(_("已生成模板：%(path)s") % {"path": out})
