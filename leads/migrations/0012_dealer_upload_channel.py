"""Data: the level-3 channel of dealer Excel uploads (经销商渠道 › 经销商自有 › 经销商Excel上传).

Added only where the dealer-channel branch exists already: on an empty database the demo seeder
creates the channel tree (and seeds only when no channel exists), and the import service
creates this channel on first use (leads.imports.services.dealer_upload_channel)."""

from django.db import migrations

CODE = "DEALER_UPLOAD"
BRANCHES = ("DLR_OWNED", "DEALER_OWN")


def create(apps, schema_editor):
    Channel = apps.get_model("channels", "Channel")
    if Channel.objects.filter(code=CODE).exists():
        return
    branch = Channel.objects.filter(code__in=BRANCHES, level=2).order_by("code").first()
    if branch is None:
        return
    Channel.objects.create(
        code=CODE,
        name="经销商Excel上传",
        level=3,
        parent=branch,
        needs_cleansing=False,
        score_weight=80,
        sort_order=900,
    )


def remove(apps, schema_editor):
    Channel = apps.get_model("channels", "Channel")
    Channel.objects.filter(code=CODE, raw_leads__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("channels", "0004_lifecycle_rules_silence_directed"),
        ("leads", "0011_excel_imports_and_export_log"),
    ]

    operations = [migrations.RunPython(create, remove)]
