"""Upload → preview of every row → confirm → import; the same file twice; big files in the
background, resumable; dealer uploads; the result report."""

import io

import pytest
from django.test import override_settings
from openpyxl import load_workbook

from config.errors import ConflictError
from leads.imports import engine as engine_module
from leads.imports.report import import_report_download, import_report_write
from leads.imports.services import (
    ImportRefused,
    dealer_upload_channel,
    lead_import_confirm,
    lead_import_discard,
    lead_import_retry,
    lead_import_run,
    lead_import_upload,
)
from leads.models import ExportLog, ImportJob, ImportRow, Lead, RawLead, Status
from tests.factories import (
    AdvisorFactory,
    CustomerFactory,
    DealerFactory,
    UserFactory,
    lead_at_dealer,
)
from tests.leads.imports.conftest import openpyxl_bytes, uploaded

pytestmark = pytest.mark.django_db

HEADER = ["手机号", "姓名", "经销商代码", "客户同意经销商联系"]


def _upload(content, channel, name="车展线索.xlsx", **kwargs):
    return lead_import_upload(fileobj=uploaded(content, name), name=name, channel=channel, **kwargs)


def _rows(job, phase):
    return {r.row_number: r for r in ImportRow.objects.filter(job=job, phase=phase)}


@pytest.fixture
def existing_lead(dealer_a):
    return lead_at_dealer(
        Status.DISPATCHED, dealer=dealer_a, customer=CustomerFactory(mobile="13900000009")
    )


@pytest.fixture
def mixed_file():
    return openpyxl_bytes(
        [
            HEADER,
            ["13800000001", "张三", "DA01", "是"],
            ["138 0000 0001", "张三", "DA01", "是"],
            ["13900000009", "老客户", "DA01", "是"],
            ["12345", "坏号码", "DA01", "是"],
        ]
    )


def test_preview_shows_each_rows_outcome_and_imports_nothing(channel, existing_lead, mixed_file):
    job = _upload(mixed_file, channel)
    rows = _rows(job, ImportRow.Phase.PREVIEW)

    assert job.status == ImportJob.Status.PREVIEWED
    assert rows[2].outcome == "created" and rows[2].message.startswith("新建线索")
    assert rows[3].outcome == "merged" and "合并到本文件第 2 行的新线索" in rows[3].message
    assert rows[4].outcome == "merged" and f"合并到线索 #{existing_lead.pk}" in rows[4].message
    assert rows[5].outcome == "invalid" and "手机号不是有效的中国大陆手机号" in rows[5].message
    assert RawLead.objects.count() == 0 and Lead.objects.count() == 1


def test_confirm_commits_what_the_preview_showed(channel, existing_lead, mixed_file, uploader):
    job = _upload(mixed_file, channel, user=uploader)

    job = lead_import_confirm(job_id=job.pk, user=uploader)
    rows = _rows(job, ImportRow.Phase.IMPORT)

    assert job.status == ImportJob.Status.DONE and job.confirmed_by == uploader
    new_lead = Lead.objects.exclude(pk=existing_lead.pk).get()
    assert rows[2].lead_id == new_lead.pk and rows[3].lead_id == new_lead.pk
    assert rows[4].lead_id == existing_lead.pk
    assert job.counts["created"] == 1 and job.counts["merged"] == 2 and job.counts["invalid"] == 1
    assert RawLead.objects.filter(source=RawLead.Source.EXCEL, submitted_by=uploader).count() == 4


def test_the_same_file_twice_is_refused_pointing_at_the_earlier_import(channel, mixed_file):
    first = _upload(mixed_file, channel)

    with pytest.raises(ConflictError) as refused:
        _upload(mixed_file, channel, name="再传一次.xlsx")

    assert f"导入 #{first.pk}" in str(refused.value) and "不会重复导入" in str(refused.value)


def test_a_discarded_preview_does_not_block_uploading_the_file_again(channel, mixed_file):
    first = _upload(mixed_file, channel)
    lead_import_discard(job_id=first.pk)

    second = _upload(mixed_file, channel)

    assert second.status == ImportJob.Status.PREVIEWED


def test_the_same_rows_in_a_resaved_file_count_nothing_twice(channel, existing_lead, mixed_file):
    lead_import_confirm(job_id=_upload(mixed_file, channel).pk)
    leads, raws = Lead.objects.count(), RawLead.objects.count()
    resaved = openpyxl_bytes(
        [HEADER, ["13800000001", "张三", "DA01", "是"], ["138 0000 0001", "张三", "DA01", "是"]]
        + [["13900000009", "老客户", "DA01", "是"], ["12345", "坏号码", "DA01", "是"]]
        + [["13800000077", "新来的", "DA01", "是"]]
    )

    job = _upload(resaved, channel, name="另存的.xlsx")
    assert job.preview_counts["replayed"] == 4 and job.preview_counts["created"] == 1
    job = lead_import_confirm(job_id=job.pk)

    assert job.counts["replayed"] == 4 and job.counts["created"] == 1
    assert Lead.objects.count() == leads + 1 and RawLead.objects.count() == raws + 1
    assert Lead.objects.get(customer__mobile="13800000001").duplicate_count == 1


def test_rows_with_their_own_lead_number_are_recognised_by_it(channel):
    content = openpyxl_bytes([["线索编号", "手机号", "姓名"], ["A-1", "13800000001", "张三"]])
    lead_import_confirm(job_id=_upload(content, channel).pk)
    changed = openpyxl_bytes([["线索编号", "手机号", "姓名"], ["A-1", "13800000001", "张三丰"]])

    job = lead_import_confirm(job_id=_upload(changed, channel).pk)

    row = _rows(job, ImportRow.Phase.IMPORT)[2]
    assert row.outcome == "error" and "渠道线索ID A-1 已提交过且内容不同" in row.message
    assert RawLead.objects.count() == 1


def test_the_template_example_row_is_not_imported(channel):
    content = openpyxl_bytes(
        [["手机号", "姓名", "备注"], ["13800138000", "张先生", "示例行（导入时自动跳过）"]]
        + [["13800000001", "张三", ""]]
    )

    job = lead_import_confirm(job_id=_upload(content, channel).pk)

    assert job.counts["created"] == 1
    assert not RawLead.objects.filter(mobile="13800138000").exists()


@override_settings(LEAD_IMPORT_BACKGROUND_ROWS=2)
def test_a_big_file_is_previewed_and_imported_by_the_task_queue(
    channel, mixed_file, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = _upload(mixed_file, channel)
    assert len(callbacks) == 1  # the preview task, run inline (sync) by the test settings
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PREVIEWED

    with django_capture_on_commit_callbacks(execute=True):
        job = lead_import_confirm(job_id=job.pk)
    job.refresh_from_db()

    assert job.status == ImportJob.Status.DONE and job.processed_rows == job.total_rows == 4
    assert Lead.objects.count() == 2 and job.counts["created"] == 2


def test_an_import_that_stops_resumes_where_it_stopped(channel, monkeypatch):
    monkeypatch.setattr(engine_module, "CHUNK_ROWS", 2)
    monkeypatch.setattr("leads.imports.pipeline.CHUNK_ROWS", 2)
    content = openpyxl_bytes(
        [["手机号", "姓名"]] + [[f"1380000000{i}", f"客户{i}"] for i in range(6)]
    )
    job = _upload(content, channel)
    original = engine_module.Engine.run
    calls = {"n": 0}

    def crash_on_second_chunk(self, rows, *, inside=None):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker killed")
        return original(self, rows, inside=inside)

    monkeypatch.setattr(engine_module.Engine, "run", crash_on_second_chunk)
    with pytest.raises(RuntimeError):
        lead_import_confirm(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and job.processed_rows == 2
    assert "可以重试" in job.error

    job = lead_import_retry(job_id=job.pk)

    assert job.status == ImportJob.Status.DONE and job.counts["created"] == 6
    assert Lead.objects.count() == 6 and RawLead.objects.count() == 6
    assert ImportRow.objects.filter(job=job, phase=ImportRow.Phase.IMPORT).count() == 6


def test_running_a_finished_import_again_changes_nothing(channel, mixed_file):
    job = lead_import_confirm(job_id=_upload(mixed_file, channel).pk)
    raws = RawLead.objects.count()

    again = lead_import_run(job_id=job.pk)

    assert again.status == ImportJob.Status.DONE and RawLead.objects.count() == raws


def test_a_dealer_upload_puts_every_row_at_that_dealer(dealer_a):
    other = DealerFactory(code="DB02")
    manager = AdvisorFactory(dealer=dealer_a, role="manager")
    content = openpyxl_bytes(
        [
            ["手机号", "姓名", "经销商代码"],
            ["13800000001", "张三", "DB02"],
            ["13800000002", "李四", ""],
        ]
    )

    job = lead_import_upload(
        fileobj=uploaded(content), name="本店.xlsx", dealer=dealer_a, user=manager.user
    )
    job = lead_import_confirm(job_id=job.pk, user=manager.user)

    assert job.kind == ImportJob.Kind.DEALER and job.channel.code == "DEALER_UPLOAD"
    assert job.channel == dealer_upload_channel()
    assert set(Lead.objects.values_list("dealer_id", flat=True)) == {dealer_a.pk}
    assert not Lead.objects.filter(dealer=other).exists()
    assert set(Lead.objects.values_list("status", flat=True)) <= {
        Status.QUALIFIED,
        Status.DISPATCHED,
    }
    assert any("经销商代码" in note and "被忽略" in note for note in job.notes)


def test_a_suspended_dealer_cannot_upload():
    dealer = DealerFactory(status="suspended")

    with pytest.raises(ImportRefused, match="不能导入线索"):
        lead_import_upload(
            fileobj=uploaded(openpyxl_bytes([["手机号", "姓名"], ["13800000001", "张三"]])),
            name="x.xlsx",
            dealer=dealer,
        )


def test_the_report_is_the_sheet_plus_each_rows_outcome(channel, existing_lead, mixed_file):
    job = lead_import_confirm(job_id=_upload(mixed_file, channel).pk)
    out = io.BytesIO()

    written = import_report_write(job, out, mask=False)

    sheet = load_workbook(out).active
    rows = list(sheet.iter_rows(values_only=True))
    assert written == 4
    assert rows[0] == (*HEADER, "导入结果", "线索ID", "说明")
    assert rows[1][:2] == ("13800000001", "张三") and rows[1][4] == "新建线索"
    assert rows[3][4] == "合并到已有线索" and rows[3][5] == existing_lead.pk
    assert rows[4][4] == "无效" and "手机号不是有效" in rows[4][6]


def test_the_report_masks_mobiles_unless_the_user_may_see_them_and_is_logged(channel, mixed_file):
    job = lead_import_confirm(job_id=_upload(mixed_file, channel).pk)
    agent = UserFactory(username="agent", is_staff=True)
    out = io.BytesIO()

    import_report_download(job, out, user=agent)

    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert rows[1][0] == "138****0001"
    assert rows[4][0] == "12345"  # not a usable number: shown as given, to be corrected
    log = ExportLog.objects.get()
    assert log.user == agent and log.row_count == 4 and log.mobiles_masked
    assert f"导入 #{job.pk}" in log.filters
