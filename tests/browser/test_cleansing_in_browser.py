"""An HQ agent in a real browser: next lead, a qualified outcome with consent, queue empties."""

import pytest
from django.contrib.auth.models import Permission

from leads.models import Lead, Status
from tests.factories import CustomerFactory, DealerFactory, LeadFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def agent(db):
    user = UserFactory(username="agent", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["cleanse_lead", "view_lead", "change_lead"])
    )
    return user


def test_agent_claims_next_lead_records_qualified_outcome_and_it_leaves_the_queue(
    page, live_server, agent, screenshot
):
    customer = CustomerFactory(name="吴女士", city="杭州")
    lead = LeadFactory(status=Status.CLEANSING, customer=customer)
    dealer = DealerFactory(name="杭州西湖汽车销售服务有限公司", city="杭州", province="浙江")
    page.goto(f"{live_server.url}/admin/login/?next=/admin/leads/cleansingqueuelead/")
    page.fill("input[name=username]", "agent")
    page.fill("input[name=password]", "pass12345")
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url("**/cleansingqueuelead/")
    screenshot("cleansing-queue")

    page.get_by_text("领取下一条").first.click()
    page.wait_for_url(f"**/cleansingqueuelead/{lead.pk}/work/")
    assert "吴女士" in page.inner_text("#customer-card")
    page.check("input[name=reached][value=yes]", force=True)
    page.select_option("select[name=intent]", "high", force=True)
    page.select_option("select[name=grade]", "H", force=True)
    page.select_option("select[name=dealer]", str(dealer.pk), force=True)
    page.check("input[name=consent]", force=True)
    screenshot("cleansing-workbench")
    page.click("button[name=_save]")
    page.wait_for_url("**/cleansingqueuelead/")
    screenshot("cleansing-after-save", full_page=False)

    lead.refresh_from_db()
    assert lead.status == Status.QUALIFIED and lead.consent_dealer == dealer
    assert "线索合格" in page.inner_text("body")
    assert not Lead.objects.filter(status=Status.CLEANSING).exists()
