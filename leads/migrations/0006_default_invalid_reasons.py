"""Data: the usual invalid reasons and the default cleansing policy, editable in the admin."""

from django.db import migrations

REASONS = [
    ("unreachable", "多次未接通，无法联系", 1),
    ("empty_number", "空号/停机", 2),
    ("wrong_person", "非本人留资", 3),
    ("no_intent", "无购车意向", 4),
    ("peer", "同行/竞品调研", 5),
    ("test", "测试数据", 6),
    ("bought", "已购车", 7),
    ("other", "其他", 99),
]


def create(apps, schema_editor):
    InvalidReason = apps.get_model("leads", "InvalidReason")
    for code, name, order in REASONS:
        InvalidReason.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})
    apps.get_model("leads", "CleansingPolicy").objects.get_or_create(pk=1)


def remove(apps, schema_editor):
    apps.get_model("leads", "InvalidReason").objects.filter(code__in=[r[0] for r in REASONS]).delete()


class Migration(migrations.Migration):
    dependencies = [("leads", "0005_cleansing_desk")]

    operations = [migrations.RunPython(create, remove)]
