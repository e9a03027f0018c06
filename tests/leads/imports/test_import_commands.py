"""The template and the import from the command line."""

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from leads.models import ImportJob, Lead, RawLead
from tests.leads.imports.conftest import openpyxl_bytes

pytestmark = pytest.mark.django_db


def test_lead_template_writes_the_template_with_lists_from_live_data(tmp_path, channel, dealer_a,
                                                                     model_m1):  # fmt: skip
    out = tmp_path / "模板.xlsx"

    call_command("lead_template", str(out))

    book = load_workbook(out)
    sheet = book["线索"]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["线索编号", "手机号*", "姓名*"] and "经销商代码" in header
    assert sheet.cell(row=2, column=2).value == "13800138000"  # the example row
    validations = {
        str(v.sqref).split(":")[0]: v.formula1 for v in sheet.data_validations.dataValidation
    }
    assert len(validations) == 5
    lists = book["选项"]
    assert "AUTOSHOW_T" in [c.value for c in lists["A"]]
    assert "DA01" in [c.value for c in lists["C"]] and "M1" in [c.value for c in lists["E"]]
    assert "填写说明" in book.sheetnames


def test_the_filled_in_template_imports(tmp_path, channel, dealer_a):
    out = tmp_path / "模板.xlsx"
    call_command("lead_template", str(out))
    book = load_workbook(out)
    sheet = book["线索"]
    sheet.append(
        ["", "13800000001", "张三", "AUTOSHOW_T", "DA01", "", "北京", "北京", "一个月内", "是"]
    )
    book.save(out)

    call_command("import_leads", str(out), "--channel", "AUTOSHOW_T")

    lead = Lead.objects.get()
    assert lead.dealer == dealer_a and lead.purchase_timeframe == "1m"


def test_import_leads_dry_run_prints_counts_writes_the_report_and_imports_nothing(
    tmp_path, channel, capsys
):
    source = tmp_path / "车展.xlsx"
    source.write_bytes(openpyxl_bytes([["手机号", "姓名"], ["13800000001", "张三"], ["1", "坏"]]))

    call_command("import_leads", str(source), "--channel", "AUTOSHOW_T", "--dry-run")

    out = capsys.readouterr().out
    assert "预检结果（未导入）" in out and "新建线索: 1" in out and "无效: 1" in out
    assert (tmp_path / "车展-结果.xlsx").exists()
    assert not RawLead.objects.exists()
    assert ImportJob.objects.get().status == ImportJob.Status.DISCARDED


def test_import_leads_imports_and_refuses_the_same_file_again(tmp_path, channel, capsys):
    source = tmp_path / "车展.xlsx"
    source.write_bytes(openpyxl_bytes([["手机号", "姓名"], ["13800000001", "张三"]]))

    call_command("import_leads", str(source), "--channel", "AUTOSHOW_T", "--report",
                 str(tmp_path / "r.xlsx"))  # fmt: skip

    assert "新建线索: 1" in capsys.readouterr().out and Lead.objects.count() == 1
    with pytest.raises(CommandError, match="不会重复导入"):
        call_command("import_leads", str(source), "--channel", "AUTOSHOW_T")


def test_import_leads_with_a_dealer_puts_rows_at_that_dealer(tmp_path, channel, dealer_a):
    source = tmp_path / "店.xlsx"
    source.write_bytes(openpyxl_bytes([["手机号", "姓名"], ["13800000001", "张三"]]))

    call_command("import_leads", str(source), "--channel", "AUTOSHOW_T", "--dealer", "DA01")

    assert Lead.objects.get().dealer == dealer_a
