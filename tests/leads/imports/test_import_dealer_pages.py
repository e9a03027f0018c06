"""The dealer's upload page: managers and DCC only, rows forced to their own dealer."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from leads.models import ImportJob, Lead
from tests.factories import AdvisorFactory, DealerFactory, UserFactory
from tests.leads.imports.conftest import openpyxl_bytes, uploaded

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(dealer_a):
    return AdvisorFactory(dealer=dealer_a, role="manager", name="赵经理")


def _upload(client, content, name="本店线索.xlsx"):
    return client.post(reverse("dealer:import"), {"file": uploaded(content, name)})


def test_a_manager_uploads_previews_and_confirms_for_the_own_dealer(client, manager, dealer_a):
    DealerFactory(code="DB02")
    client.force_login(manager.user)
    content = openpyxl_bytes(
        [
            ["手机号", "姓名", "经销商代码"],
            ["13800000001", "张三", "DB02"],
            ["13800000002", "李四", ""],
        ]
    )

    response = _upload(client, content)
    job = ImportJob.objects.get()
    page = client.get(response.url).content.decode()
    client.post(reverse("dealer:import_confirm", args=[job.pk]))
    job.refresh_from_db()

    assert response.status_code == 302 and "预计结果" in page and "新建线索 2" in page
    assert job.status == ImportJob.Status.DONE and job.dealer == dealer_a
    assert set(Lead.objects.values_list("dealer__code", flat=True)) == {"DA01"}
    report = client.get(reverse("dealer:import_report", args=[job.pk]))
    assert report.status_code == 200


def test_a_bad_file_shows_the_reason_on_the_page(client, manager):
    client.force_login(manager.user)

    response = _upload(client, b"hello", "x.xlsx")

    assert response.status_code == 200
    assert "请上传 Excel（.xlsx）或 CSV 文件" in response.content.decode()


def test_the_dealer_template_has_no_channel_or_dealer_column(client, manager):
    client.force_login(manager.user)

    response = client.get(reverse("dealer:import_template"))

    header = [c.value for c in load_workbook(io.BytesIO(response.content))["线索"][1]]
    assert "手机号*" in header and "渠道编码" not in header and "经销商代码" not in header
    assert "%E7%BB%8F%E9%94%80%E5%95%86" in response["Content-Disposition"]  # 经销商…模板


def test_an_advisor_or_hq_user_does_not_see_the_page(client, dealer_a):
    advisor = AdvisorFactory(dealer=dealer_a, role="advisor")
    hq = UserFactory(username="hq", is_staff=True, is_superuser=True)

    client.force_login(advisor.user)
    as_advisor = client.get(reverse("dealer:import"))
    client.force_login(hq)
    as_hq = client.get(reverse("dealer:import"))

    assert as_advisor.status_code == 404 and as_hq.status_code == 404


def test_a_visitor_is_sent_to_the_dealer_login(client):
    response = client.get(reverse("dealer:import"))

    assert response.status_code == 302 and reverse("dealer:login") in response.url


def test_another_dealers_import_is_not_found(client, manager):
    other = AdvisorFactory(dealer=DealerFactory(code="DZ99"), role="dcc")
    client.force_login(other.user)
    _upload(client, openpyxl_bytes([["手机号", "姓名"], ["13800000001", "张三"]]))
    job = ImportJob.objects.get()

    client.force_login(manager.user)

    assert client.get(reverse("dealer:import_job", args=[job.pk])).status_code == 404
    assert client.post(reverse("dealer:import_confirm", args=[job.pk])).status_code == 404
