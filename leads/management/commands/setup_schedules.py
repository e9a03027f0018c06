"""Declare the periodic tasks in code (update_or_create), never by hand in the admin."""

from django.core.management.base import BaseCommand
from django_q.models import Schedule

SCHEDULES = [
    {
        "name": "leads-dispatch-sweep",
        "func": "leads.tasks.leads_dispatch_sweep_task",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
    {
        "name": "leads-dispatch-replan",
        "func": "leads.tasks.leads_dispatch_replan_task",
        "schedule_type": Schedule.MINUTES,
        "minutes": 10,
        "repeats": -1,
    },
    {
        "name": "leads-lifecycle-rules",
        "func": "leads.tasks.leads_lifecycle_task",
        "schedule_type": Schedule.MINUTES,
        "minutes": 5,
        "repeats": -1,
    },
    {
        "name": "leads-assignment-timers",
        "func": "leads.tasks.leads_assignment_timers_task",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
    # KPI rollups (reports/services.py): every 5 minutes the recent and changed days, every
    # night at 02:30 the last 92 days in full.
    {
        "name": "reports-rollup-refresh",
        "func": "reports.tasks.reports_rollup_refresh_task",
        "schedule_type": Schedule.MINUTES,
        "minutes": 5,
        "repeats": -1,
    },
    {
        "name": "leads-login-failures-purge",
        "func": "leads.tasks.login_failures_purge_task",
        "schedule_type": Schedule.CRON,
        "cron": "15 3 * * *",
        "repeats": -1,
    },
    {
        "name": "reports-rollup-nightly",
        "func": "reports.tasks.reports_rollup_nightly_task",
        "schedule_type": Schedule.CRON,
        "cron": "30 2 * * *",
        "repeats": -1,
    },
]


class Command(BaseCommand):
    help = "Create or update the django-q2 schedules the product needs."

    def handle(self, *args, **options):
        for spec in SCHEDULES:
            spec = dict(spec)
            name = spec.pop("name")
            schedule, created = Schedule.objects.update_or_create(name=name, defaults=spec)
            self.stdout.write(f"{'created' if created else 'updated'}: {name} ({schedule.func})")
