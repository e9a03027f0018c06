"""The dealer pages in a real browser, at phone and desktop width."""

import pytest

from leads.models import Lead, Status
from leads.services.assignment import assignment_policy_update
from tests.factories import AdvisorFactory, CustomerFactory, DealerFactory, lead_at_dealer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def shop(db):
    dealer = DealerFactory(name="北京东华汽车销售服务有限公司")
    manager = AdvisorFactory(dealer=dealer, role="manager", name="王经理", user__username="wang")
    advisor = AdvisorFactory(dealer=dealer, name="李娜", user__username="lina")
    return dealer, manager, advisor


def _login(page, live_server, username):
    page.goto(f"{live_server.url}/dealer/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pass12345")
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_manager_batch_assigns_three_leads(page, live_server, shop, screenshot):
    dealer, _manager, advisor = shop
    leads = [
        lead_at_dealer(
            Status.DISPATCHED,
            dealer=dealer,
            customer=CustomerFactory(name=name),
            grade=grade,
            score=score,
        )
        for name, grade, score in [("周先生", "H", 80), ("吴女士", "A", 65), ("郑先生", "B", 40)]
    ]
    _login(page, live_server, "wang")
    assert page.url.endswith("/dealer/inbox/")
    screenshot("dealer-inbox-desktop")

    for lead in leads:
        page.check(f"input[name=lead][value='{lead.pk}']")
    page.check(f"input[name=advisor][value='{advisor.pk}']")
    page.click("text=分配所选线索")
    page.wait_for_load_state()
    screenshot("dealer-inbox-after-assign", full_page=False)

    assert Lead.objects.filter(advisor=advisor, status=Status.ASSIGNED).count() == 3
    assert "没有待分配的线索" in page.inner_text("body")


def test_advisor_on_a_phone_records_a_follow_up_that_moves_to_invited(
    browser, live_server, shop, screenshot
):
    _dealer, _manager, advisor = shop
    lead = lead_at_dealer(Status.ASSIGNED, advisor=advisor, customer=CustomerFactory(name="冯女士"))
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True)
    page = context.new_page()
    try:
        _login(page, live_server, "lina")
        assert page.url.endswith("/dealer/today/")
        page.screenshot(path="var/screenshots/dealer-today-phone.png", full_page=True)
        page.click("text=冯女士")
        page.select_option("select[name=f-method]", "phone")
        page.select_option("select[name=f-result]", "invited")
        page.select_option("select[name=f-grade]", "A")
        page.fill("textarea[name=f-notes]", "约好周六上午到店试驾")
        page.screenshot(path="var/screenshots/dealer-lead-phone.png", full_page=True)
        page.click("text=保存跟进")
        page.wait_for_load_state()
        page.screenshot(path="var/screenshots/dealer-lead-after-phone.png", full_page=False)
        assert "跟进已记录" in page.inner_text("body")
    finally:
        context.close()

    lead.refresh_from_db()
    assert lead.status == Status.INVITED


def test_advisor_grabs_a_lead_from_the_pool(page, live_server, shop, screenshot):
    dealer, _manager, advisor = shop
    assignment_policy_update(dealer_id=dealer.pk, actor=None, strategy="pool")
    lead = lead_at_dealer(Status.DISPATCHED, dealer=dealer, customer=CustomerFactory(name="钱先生"))
    _login(page, live_server, "lina")

    page.goto(f"{live_server.url}/dealer/pool/")
    screenshot("dealer-pool")
    page.click('button:has-text("抢单")')
    page.wait_for_load_state()

    lead.refresh_from_db()
    assert lead.advisor == advisor and lead.is_grabbed
    assert "抢单成功" in page.inner_text("body")


def test_advisor_of_another_dealer_gets_404_for_this_dealers_lead(page, live_server, shop):
    dealer, _manager, _advisor = shop
    lead = lead_at_dealer(Status.DISPATCHED, dealer=dealer)
    AdvisorFactory(dealer=DealerFactory(name="乙店"), user__username="stranger")
    _login(page, live_server, "stranger")

    response = page.goto(f"{live_server.url}/dealer/leads/{lead.pk}/")

    assert response.status == 404
