"""`manage.py reports_refresh`: rebuild the KPI rollups (first install, backfill, repair)."""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.errors import DomainError
from reports.services import rollups_refresh_range, rollups_refresh_recent


class Command(BaseCommand):
    help = gettext_lazy("重算KPI汇总：默认最近400天；--recent 只做一次增量刷新。")

    def add_arguments(self, parser):
        add = parser.add_argument
        add("--days", type=int, default=400, help=gettext_lazy("重算最近N天（含今天）"))
        add("--from", dest="first", help=gettext_lazy("起始日期 YYYY-MM-DD"))
        add("--to", dest="last", help=gettext_lazy("截止日期 YYYY-MM-DD（默认今天）"))
        add("--recent", action="store_true", help=gettext_lazy("增量刷新（同定时任务）"))

    def handle(self, *args, days, first, last, recent, **options):
        if recent:
            run = rollups_refresh_recent()
        else:
            today = timezone.localdate()
            try:
                last_day = date.fromisoformat(last) if last else today
                first_day = (
                    date.fromisoformat(first) if first else last_day - timedelta(days=days - 1)
                )
                run = rollups_refresh_range(first=first_day, last=last_day)
            except (ValueError, DomainError) as error:
                raise CommandError(str(error)) from error
        self.stdout.write(
            _("%(mode)s：%(first)s ~ %(last)s，%(days)s 天，%(rows)s 行，%(seconds).1f 秒")
            % {
                "mode": run.get_mode_display(),
                "first": run.day_from,
                "last": run.day_to,
                "days": run.days,
                "rows": run.rows,
                "seconds": run.seconds,
            }
        )
