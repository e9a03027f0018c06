"""Personal data in a real browser: the masked lead list, an advisor revealing a number on a
phone (with a reason), and the auditor's reveal log and daily summary."""

import datetime

import pytest
from django.utils import timezone

from leads.models import MobileReveal, Status
from leads.services.roles import ROLE_HQ_AUDITOR, roles_ensure
from tests.factories import AdvisorFactory, CustomerFactory, UserFactory, lead_at_dealer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
MOBILE = "13987654321"


@pytest.fixture
def owned(db):
    advisor = AdvisorFactory(name="李娜", user__username="lina")
    return lead_at_dealer(
        Status.FOLLOWING, advisor=advisor, customer=CustomerFactory(name="冯女士", mobile=MOBILE)
    )


def _admin_login(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pass12345")
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


def test_lead_list_shows_numbers_masked(page, live_server, owned, screenshot):
    UserFactory(username="boss", is_staff=True, is_superuser=True)
    _admin_login(page, live_server, "boss")

    page.goto(f"{live_server.url}/admin/leads/lead/")
    screenshot("privacy-masked-lead-list")

    body = page.inner_text("body")
    assert "139****4321" in body and MOBILE not in body


def test_advisor_on_a_phone_reveals_a_number_with_a_reason(browser, live_server, owned, screenshot):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/dealer/login/")
    page.fill("input[name=username]", "lina")
    page.fill("input[name=password]", "pass12345")
    page.click("button[type=submit]")
    page.wait_for_load_state()

    page.goto(f"{live_server.url}/dealer/leads/{owned.pk}/")
    assert MOBILE not in page.inner_text("body")
    page.click("#mobile-reveal button[type=submit]")  # one click: "call" is preselected
    page.wait_for_load_state()
    page.screenshot(path="var/screenshots/privacy-dealer-reveal-phone.png", full_page=False)
    context.close()

    reveal = MobileReveal.objects.get()
    assert reveal.user.username == "lina" and reveal.reason == "call"


def test_auditor_reads_the_reveal_log_and_the_flagged_day(page, live_server, owned, screenshot):
    now = timezone.localtime().replace(hour=10, minute=0)
    MobileReveal.objects.bulk_create(
        MobileReveal(
            user=owned.advisor.user,
            lead=owned,
            customer=owned.customer,
            reason="call",
            source="dealer",
            ip="10.1.2.3",
            created_at=now - datetime.timedelta(minutes=i),
        )
        for i in range(45)
    )
    auditor = UserFactory(username="audit", is_staff=True)
    auditor.groups.add(roles_ensure()[ROLE_HQ_AUDITOR])
    _admin_login(page, live_server, "audit")

    page.goto(
        f"{live_server.url}/admin/leads/mobilereveal/?user__id__exact={owned.advisor.user.pk}"
    )
    screenshot("privacy-reveal-log", full_page=False)
    assert "外呼/回访客户" in page.inner_text("body")

    page.goto(f"{live_server.url}/admin/leads/mobilereveal/daily/")
    screenshot("privacy-reveal-daily")
    assert "异常：远多于平时" in page.inner_text("body")


def test_agent_reveals_a_number_in_the_workbench(page, live_server, screenshot):
    from leads.services.roles import ROLE_HQ_AGENT
    from tests.factories import LeadFactory

    lead = LeadFactory(
        status=Status.CLEANSING, customer=CustomerFactory(name="蒋先生", mobile=MOBILE)
    )
    agent = UserFactory(username="chen", is_staff=True)
    agent.groups.add(roles_ensure()[ROLE_HQ_AGENT])
    _admin_login(page, live_server, "chen")

    page.goto(f"{live_server.url}/admin/leads/cleansingqueuelead/{lead.pk}/work/")
    assert MOBILE not in page.inner_text("body")
    screenshot("privacy-workbench-masked", full_page=False)
    page.click("#mobile-reveal button[type=submit]")
    page.wait_for_load_state()
    screenshot("privacy-workbench-revealed", full_page=False)

    assert MOBILE in page.inner_text("#mobile-reveal")
    assert MobileReveal.objects.get().source == MobileReveal.Source.WORKBENCH
