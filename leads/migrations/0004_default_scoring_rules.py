"""Data: the default scoring rules (100 points at most), editable afterwards in the admin."""

from django.db import migrations

DEFAULTS = [
    ("channel_weight", 30, {}),
    ("has_name", 5, {}),
    ("has_city", 5, {}),
    ("model_named", 10, {}),
    ("dealer_named", 10, {}),
    ("consent", 10, {}),
    ("timeframe", 20, {"2w": 1.0, "1m": 0.8, "3m": 0.5, "6m": 0.3, "later": 0.0}),
    ("repeated", 5, {"max_times": 2}),
]


def create_rules(apps, schema_editor):
    ScoringRule = apps.get_model("leads", "ScoringRule")
    for kind, points, params in DEFAULTS:
        ScoringRule.objects.get_or_create(kind=kind, defaults={"points": points, "params": params})


def remove_rules(apps, schema_editor):
    apps.get_model("leads", "ScoringRule").objects.filter(kind__in=[d[0] for d in DEFAULTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("leads", "0003_scoring_rules_notifications_reason_codes")]

    operations = [migrations.RunPython(create_rules, remove_rules)]
