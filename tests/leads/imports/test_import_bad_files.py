"""Bad files get a clear message in Chinese; bad rows are reported with their reason and never
cost the good rows their place."""

import io
import zipfile

import pytest
from django.test import override_settings

from leads.imports.reader import FileRefused
from leads.imports.services import lead_import_confirm, lead_import_upload
from leads.models import ImportJob, ImportRow, Lead, RawLead
from tests.leads.imports.conftest import HEADER, openpyxl_bytes, uploaded, xlsx_bytes

pytestmark = pytest.mark.django_db


def _upload(content, channel, name="leads.xlsx", **kwargs):
    return lead_import_upload(fileobj=uploaded(content, name), name=name, channel=channel, **kwargs)


def _rows(job, phase=ImportRow.Phase.PREVIEW):
    return {r.row_number: r for r in ImportRow.objects.filter(job=job, phase=phase)}


def test_a_file_that_is_not_excel_or_csv_is_refused(channel):
    with pytest.raises(FileRefused) as refused:
        _upload(b"%PDF-1.7 not a spreadsheet", channel, name="leads.xlsx")

    assert "请上传 Excel（.xlsx）或 CSV" in str(refused.value)


def test_a_word_document_is_refused_as_such(channel):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")

    with pytest.raises(FileRefused, match="Word 文档"):
        _upload(buffer.getvalue(), channel, name="leads.xlsx")


def test_a_legacy_xls_file_is_asked_to_be_saved_as_xlsx(channel):
    legacy = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512 + "Workbook".encode("utf-16-le")

    with pytest.raises(FileRefused, match="另存为” .xlsx"):
        _upload(legacy, channel, name="经销商用户销售线索导入模板.xls")


def test_a_password_protected_file_is_refused_with_how_to_remove_the_password(channel):
    encrypted = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\x00" * 512
        + "EncryptionInfo".encode("utf-16-le")
        + "EncryptedPackage".encode("utf-16-le")
    )

    with pytest.raises(FileRefused, match="设置了打开密码"):
        _upload(encrypted, channel, name="leads.xlsx")


def test_missing_required_columns_are_named(channel):
    content = openpyxl_bytes([["手机", "城市"], ["13800000001", "北京"]])

    with pytest.raises(FileRefused, match="缺少必填列：姓名"):
        _upload(content, channel)


def test_a_file_without_a_mobile_column_names_both_required_columns(channel):
    content = openpyxl_bytes([["联系人", "城市"], ["张三", "北京"]])

    with pytest.raises(FileRefused) as refused:
        _upload(content, channel)

    assert "手机号、姓名" in str(refused.value)


def test_extra_columns_are_ignored_and_said(channel):
    content = openpyxl_bytes(
        [["手机号", "姓名", "身份证号", "微信"], ["13800000001", "张三", "x", "y"]]
    )

    job = _upload(content, channel)

    assert job.status == ImportJob.Status.PREVIEWED
    assert any("身份证号、微信" in note and "已忽略" in note for note in job.notes)
    assert job.preview_counts["created"] == 1


def test_a_formula_cell_is_imported_by_its_calculated_value_with_a_warning(channel):
    content = xlsx_bytes(
        [
            ["手机号", "姓名", "城市"],
            ["13800000001", ("f", 'CONCATENATE("张","三")', "张三"), "北京"],
            ["13800000002", "李四", ("f", "A1", None)],
        ]
    )

    job = _upload(content, channel)
    rows = _rows(job)

    assert rows[2].name == "张三" and "含公式，已按计算结果导入" in rows[2].message
    assert "公式没有计算结果" in rows[3].message
    assert job.preview_counts["created"] == 2


def test_merged_cells_fill_down_their_value_and_are_said(channel, dealer_a):
    content = xlsx_bytes(
        [
            ["手机号", "姓名", "经销商代码", "客户同意经销商联系"],
            ["13800000001", "张三", "DA01", "是"],
            ["13800000002", "李四", None, "是"],
            ["13800000003", "王五", None, "是"],
        ],
        merged=["C2:C4"],
    )

    job = _upload(content, channel)

    assert any("合并单元格（C2:C4）" in note for note in job.notes)
    assert {r.dealer_code for r in _rows(job).values()} == {"DA01"}


def test_blank_rows_are_skipped_and_counted(channel):
    content = xlsx_bytes(
        [
            ["手机号", "姓名"],
            ["13800000001", "张三"],
            [None, None],
            ["", "  "],
            ["13800000002", "李四"],
        ]
    )

    job = _upload(content, channel)

    assert job.preview_counts["created"] == 2 and job.preview_counts["blank"] == 2
    assert any("2 个空行已跳过" in note for note in job.notes)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2024/6/1 10:30", "2024-06-01 10:30:00"),
        ("2024年6月1日", "2024-06-01 00:00:00"),
        ("2024-06-01", "2024-06-01 00:00:00"),
        (("date", 45444.4375), "2024-06-01 10:30:00"),
        (("cjkdate", 45444), "2024-06-01 00:00:00"),
        (45444.4375, "2024-06-01 10:30:00"),
        ("45444", "2024-06-01 00:00:00"),
    ],
)
def test_dates_as_text_or_as_excel_serials_are_read_as_dates(channel, given, stored):
    content = xlsx_bytes([["手机号", "姓名", "留资时间"], ["13800000001", "张三", given]])

    job = _upload(content, channel)
    lead_import_confirm(job_id=job.pk)

    assert RawLead.objects.get().payload["submitted_at"] == stored


def test_an_unreadable_date_is_kept_as_written_with_a_warning(channel):
    content = xlsx_bytes([["手机号", "姓名", "留资时间"], ["13800000001", "张三", "上周末"]])

    job = _upload(content, channel)

    assert "留资时间无法识别" in _rows(job)[2].message
    lead_import_confirm(job_id=job.pk)
    assert RawLead.objects.get().payload["submitted_at"] == "上周末"


def test_a_phone_stored_as_a_number_is_read_exactly(channel):
    content = xlsx_bytes([["手机号", "姓名"], [13800138000, "张三"], [1.3800138001e10, "李四"]])

    job = _upload(content, channel)

    assert job.preview_counts["created"] == 2
    assert any("2 行手机号以数字格式保存" in note for note in job.notes)


def test_a_phone_shown_as_1_38001e10_is_invalid_and_explained(channel):
    content = openpyxl_bytes([["手机号", "姓名"], ["1.38001E+10", "张三"], ["13800000002", "李四"]])

    job = _upload(content, channel)
    rows = _rows(job)

    assert rows[2].outcome == ImportRow.Outcome.INVALID
    assert "科学计数法" in rows[2].message and "手机号不是有效的中国大陆手机号" in rows[2].message
    assert rows[3].outcome == ImportRow.Outcome.CREATED


@override_settings(LEAD_IMPORT_MAX_ROWS=3)
def test_a_file_over_the_row_limit_is_refused(channel):
    content = openpyxl_bytes([HEADER] + [[f"1380000000{i}", "张三"] for i in range(5)])

    with pytest.raises(FileRefused, match="超过单个文件 3 行的上限"):
        _upload(content, channel)


def test_a_million_rows_are_refused_before_any_row_is_processed(channel):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        base = xlsx_bytes([["手机号", "姓名"]])
        with zipfile.ZipFile(io.BytesIO(base)) as template:
            for item in template.infolist():
                if item.filename != "xl/worksheets/sheet1.xml":
                    z.writestr(item, template.read(item))
        with z.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>\xe6\x89\x8b\xe6\x9c\xba'
                b'\xe5\x8f\xb7</t></is></c><c r="B1" t="inlineStr"><is><t>\xe5\xa7\x93\xe5\x90\x8d'
                b"</t></is></c></row>"
            )
            block = "".join(
                f'<row r="{n}"><c r="A{n}"><v>13800138000</v></c></row>' for n in range(2, 10002)
            ).encode()
            for _ in range(100):
                sheet.write(block)
            sheet.write(b"</sheetData></worksheet>")

    with pytest.raises(FileRefused, match="行的上限"):
        _upload(buffer.getvalue(), channel)
    assert not ImportJob.objects.exists()


@override_settings(LEAD_IMPORT_MAX_BYTES=1000)
def test_a_file_over_the_size_limit_is_refused(channel):
    content = openpyxl_bytes([["手机号", "姓名"]] + [["13800000001", "张三"]] * 50)

    with pytest.raises(FileRefused, match="超过上限"):
        _upload(content, channel)


def test_an_empty_file_and_a_header_only_file_are_refused(channel):
    with pytest.raises(FileRefused, match="文件是空的"):
        _upload(b"", channel, name="leads.csv")
    with pytest.raises(FileRefused, match="只有表头"):
        _upload(openpyxl_bytes([["手机号", "姓名"]]), channel)


def test_a_gbk_csv_from_excel_is_read(channel):
    content = "手机号,姓名,城市\r\n13800000001,张三,北京\r\n".encode("gb18030")

    job = _upload(content, channel, name="车展.csv")

    assert _rows(job)[2].name == "张三"
    assert job.preview_counts["created"] == 1


def test_a_utf8_csv_with_bom_is_read(channel):
    content = "\ufeff手机号,姓名\n13800000001,张三\n".encode()

    job = _upload(content, channel, name="车展.csv")

    assert job.preview_counts["created"] == 1


def test_good_rows_go_in_and_bad_rows_are_listed_with_their_reason(channel):
    content = openpyxl_bytes(
        [
            ["手机号", "姓名", "渠道编码"],
            ["13800000001", "张三", None],
            ["12345", "坏号码", None],
            [None, "没电话", None],
            ["13800000004", "未知渠道", "NO_SUCH"],
            ["13800000005", "李四", None],
        ]
    )

    job = lead_import_confirm(job_id=_upload(content, channel).pk)
    rows = _rows(job, ImportRow.Phase.IMPORT)

    assert job.status == ImportJob.Status.DONE
    assert Lead.objects.count() == 2
    assert rows[3].outcome == "invalid" and "手机号不是有效的中国大陆手机号" in rows[3].message
    assert rows[4].outcome == "invalid" and "未提供手机号" in rows[4].message
    assert rows[5].outcome == "error" and "渠道编码 NO_SUCH 不存在" in rows[5].message
    assert job.counts["created"] == 2 and job.counts["invalid"] == 2 and job.counts["error"] == 1


def test_a_title_row_above_the_header_is_skipped(channel):
    content = openpyxl_bytes([["2024 北京车展留资"], ["手机号", "姓名"], ["13800000001", "张三"]])

    job = _upload(content, channel)

    assert job.preview_counts["created"] == 1
    assert any("表头在第 2 行" in note for note in job.notes)


def test_a_file_broken_further_down_is_dropped_so_a_corrected_one_can_be_uploaded(channel):
    rows = [["手机号", "姓名"]] + [[f"138{i:08d}", "张三"] for i in range(3000)]
    good = xlsx_bytes(rows)
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as source, zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b"<row><c></sheetData>")  # not XML
            target.writestr(item, data)

    with pytest.raises(FileRefused, match="文件已损坏"):
        _upload(buffer.getvalue(), channel)

    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.DISCARDED and "文件已损坏" in job.error
    assert _upload(good, channel).status == ImportJob.Status.PREVIEWED
