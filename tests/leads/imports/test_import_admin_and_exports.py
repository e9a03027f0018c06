"""The admin pages of imports, and the safe exports of every admin table."""

import io

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from openpyxl import load_workbook

from channels.models import ChannelToken
from leads.models import ExportLog, ImportJob, Lead, Status
from leads.services.roles import ROLE_HQ_ADMIN, ROLE_HQ_AGENT, ROLE_HQ_OPS, roles_ensure
from tests.factories import CustomerFactory, LeadFactory, UserFactory
from tests.leads.imports.conftest import openpyxl_bytes, uploaded

pytestmark = pytest.mark.django_db


def _export(client, url_name, query=""):
    url = reverse(url_name) + query
    response = client.post(url, {"format": "0", "resource": "0"})
    assert response.status_code == 200, response.content[:500]
    return load_workbook(io.BytesIO(response.content)).active


@pytest.fixture
def admin_client_logged(client, uploader):
    client.force_login(uploader)
    return client


def test_upload_page_and_template_download(admin_client_logged):
    page = admin_client_logged.get(reverse("admin:leads_importjob_upload"))
    template = admin_client_logged.get(reverse("admin:leads_importjob_download_template"))

    assert page.status_code == 200 and "上传线索文件" in page.content.decode()
    assert template.status_code == 200
    book = load_workbook(io.BytesIO(template.content))
    assert book.sheetnames == ["线索", "填写说明", "选项"]


def test_upload_in_the_admin_previews_then_confirm_imports_then_report(
    admin_client_logged, channel
):
    content = openpyxl_bytes([["手机号", "姓名"], ["13800000001", "张三"], ["123", "坏号码"]])

    response = admin_client_logged.post(
        reverse("admin:leads_importjob_upload"),
        {"channel": channel.pk, "file": uploaded(content, "车展.xlsx")},
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "admin:leads_importjob_change", args=[job.pk]
    )
    page = admin_client_logged.get(response.url).content.decode()
    assert "预计新建线索" in page and "手机号不是有效的中国大陆手机号" in page
    assert "确认导入" in page

    admin_client_logged.post(reverse("admin:leads_importjob_confirm", args=[job.pk]))
    job.refresh_from_db()
    report = admin_client_logged.get(reverse("admin:leads_importjob_report", args=[job.pk]))

    assert job.status == ImportJob.Status.DONE and Lead.objects.count() == 1
    assert report.status_code == 200
    assert "%E5%AF%BC%E5%85%A5%E7%BB%93%E6%9E%9C" in report["Content-Disposition"]  # 导入结果
    rows = list(load_workbook(io.BytesIO(b"".join(report.streaming_content))).active.values)
    assert rows[1][2] == "新建线索"


def test_a_bad_file_in_the_admin_shows_the_reason_on_the_form(admin_client_logged, channel):
    response = admin_client_logged.post(
        reverse("admin:leads_importjob_upload"),
        {"channel": channel.pk, "file": uploaded(b"not excel", "x.xlsx")},
    )

    assert response.status_code == 200
    assert "请上传 Excel（.xlsx）或 CSV 文件" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_an_agent_may_not_upload(client, channel):
    roles = roles_ensure()
    agent = UserFactory(username="agent", is_staff=True)
    agent.groups.add(roles[ROLE_HQ_AGENT])
    client.force_login(agent)

    response = client.get(reverse("admin:leads_importjob_upload"))

    assert response.status_code == 403


# --- exports ---------------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_export_neutralises_every_cell_that_could_start_a_formula(admin_client_logged, start):
    CustomerFactory(name=f'{start}HYPERLINK("http://evil")', mobile="13800000001")

    sheet = _export(admin_client_logged, "admin:leads_customer_export")

    header, *rows = list(sheet.iter_rows(values_only=True))
    names = [row[header.index("姓名")] for row in rows]
    # (XML reads a carriage return back as a line feed; the apostrophe is what matters)
    assert [n.replace("\n", "\r") if start == "\r" else n for n in names] == [
        f'\'{start}HYPERLINK("http://evil")'
    ]


def test_export_has_chinese_headers_and_choice_labels(admin_client_logged):
    LeadFactory(status=Status.CLEANSING, customer=CustomerFactory(name="张三"))

    sheet = _export(admin_client_logged, "admin:leads_lead_export")
    header, first = list(sheet.iter_rows(max_row=2, values_only=True))

    assert header[:6] == ("线索ID", "客户姓名", "手机号", "省份", "城市", "状态")
    assert first[1] == "张三" and first[5] == "待清洗"


def test_export_masks_mobiles_unless_the_user_may_see_them(client):
    roles = roles_ensure()
    agent = UserFactory(username="ops", is_staff=True)
    agent.groups.add(roles[ROLE_HQ_OPS])
    LeadFactory(customer=CustomerFactory(mobile="13812345678"))
    client.force_login(agent)

    masked = _export(client, "admin:leads_lead_export")
    agent.user_permissions.add(Permission.objects.get(codename="view_full_mobile"))
    agent = type(agent).objects.get(pk=agent.pk)
    client.force_login(agent)
    full = _export(client, "admin:leads_lead_export")

    assert masked.cell(row=2, column=3).value == "138****5678"
    assert full.cell(row=2, column=3).value == "13812345678"
    assert list(ExportLog.objects.order_by("id").values_list("mobiles_masked", flat=True)) == [
        True,
        False,
    ]


def test_each_export_writes_an_audit_row_with_who_filter_and_count(admin_client_logged, uploader):
    LeadFactory(status=Status.CLEANSING)
    LeadFactory(status=Status.CLEANSING)
    LeadFactory(status=Status.NEW)

    _export(admin_client_logged, "admin:leads_lead_export", "?status__exact=cleansing")

    log = ExportLog.objects.get()
    assert log.user == uploader and log.username == "importer"
    assert log.model == "leads.lead" and log.row_count == 2
    assert log.filters == "status__exact=cleansing" and log.personal_data


def test_the_export_log_is_visible_to_hq_admins_only(client):
    roles = roles_ensure()
    hq_admin, agent = (
        UserFactory(username="boss", is_staff=True),
        UserFactory(username="agent", is_staff=True),
    )
    hq_admin.groups.add(roles[ROLE_HQ_ADMIN])
    agent.groups.add(roles[ROLE_HQ_OPS])

    client.force_login(hq_admin)
    as_admin = client.get(reverse("admin:leads_exportlog_changelist"))
    client.force_login(agent)
    as_agent = client.get(reverse("admin:leads_exportlog_changelist"))

    assert as_admin.status_code == 200 and as_agent.status_code == 403


def test_secrets_are_never_exported(admin_client_logged):
    from tests.factories import ChannelFactory

    ChannelToken.objects.create(channel=ChannelFactory(), key_hash="x" * 64, prefix="abcd")

    sheet = _export(admin_client_logged, "admin:channels_channeltoken_export")

    header = next(sheet.iter_rows(max_row=1, values_only=True))
    assert "令牌摘要" not in header and "x" * 64 not in str(list(sheet.values))


def test_every_admin_table_with_the_mixin_exports(admin_client_logged):
    LeadFactory()
    for name in (
        "admin:leads_rawlead_export",
        "admin:leads_leadevent_export",
        "admin:dealers_dealer_export",
        "admin:channels_channel_export",
        "admin:leads_exportlog_export",
    ):
        response = admin_client_logged.post(reverse(name), {"format": "0", "resource": "0"})
        assert response.status_code == 200, name


def test_changelists_keep_their_own_buttons_and_get_the_export_button(admin_client_logged):
    raw_leads = admin_client_logged.get(reverse("admin:leads_rawlead_changelist")).content.decode()
    leads = admin_client_logged.get(reverse("admin:leads_lead_changelist")).content.decode()

    assert reverse("admin:leads_rawlead_enter_lead") in raw_leads
    assert reverse("admin:leads_rawlead_export") in raw_leads
    assert reverse("admin:leads_lead_export") in leads
