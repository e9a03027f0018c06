"""The admin in a real browser: log in, the lead list in Chinese, a lead's timeline, a button."""

import pytest
from django.contrib.auth.models import Permission

from leads import services
from leads.models import FollowUp, Status
from tests.factories import AdvisorFactory, LeadFactory, UserFactory, lead_at_dealer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def admin_user(db):
    return UserFactory(username="boss", is_staff=True, is_superuser=True)


@pytest.fixture
def followed_lead(admin_user):
    advisor = AdvisorFactory(name="李娜")
    advisor.user.user_permissions.add(Permission.objects.get(codename="follow_lead"))
    lead = lead_at_dealer(Status.DISPATCHED, dealer=advisor.dealer)
    services.lead_assign(lead_id=lead.pk, advisor_id=advisor.pk, actor=admin_user)
    services.lead_follow_up_record(
        lead_id=lead.pk,
        method=FollowUp.Method.PHONE,
        result=FollowUp.Result.INVITED,
        actor=advisor.user,
        grade="A",
        notes="客户周六到店看车",
    )
    return lead


def _login(page, live_server):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", "pass12345")
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


def test_lead_list_and_timeline_render_in_chinese(page, live_server, followed_lead, screenshot):
    LeadFactory(status=Status.CLEANSING)
    _login(page, live_server)

    page.goto(f"{live_server.url}/admin/leads/lead/")
    screenshot("lead-list")
    body = page.inner_text("body")
    assert "线索" in body and "邀约成功" in body and "待清洗" in body
    assert "一级渠道" in page.content()  # the channel-level filters (in the filter panel)

    page.goto(f"{live_server.url}/admin/leads/lead/{followed_lead.pk}/change/")
    page.locator("#lead-timeline").scroll_into_view_if_needed()
    screenshot("lead-timeline")
    timeline = page.inner_text("#lead-timeline")
    assert "时间线" in timeline
    assert "分配顾问" in timeline and "客户周六到店看车" in timeline


def test_transition_button_in_browser_moves_the_lead(page, live_server, admin_user, screenshot):
    lead = LeadFactory(status=Status.NEW)
    _login(page, live_server)

    page.goto(f"{live_server.url}/admin/leads/lead/{lead.pk}/change/")
    page.click("button[value=send_to_cleansing]")
    page.wait_for_load_state()
    screenshot("after-transition", full_page=False)

    lead.refresh_from_db()
    assert lead.status == Status.CLEANSING
    assert "已完成" in page.inner_text("body")
