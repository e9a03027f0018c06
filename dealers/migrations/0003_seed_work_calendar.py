"""Data: China's work calendar (调休 included) for the years chinesecalendar knows, from 2024.
Later years are added by `python manage.py calendar_seed YEAR` once the package has them, or
by HQ in the admin; a year without data is refused at dispatch, never guessed."""

import datetime

from django.db import migrations


def seed(apps, schema_editor):
    from dealers.calendar_source import package_days

    WorkCalendarDay = apps.get_model("dealers", "WorkCalendarDay")
    for year in range(2024, datetime.date.today().year + 2):
        days = package_days(year)
        if days is None:
            continue
        WorkCalendarDay.objects.bulk_create(
            [WorkCalendarDay(source="package", **day) for day in days], ignore_conflicts=True
        )


def unseed(apps, schema_editor):
    apps.get_model("dealers", "WorkCalendarDay").objects.filter(source="package").delete()


class Migration(migrations.Migration):
    dependencies = [("dealers", "0002_work_calendar_closures_holiday_windows")]

    operations = [migrations.RunPython(seed, unseed)]
