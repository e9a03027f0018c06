"""The dealer pages: scoping, the manager's and the advisor's flows, no N+1."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leads.models import FollowUp, Grade, Lead, Status
from leads.services.assignment import assignment_policy_update
from tests.factories import AdvisorFactory, DealerFactory, lead_at_dealer

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    dealer = DealerFactory(name="甲店")
    manager = AdvisorFactory(dealer=dealer, role="manager", name="王经理")
    advisor = AdvisorFactory(dealer=dealer, name="李顾问")
    return dealer, manager, advisor


@pytest.fixture
def other_shop():
    dealer = DealerFactory(name="乙店")
    return dealer, AdvisorFactory(dealer=dealer, role="manager"), AdvisorFactory(dealer=dealer)


LIST_PAGES = [
    "dealer:inbox",
    "dealer:leads",
    "dealer:defeats",
    "dealer:team",
    "dealer:settings",
    "dealer:today",
    "dealer:pool",
]


def test_every_page_of_another_dealer_answers_404_or_hides_its_leads(client, shop, other_shop):
    dealer, manager, advisor = shop
    leads = [
        lead_at_dealer(Status.DISPATCHED, dealer=dealer),
        lead_at_dealer(Status.FOLLOWING, advisor=advisor),
        lead_at_dealer(Status.DEFEAT_REQUESTED, advisor=advisor, defeat_reason="价格"),
        lead_at_dealer(Status.RELEASED, dealer=dealer),
    ]
    for intruder in other_shop[1:]:
        client.force_login(intruder.user)
        for lead in leads:
            assert client.get(reverse("dealer:lead", args=[lead.pk])).status_code == 404
            assert (
                client.post(reverse("dealer:lead", args=[lead.pk]), {"do": "recall"}).status_code
                == 404
            )
        for name in LIST_PAGES:
            response = client.get(reverse(name))
            assert response.status_code in (200, 404)
            for lead in leads:
                assert f"#{lead.pk} " not in response.content.decode()


def test_advisor_cannot_open_manager_pages_or_a_colleagues_lead(client, shop):
    dealer, manager, advisor = shop
    colleague = AdvisorFactory(dealer=dealer)
    theirs = lead_at_dealer(Status.FOLLOWING, advisor=colleague)
    client.force_login(advisor.user)

    assert client.get(reverse("dealer:inbox")).status_code == 404
    assert client.get(reverse("dealer:lead", args=[theirs.pk])).status_code == 404


def test_hq_user_without_a_dealer_gets_404_and_anonymous_goes_to_login(client, hq_admin):
    assert client.get(reverse("dealer:inbox")).status_code == 302
    client.force_login(hq_admin)
    assert client.get(reverse("dealer:inbox")).status_code == 404


def test_login_page_logs_a_manager_in_to_the_inbox(client, shop):
    _dealer, manager, _advisor = shop

    response = client.post(
        reverse("dealer:login"), {"username": manager.user.username, "password": "pass12345"}
    )

    assert response.status_code == 302
    assert client.get(response["Location"], follow=True).redirect_chain[-1][0] == reverse(
        "dealer:inbox"
    )


def test_manager_batch_assigns_from_the_inbox_and_each_lead_is_reported(client, shop):
    dealer, manager, advisor = shop
    leads = [lead_at_dealer(Status.DISPATCHED, dealer=dealer) for _ in range(3)]
    client.force_login(manager.user)

    response = client.post(
        reverse("dealer:inbox"),
        {"lead": [lead.pk for lead in leads], "advisor": advisor.pk},
        follow=True,
    )

    assert Lead.objects.filter(advisor=advisor, status=Status.ASSIGNED).count() == 3
    assert response.content.decode().count("已分配") >= 3


def test_inbox_shows_advisor_facts_beside_the_choice(client, shop):
    dealer, manager, advisor = shop
    lead_at_dealer(Status.FOLLOWING, advisor=advisor)
    client.force_login(manager.user)

    page = client.get(reverse("dealer:inbox")).content.decode()

    assert "李顾问" in page and "在跟 1" in page and "90天转化" in page


def test_inbox_query_count_does_not_grow_with_leads(client, shop):
    dealer, manager, advisor = shop
    client.force_login(manager.user)
    lead_at_dealer(Status.DISPATCHED, dealer=dealer)
    client.get(reverse("dealer:inbox"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("dealer:inbox"))
    for _ in range(10):
        lead_at_dealer(Status.DISPATCHED, dealer=dealer)

    with CaptureQueriesContext(connection) as many:
        client.get(reverse("dealer:inbox"))

    assert len(many) == len(few)


def test_advisor_records_a_follow_up_that_moves_the_lead_to_invited(client, shop):
    _dealer, _manager, advisor = shop
    lead = lead_at_dealer(Status.ASSIGNED, advisor=advisor)
    client.force_login(advisor.user)

    client.post(
        reverse("dealer:lead", args=[lead.pk]),
        {
            "do": "follow_up",
            "f-method": "phone",
            "f-result": "invited",
            "f-grade": "A",
            "f-notes": "周六到店",
        },
    )

    lead.refresh_from_db()
    assert lead.status == Status.INVITED and lead.grade == Grade.A
    assert FollowUp.objects.get(lead=lead).notes == "周六到店"


def test_follow_up_form_keeps_what_was_typed_on_an_error(client, shop):
    _dealer, _manager, advisor = shop
    lead = lead_at_dealer(Status.ASSIGNED, advisor=advisor)
    client.force_login(advisor.user)

    page = client.post(
        reverse("dealer:lead", args=[lead.pk]),
        {
            "do": "follow_up",
            "f-method": "phone",
            "f-result": "invited",
            "f-next_follow_up_at": "不是日期",
            "f-notes": "我写的备注",
        },
    )

    text = page.content.decode()
    assert page.status_code == 200 and "我写的备注" in text


def test_advisor_requests_defeat_with_a_listed_reason_and_manager_approves(client, shop):
    _dealer, manager, advisor = shop
    lead = lead_at_dealer(Status.FOLLOWING, advisor=advisor)
    from leads.models import DefeatReason

    client.force_login(advisor.user)
    client.post(
        reverse("dealer:lead", args=[lead.pk]),
        {
            "do": "defeat",
            "d-reason": DefeatReason.objects.get(code="competitor").pk,
            "d-note": "买了别的品牌",
        },
    )
    client.force_login(manager.user)
    client.post(reverse("dealer:defeats"), {"lead_id": lead.pk, "decision": "approve"})

    lead.refresh_from_db()
    assert lead.status == Status.DEFEATED and lead.defeat_reason.startswith("已购竞品")


def test_rejected_defeat_goes_back_to_following_with_a_note_to_the_advisor(client, shop):
    _dealer, manager, advisor = shop
    lead = lead_at_dealer(Status.DEFEAT_REQUESTED, advisor=advisor, defeat_reason="价格")
    client.force_login(manager.user)

    client.post(
        reverse("dealer:defeats"), {"lead_id": lead.pk, "decision": "reject", "note": "再争取一次"}
    )

    lead.refresh_from_db()
    assert lead.status == Status.FOLLOWING
    assert advisor.user.lead_notifications.get().message.endswith("再争取一次")


def test_advisor_grabs_from_the_pool_page(client, shop):
    dealer, _manager, advisor = shop
    assignment_policy_update(dealer_id=dealer.pk, actor=None, strategy="pool")
    lead = lead_at_dealer(Status.DISPATCHED, dealer=dealer)
    client.force_login(advisor.user)

    page = client.get(reverse("dealer:pool")).content.decode()
    response = client.post(reverse("dealer:pool"), {"lead_id": lead.pk})

    lead.refresh_from_db()
    assert "今日可抢" in page
    assert response["Location"] == reverse("dealer:lead", args=[lead.pk])
    assert lead.advisor == advisor and lead.is_grabbed


def test_pool_lead_shows_a_masked_mobile_to_advisors(client, shop):
    dealer, _manager, advisor = shop
    lead = lead_at_dealer(Status.RELEASED, dealer=dealer)
    client.force_login(advisor.user)

    page = client.get(reverse("dealer:lead", args=[lead.pk])).content.decode()

    assert lead.customer.mobile not in page and lead.customer.masked_mobile in page


def test_advisor_corrects_name_and_mobile_with_audit(client, shop):
    _dealer, _manager, advisor = shop
    lead = lead_at_dealer(Status.FOLLOWING, advisor=advisor)
    client.force_login(advisor.user)

    client.post(
        reverse("dealer:lead", args=[lead.pk]),
        {"do": "correct", "c-name": "赵先生", "c-mobile": "139 8888 7777"},
    )

    lead.refresh_from_db()
    assert (lead.customer.name, lead.customer.mobile) == ("赵先生", "13988887777")
    assert set(lead.events.values_list("action", flat=True)) >= {"customer_name", "customer_mobile"}


def test_manager_recalls_and_reassigns_selected_leads(client, shop):
    dealer, manager, advisor = shop
    other = AdvisorFactory(dealer=dealer)
    a = lead_at_dealer(Status.FOLLOWING, advisor=advisor)
    b = lead_at_dealer(Status.FOLLOWING, advisor=advisor)
    client.force_login(manager.user)

    client.post(reverse("dealer:leads"), {"lead": [a.pk], "do": "recall", "reason": "休假"})
    client.post(
        reverse("dealer:leads"),
        {"lead": [b.pk], "do": "reassign", "advisor": other.pk, "reason": "休假"},
    )

    a.refresh_from_db()
    b.refresh_from_db()
    assert a.status == Status.RECALLED and b.advisor == other


def test_manager_chooses_the_strategy(client, shop):
    dealer, manager, _advisor = shop
    client.force_login(manager.user)

    client.post(
        reverse("dealer:settings"),
        {
            "strategy": "round_robin",
            "pool_daily_cap": 8,
            "grab_follow_up_hours": 4,
            "grab_penalty": 2,
            "tier_minutes": 30,
        },
    )

    assert dealer.assignment_policy.strategy == "round_robin"


def test_team_page_shows_timeliness(client, shop):
    _dealer, manager, advisor = shop
    from django.utils import timezone

    now = timezone.now()
    lead_at_dealer(
        Status.FOLLOWING,
        advisor=advisor,
        assigned_at=now,
        first_followed_at=now + timezone.timedelta(hours=2),
    )
    client.force_login(manager.user)

    page = client.get(reverse("dealer:team")).content.decode()

    assert "24小时跟进率" in page and "100%" in page
