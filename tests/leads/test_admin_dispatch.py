"""Dispatch in the admin and the API: why not dispatched, transfer, dealer exit, schedules."""

import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_q.models import Schedule
from rest_framework.test import APIClient

from channels.services import channel_token_rotate
from dealers.models import Dealer
from leads.management.commands.setup_schedules import SCHEDULES
from leads.models import CustomerNotice, Lead, Status
from leads.services.intake import lead_intake
from tests.factories import ChannelFactory, DealerFactory, lead_at_dealer

pytestmark = pytest.mark.django_db


def test_lead_list_says_why_a_lead_is_not_dispatched(client, hq_admin):
    lead = lead_at_dealer(Status.DISPATCHED, score=5, channel=ChannelFactory(needs_cleansing=False))
    Lead.objects.filter(pk=lead.pk).update(status=Status.QUALIFIED, dispatched_at=None)
    client.force_login(hq_admin)

    page = client.get(reverse("admin:leads_lead_changelist")).content.decode()

    assert "未派发原因" in page and "低于派发分数线" in page


def test_lead_page_shows_the_dispatch_check(client, hq_admin):
    lead = lead_at_dealer(Status.DISPATCHED, consent_dealer=None)
    Lead.objects.filter(pk=lead.pk).update(status=Status.QUALIFIED, dispatched_at=None)
    client.force_login(hq_admin)

    page = client.get(reverse("admin:leads_lead_change", args=[lead.pk])).content.decode()

    assert "客户未同意该经销商联系" in page


def test_transfer_action_asks_for_dealer_and_reason_then_moves_the_leads(client, hq_admin):
    leads = [lead_at_dealer(Status.FOLLOWING) for _ in range(2)]
    b = DealerFactory()
    client.force_login(hq_admin)
    url = reverse("admin:leads_lead_changelist")
    selected = [lead.pk for lead in leads]

    form = client.post(url, {"action": "transfer_leads", "_selected_action": selected})
    done = client.post(
        url,
        {
            "action": "transfer_leads",
            "_selected_action": selected,
            "apply": "1",
            "to_dealer": b.pk,
            "reason": "原店跟进不力",
            "consent_basis": "客户来电同意转店",
        },
        follow=True,
    )

    assert "转派到经销商" in form.content.decode()
    assert Lead.objects.filter(pk__in=selected, dealer=b).count() == 2
    assert CustomerNotice.objects.filter(to_dealer=b).count() == 2
    assert "已转派到" in done.content.decode()


def test_dealer_exit_page_moves_leads_and_reports_the_counts(client, hq_admin):
    a, b = DealerFactory(), DealerFactory()
    lead_at_dealer(Status.FOLLOWING, dealer=a)
    client.force_login(hq_admin)
    url = reverse("admin:dealers_dealer_exit_network", args=[a.pk])

    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {"to_dealer": b.pk, "reason": "经营不善", "consent_basis": "已电话征得客户同意"},
        follow=True,
    )

    a.refresh_from_db()
    assert a.status == Dealer.Status.EXITED
    assert "转出 1 条" in response.content.decode()


def test_channel_status_api_explains_why_not_dispatched_and_when(settings):
    import datetime

    import time_machine
    from django.utils import timezone

    channel = ChannelFactory(needs_cleansing=False, score_weight=100)
    dealer = DealerFactory()
    night = datetime.datetime(2026, 11, 25, 2, 0, tzinfo=timezone.get_current_timezone())
    with time_machine.travel(night, tick=False):
        lead_intake(
            channel=channel,
            source="api",
            data={
                "external_id": "N1",
                "mobile": "13912340000",
                "dealer_code": dealer.code,
                "consent": True,
                "name": "钱",
                "city": "北京",
                "purchase_timeframe": "2w",
            },
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {channel_token_rotate(channel=channel)}")
        body = client.get("/api/v1/leads/N1/status/").json()

    assert [r["code"] for r in body["not_dispatched_because"]] == ["window_closed"]
    assert body["dispatch_at"].startswith("2026-11-25T08:30")
    assert dealer.name not in json.dumps(body, ensure_ascii=False)


def test_setup_schedules_declares_the_dispatch_sweep_idempotently():
    call_command("setup_schedules")
    call_command("setup_schedules")

    schedule = Schedule.objects.get(name="leads-dispatch-sweep")
    assert schedule.func == "leads.tasks.leads_dispatch_sweep_task"
    assert (schedule.schedule_type, schedule.minutes) == (Schedule.MINUTES, 1)
    assert Schedule.objects.count() == len(SCHEDULES)


@pytest.mark.parametrize("spec", SCHEDULES, ids=lambda spec: spec["name"])
def test_every_declared_schedule_points_at_a_real_task(spec):
    from django.utils.module_loading import import_string

    assert callable(import_string(spec["func"]))


def test_the_lifecycle_and_replan_schedules_are_declared():
    names = {spec["name"] for spec in SCHEDULES}

    assert {
        "leads-dispatch-sweep",
        "leads-dispatch-replan",
        "leads-lifecycle-rules",
        "leads-assignment-timers",
    } <= names
