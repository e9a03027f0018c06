"""Every registered model: its changelist, a search and its change page answer 200 with data;
the lead changelist has a fixed number of queries whatever the number of rows."""

import pytest
from django.contrib import admin
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from unfold.admin import ModelAdmin

from leads import services
from leads.models import FollowUp, Lead, Status
from tests.factories import AdvisorFactory, ChannelFactory, LeadFactory, lead_at_dealer

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(hq_admin):
    from django.contrib.auth.models import Permission

    advisor = AdvisorFactory()
    advisor.user.user_permissions.add(Permission.objects.get(codename="follow_lead"))
    lead = lead_at_dealer(Status.DISPATCHED, dealer=advisor.dealer)
    services.lead_assign(lead_id=lead.pk, advisor_id=advisor.pk, actor=hq_admin)
    services.lead_follow_up_record(
        lead_id=lead.pk,
        method=FollowUp.Method.PHONE,
        result=FollowUp.Result.REACHED,
        actor=advisor.user,
        grade="A",
    )
    LeadFactory()
    queued = LeadFactory(status=Status.CLEANSING)
    from leads.services.cleansing import (
        lead_call_record,
        lead_nurture_touch_record,
        supervision_samples_draw,
    )

    lead_call_record(lead_id=queued.pk, agent=hq_admin, reached=True, intent="low")
    lead_nurture_touch_record(lead_id=queued.pk, agent=hq_admin, medium="sms", content="你好")
    LeadFactory(status=Status.CLEANSING)
    today = lead.dispatched_at.date()
    supervision_samples_draw(kind="dispatched", period_start=today, period_end=today)
    from django_q.models import Schedule

    Schedule.objects.create(func="math.floor", args="1", name="demo")
    return lead


INLINE_MANAGEMENT = {
    "raw_leads-TOTAL_FORMS": "0",
    "raw_leads-INITIAL_FORMS": "0",
    "raw_leads-MIN_NUM_FORMS": "0",
    "raw_leads-MAX_NUM_FORMS": "1000",
}


def _registered():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def test_every_model_admin_is_on_unfold():
    plain = [
        m._meta.label for m, a in admin.site._registry.items() if not isinstance(a, ModelAdmin)
    ]

    assert plain == []


@pytest.mark.parametrize("model", [m for m, _a in _registered()], ids=lambda m: m._meta.label)
def test_changelist_search_and_change_page_answer_200(client, hq_admin, data, model):
    client.force_login(hq_admin)
    opts = model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")

    assert client.get(changelist).status_code == 200
    if admin.site._registry[model].search_fields:
        assert client.get(changelist, {"q": "138"}).status_code == 200
    request = RequestFactory().get(changelist)
    request.user = hq_admin
    obj = admin.site._registry[model].get_queryset(request).order_by("pk").first()
    if obj is not None:
        change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        assert client.get(change, follow=True).status_code == 200


def test_admin_is_in_simplified_chinese(client, hq_admin, data):
    client.force_login(hq_admin)

    page = client.get(reverse("admin:leads_lead_changelist")).content.decode()

    assert "线索" in page and "待清洗" in page or "首次待跟进" in page
    assert "Select lead to change" not in page


def test_lead_page_shows_the_timeline(client, hq_admin, data):
    client.force_login(hq_admin)

    page = client.get(reverse("admin:leads_lead_change", args=[data.pk])).content.decode()

    assert 'id="lead-timeline"' in page
    assert "分配顾问" in page  # the assignment event
    assert "跟进 · 电话 · 已联系" in page  # the follow-up


def test_lead_changelist_query_count_does_not_grow_with_rows(client, hq_admin, data):
    client.force_login(hq_admin)
    url = reverse("admin:leads_lead_changelist")
    first = lead_at_dealer(Status.DISPATCHED, channel=ChannelFactory())
    Lead.objects.filter(pk=first.pk).update(status=Status.QUALIFIED, dispatched_at=None)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(8):
        lead_at_dealer(Status.FOLLOWING, channel=ChannelFactory())
    for _ in range(8):  # undispatched leads at distinct dealers: the "why not" column
        qualified = lead_at_dealer(Status.DISPATCHED, channel=ChannelFactory())
        Lead.objects.filter(pk=qualified.pk).update(status=Status.QUALIFIED, dispatched_at=None)

    with CaptureQueriesContext(connection) as many:
        client.get(url)

    assert len(many) == len(few)
    assert len(many) <= 25


def test_search_by_mobile_in_any_format_finds_the_lead(client, hq_admin, data):
    client.force_login(hq_admin)
    mobile = data.customer.mobile
    spaced = f"+86 {mobile[:3]} {mobile[3:7]} {mobile[7:]}"

    response = client.get(reverse("admin:leads_lead_changelist"), {"q": spaced})

    assert list(response.context["cl"].result_list) == [data]


def test_transition_button_calls_the_service_and_audits(client, hq_admin):
    lead = LeadFactory(status=Status.NEW)
    client.force_login(hq_admin)
    url = reverse("admin:leads_lead_change", args=[lead.pk])

    response = client.post(
        url, {"_fsm_transition_to": "send_to_cleansing", **INLINE_MANAGEMENT}, follow=True
    )

    lead.refresh_from_db()
    assert response.status_code == 200
    assert lead.status == Status.CLEANSING
    assert lead.events.filter(action="send_to_cleansing", actor=hq_admin).exists()


def test_transition_form_button_assigns_through_the_service(client, hq_admin):
    advisor = AdvisorFactory()
    lead = lead_at_dealer(Status.DISPATCHED, dealer=advisor.dealer)
    client.force_login(hq_admin)
    url = reverse("admin:leads_lead_transition", args=[lead.pk, "assign"])

    assert client.get(url).status_code == 200
    response = client.post(url, {"advisor_choice": advisor.pk})

    lead.refresh_from_db()
    assert response.status_code == 302
    assert lead.status == Status.ASSIGNED and lead.advisor == advisor


def test_refused_transition_shows_a_chinese_message_and_changes_nothing(client, hq_admin):
    lead = lead_at_dealer(Status.QUALIFIED if False else Status.DISPATCHED)
    Lead.objects.filter(pk=lead.pk).update(status=Status.QUALIFIED, consent_dealer=None)
    client.force_login(hq_admin)
    url = reverse("admin:leads_lead_change", args=[lead.pk])

    response = client.post(
        url, {"_fsm_transition_to": "dispatch", **INLINE_MANAGEMENT}, follow=True
    )

    lead.refresh_from_db()
    assert lead.status == Status.QUALIFIED
    assert "客户尚未同意由该经销商联系" in response.content.decode()


def test_transition_buttons_follow_the_users_permissions(client, db):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    agent = UserFactory(is_staff=True)
    agent.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_lead", "change_lead", "cleanse_lead"])
    )
    new_lead = LeadFactory(status=Status.NEW)
    defeat = lead_at_dealer(Status.DEFEAT_REQUESTED, defeat_reason="已购竞品")
    client.force_login(agent)

    new_page = client.get(reverse("admin:leads_lead_change", args=[new_lead.pk])).content.decode()
    defeat_page = client.get(reverse("admin:leads_lead_change", args=[defeat.pk])).content.decode()

    assert 'value="send_to_cleansing"' in new_page
    assert 'value="approve_defeat"' not in defeat_page
