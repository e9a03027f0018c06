"""Lifecycle in the admin: rules with their last run, run now, an advisor leaving, recall."""

import pytest
from django.urls import reverse

from dealers.models import Advisor
from leads.models import Lead, LifecycleRule, Status
from tests.factories import AdvisorFactory, lead_at_dealer

pytestmark = pytest.mark.django_db


def test_run_now_runs_the_rules_and_shows_what_each_did(client, hq_admin):
    client.force_login(hq_admin)

    response = client.get(reverse("admin:leads_lifecyclerule_run_now"), follow=True)

    assert response.status_code == 200
    assert LifecycleRule.objects.filter(last_run_at__isnull=False).count() == 4
    assert "召回 0 条" in response.content.decode()


def test_advisor_leaves_page_hands_leads_to_a_colleague(client, hq_admin):
    leaving = AdvisorFactory()
    colleague = AdvisorFactory(dealer=leaving.dealer)
    lead = lead_at_dealer(Status.FOLLOWING, advisor=leaving)
    client.force_login(hq_admin)
    url = reverse("admin:dealers_advisor_leaves", args=[leaving.pk])

    assert client.get(url).status_code == 200
    client.post(url, {"hand_to": colleague.pk, "reason": "辞职"})

    lead.refresh_from_db()
    assert lead.advisor == colleague and not Advisor.objects.get(pk=leaving.pk).is_active


def test_lead_list_action_recalls_the_selection(client, hq_admin):
    lead = lead_at_dealer(Status.FOLLOWING)
    client.force_login(hq_admin)

    client.post(
        reverse("admin:leads_lead_changelist"),
        {"action": "recall_leads", "_selected_action": [lead.pk]},
    )

    assert Lead.objects.get(pk=lead.pk).status == Status.RECALLED
