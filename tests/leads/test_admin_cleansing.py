"""The cleansing desk pages in the admin: each calls its service."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from leads.models import CallRecord, Lead, NurtureTouch, Status, SupervisionSample
from tests.factories import DealerFactory, LeadFactory, UserFactory, lead_at_dealer

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(db):
    user = UserFactory(username="agent", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["cleanse_lead", "view_lead", "change_lead"])
    )
    return user


def test_next_lead_button_claims_the_oldest_and_opens_its_workbench(client, agent):
    lead = LeadFactory(status=Status.CLEANSING)
    client.force_login(agent)

    response = client.get(reverse("admin:leads_cleansingqueuelead_claim_next"))

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:leads_cleansingqueuelead_work", args=[lead.pk])
    lead.refresh_from_db()
    assert lead.claimed_by == agent


def test_workbench_shows_customer_history_and_the_call_form(client, agent):
    lead = LeadFactory(status=Status.CLEANSING)
    lead_at_dealer(Status.FOLLOWING, customer=lead.customer)
    client.force_login(agent)

    page = client.get(reverse("admin:leads_cleansingqueuelead_work", args=[lead.pk]))

    text = page.content.decode()
    assert page.status_code == 200
    assert 'id="call-outcome"' in text and 'id="other-leads"' in text
    assert lead.customer.masked_mobile in text and "再次待跟进" in text
    assert lead.customer.mobile not in text  # in full only after a logged reveal


def test_workbench_post_records_a_qualified_outcome_and_claims_the_next(client, agent):
    lead = LeadFactory(status=Status.CLEANSING)
    following = LeadFactory(status=Status.CLEANSING)
    dealer = DealerFactory(city=lead.customer.city)
    client.force_login(agent)
    url = reverse("admin:leads_cleansingqueuelead_work", args=[lead.pk])
    client.get(url)

    response = client.post(
        url,
        {
            "reached": "yes",
            "intent": "high",
            "grade": "H",
            "dealer": dealer.pk,
            "consent": "on",
            "_next": "1",
            "name": lead.customer.name,
            "city": lead.customer.city,
        },
    )

    lead.refresh_from_db()
    assert lead.status == Status.QUALIFIED and lead.consent_by == agent
    assert CallRecord.objects.get(lead=lead).outcome == "qualified"
    assert response["Location"] == reverse(
        "admin:leads_cleansingqueuelead_work", args=[following.pk]
    )


def test_workbench_shows_the_services_refusal_and_keeps_the_lead(client, agent):
    lead = LeadFactory(status=Status.CLEANSING)
    client.force_login(agent)
    url = reverse("admin:leads_cleansingqueuelead_work", args=[lead.pk])

    response = client.post(
        url, {"reached": "yes", "intent": "high", "grade": "A", "name": "", "city": ""}
    )

    assert response.status_code == 200
    assert "需要确认客户选择的经销商" in response.content.decode()
    lead.refresh_from_db()
    assert lead.status == Status.CLEANSING


def test_lead_claimed_by_another_agent_warns_on_open(client, agent):
    lead = LeadFactory(status=Status.CLEANSING)
    other = UserFactory(username="other", is_staff=True)
    Lead.objects.filter(pk=lead.pk).update(
        claimed_by=other, claim_expires_at=timezone.now() + timezone.timedelta(minutes=10)
    )
    client.force_login(agent)

    page = client.get(reverse("admin:leads_cleansingqueuelead_work", args=[lead.pk]))

    assert "该线索正由 other 处理" in page.content.decode()


def test_user_without_cleansing_permission_cannot_open_the_desk(client):
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_lead"))
    lead = LeadFactory(status=Status.CLEANSING)
    client.force_login(viewer)

    queue = client.get(reverse("admin:leads_cleansingqueuelead_changelist"))
    work = client.get(reverse("admin:leads_cleansingqueuelead_work", args=[lead.pk]))

    assert queue.status_code == 403 and work.status_code == 403


def test_nurture_touch_page_records_the_touch(client, agent):
    lead = LeadFactory(status=Status.NURTURING)
    client.force_login(agent)
    url = reverse("admin:leads_nurturinglead_touch", args=[lead.pk])

    assert client.get(url).status_code == 200
    response = client.post(url, {"medium": "sms", "content": "周末试驾活动"})

    assert response.status_code == 302
    assert NurtureTouch.objects.get(lead=lead).content == "周末试驾活动"


def test_archive_page_needs_a_reason_and_archives(client, agent):
    lead = LeadFactory(status=Status.NURTURING)
    client.force_login(agent)
    url = reverse("admin:leads_nurturinglead_archive_lead", args=[lead.pk])

    client.post(url, {"reason": "六个月无回应"})

    lead.refresh_from_db()
    assert lead.status == Status.ARCHIVED and lead.hq_reason == "六个月无回应"


def test_sample_draw_and_record_pages_call_their_services(client, agent):
    day = timezone.localdate()
    lead = lead_at_dealer(
        Status.DEFEATED, grade="F", defeat_reason="价格", defeated_at=timezone.now()
    )
    client.force_login(agent)

    client.post(
        reverse("admin:leads_supervisionsample_draw"),
        {"kind": "defeated", "period_start": day, "period_end": day, "size": 5},
    )
    sample = SupervisionSample.objects.get(lead=lead)
    client.post(
        reverse("admin:leads_supervisionsample_record", args=[sample.pk]),
        {"result": "not_confirmed", "notes": "客户说没人联系过"},
    )
    listing = client.get(reverse("admin:leads_supervisionsample_changelist"))

    sample.refresh_from_db()
    assert sample.result == "not_confirmed"
    assert 'id="supervision-summary"' in listing.content.decode()


def test_workload_page_counts_the_agents_calls(client, agent):
    from leads.services.cleansing import lead_call_record

    lead = LeadFactory(status=Status.CLEANSING)
    lead_call_record(lead_id=lead.pk, agent=agent, reached=False)
    client.force_login(agent)

    page = client.get(reverse("admin:leads_cleansingqueuelead_workload"))

    text = page.content.decode()
    assert page.status_code == 200 and "agent" in text and "待清洗" in text
