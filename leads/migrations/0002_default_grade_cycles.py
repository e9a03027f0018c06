"""Data: the default follow-up cycle per grade (SPEC.md), editable afterwards in the admin."""

from django.db import migrations

DEFAULTS = [
    ("H", 7, "两周内", "需求与预算明确"),
    ("A", 15, "一个月内", "需求明确"),
    ("B", 30, "三个月内", "需求或预算不明确"),
    ("C", 90, "六个月内", "暂无明确计划"),
]


def create_cycles(apps, schema_editor):
    GradeCycle = apps.get_model("leads", "GradeCycle")
    for grade, days, purchase, description in DEFAULTS:
        GradeCycle.objects.get_or_create(
            grade=grade,
            defaults={"days": days, "expected_purchase": purchase, "description": description},
        )


def remove_cycles(apps, schema_editor):
    apps.get_model("leads", "GradeCycle").objects.filter(grade__in=[d[0] for d in DEFAULTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("leads", "0001_initial")]

    operations = [migrations.RunPython(create_cycles, remove_cycles)]
