"""Excel import in a real browser: HQ uploads in the admin, sees the preview of every row,
confirms, downloads the result report; a dealer manager uploads on a phone-sized page."""

import pytest
from openpyxl import Workbook, load_workbook

from leads.models import ImportJob, Lead
from tests.browser.conftest import SCREENSHOTS
from tests.factories import (
    AdvisorFactory,
    ChannelFactory,
    CustomerFactory,
    DealerFactory,
    UserFactory,
    lead_at_dealer,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sheet(path, rows):
    book = Workbook()
    sheet = book.active
    sheet.title = "线索"
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


@pytest.fixture
def hq_user(db):
    return UserFactory(username="boss", is_staff=True, is_superuser=True)


def test_hq_uploads_previews_confirms_and_downloads_the_report(
    page, live_server, hq_user, screenshot, tmp_path
):
    channel = ChannelFactory(code="AUTOSHOW_BJ", name="北京车展", needs_cleansing=True)
    dealer = DealerFactory(code="D0001", name="北京瑞通汽车销售服务有限公司")
    existing = lead_at_dealer(dealer=dealer, customer=CustomerFactory(mobile="13900000009"))
    upload = _sheet(
        tmp_path / "北京车展留资.xlsx",
        [
            ["手机号", "姓名", "经销商代码", "客户同意经销商联系", "留资时间", "备注"],
            ["13800000001", "张伟", "D0001", "是", "2024/6/1 10:30", "看了星河"],
            ["138 0000 0001", "张伟", "D0001", "是", "2024/6/1 15:00", "第二次登记"],
            ["13900000009", "王芳", "D0001", "是", "2024-06-02", ""],
            ["1.38001E+10", "李娜", "D0001", "是", "", ""],
            ["", "", "", "", "", ""],
            ["13600000002", "刘洋", "", "", "45444", "-加急客户"],
            ["13600000003", "陈静", "", "", "", '=HYPERLINK("x")'],
        ],
    )
    page.goto(f"{live_server.url}/admin/login/?next=/admin/leads/importjob/")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", "pass12345")
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url("**/admin/leads/importjob/")

    page.get_by_text("上传导入").first.click()
    page.wait_for_url("**/importjob/upload/")
    page.select_option("select[name=channel]", str(channel.pk))
    page.set_input_files("input[type=file]", str(upload))
    screenshot("excel-upload")
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#import-job")

    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.PREVIEWED
    rows = page.inner_text("#job-rows")
    assert "合并到本文件第 2 行的新线索" in rows
    assert f"合并到线索 #{existing.pk}" in rows
    assert "科学计数法" in rows
    assert page.inner_text("[data-count=created]").split()[-1] == "3"
    screenshot("excel-preview")

    page.click("#confirm-import")
    page.wait_for_selector("#import-job[data-status=done]")
    screenshot("excel-imported")
    assert "已确认导入" in page.inner_text("body")
    assert Lead.objects.count() == 4

    with page.expect_download() as download:
        page.click("#download-report")
    saved = tmp_path / "report.xlsx"
    download.value.save_as(saved)
    assert "导入结果" in download.value.suggested_filename
    report = list(load_workbook(saved).active.values)
    assert report[0][-3:] == ("导入结果", "线索ID", "说明")
    assert report[1][-3] == "新建线索" and report[4][-3] == "无效"
    assert report[6][5] == "'-加急客户"  # neutralised, never read as a formula
    assert "公式没有计算结果" in report[7][-1]

    page.goto(f"{live_server.url}/admin/leads/importjob/")
    screenshot("excel-jobs")
    assert "北京车展留资.xlsx" in page.inner_text("#changelist") and "已完成" in page.content()
    page.goto(f"{live_server.url}/admin/leads/lead/")
    page.click('a[href^="/admin/leads/lead/export/"]')
    page.wait_for_url("**/lead/export/**")
    screenshot("excel-export-form")
    with page.expect_download() as exported:
        page.get_by_role("button", name="提交").click()
    assert exported.value.suggested_filename.endswith(".xlsx")


def test_a_dealer_manager_uploads_on_a_phone(browser, live_server, tmp_path):
    dealer = DealerFactory(code="D0001", name="北京瑞通汽车销售服务有限公司")
    manager = AdvisorFactory(dealer=dealer, role="manager", name="赵建国")
    upload = _sheet(
        tmp_path / "本店线索.xlsx",
        [
            ["手机号", "姓名", "预计购车时间"],
            ["13800000001", "张伟", "两周内"],
            ["123", "坏号码", ""],
        ],
    )
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    phone = context.new_page()
    try:
        phone.goto(f"{live_server.url}/dealer/login/?next=/dealer/import/")
        phone.fill("input[name=username]", manager.user.username)
        phone.fill("input[name=password]", "pass12345")
        phone.click("button[type=submit]")
        phone.wait_for_url("**/dealer/import/")
        phone.set_input_files("input[type=file]", str(upload))
        phone.click("#dealer-upload button[type=submit]")
        phone.wait_for_selector("#import-job[data-status=previewed]")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        phone.screenshot(path=str(SCREENSHOTS / "excel-dealer-preview.png"), full_page=True)
        phone.click("#confirm-import")
        phone.wait_for_selector("#import-job[data-status=done]")
        phone.screenshot(path=str(SCREENSHOTS / "excel-dealer-imported.png"), full_page=True)
    finally:
        context.close()

    lead = Lead.objects.get()
    assert lead.dealer == dealer and lead.purchase_timeframe == "2w"


def test_a_background_import_shows_a_progress_bar_that_refreshes_itself(
    page, live_server, hq_user, screenshot
):
    from django.core.files.base import ContentFile

    channel = ChannelFactory(code="AUTOSHOW_SH", name="上海车展")
    job = ImportJob(
        channel=channel,
        status=ImportJob.Status.IMPORTING,
        original_name="上海车展-12万行.xlsx",
        file_hash="f" * 64,
        file_format="xlsx",
        total_rows=120_000,
        processed_rows=45_000,
        counts={"created": 33_000, "merged": 9_500, "invalid": 2_500},
        created_by=hq_user,
    )
    job.file.save("x.xlsx", ContentFile(b"x"), save=False)
    job.save()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/leads/importjob/{job.pk}/change/")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", "pass12345")
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_selector("#job-progress")
    screenshot("excel-progress", full_page=False)

    assert "45000 / 120000 · 38%" in page.inner_text("#job-progress").replace(",", "")
    assert page.locator("meta[http-equiv=refresh]").count() == 1
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.DONE, processed_rows=120_000)
    page.wait_for_selector("#import-job[data-status=done]", timeout=10_000)  # it refreshed
    assert page.locator("#job-progress").count() == 0
