"""The HQ dashboards in the admin: unfold's index, the KPI page (a chart and a table per
figure), clicking a figure opens the leads behind it, refresh, the refresh log."""

import json
import re
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reports.models import RegionManager, RollupRun
from tests.factories import LeadFactory, UserFactory
from tests.reports.conftest import OCTOBER

pytestmark = pytest.mark.django_db

PERIOD = {"start": OCTOBER[0].isoformat(), "end": OCTOBER[1].isoformat()}
DASHBOARD = "admin:reports_dashboard_changelist"


def _figure(response, key):
    return next(f for f in response.context["report"]["figures"] if f.key == key)


def _open(client, href):
    """Follow a drill-down link; return the number of rows the list shows."""
    response = client.get(href)
    assert response.status_code == 200, href
    if "cl" in response.context:
        return response.context["cl"].result_count
    return response.context["count"]


def test_dashboard_shows_every_figure_with_a_chart_and_a_table(client, hq_admin, refreshed):
    client.force_login(hq_admin)

    response = client.get(reverse(DASHBOARD), PERIOD)

    assert response.status_code == 200
    keys = [f.key for f in response.context["report"]["figures"]]
    assert keys == [
        "trend",
        "funnel",
        "timeliness",
        "channels",
        "regions",
        "dealers",
        "status_cross",
        "grade_mix",
        "grades",
        "channel_model",
        "models",
        "defeat_reasons",
        "invalid_reasons",
        "kpis",
    ]
    page = response.content.decode()
    for figure in response.context["report"]["figures"]:
        assert f'data-table="{figure.key}"' in page
        if figure.key != "kpis":
            assert figure.chart is not None, figure.key
    assert page.count('class="chart"') >= 13
    assert "unfold/js/chart/chart.js" in page and "cdn" not in page.lower()


def test_charts_carry_the_links_of_their_bars(client, hq_admin, refreshed):
    client.force_login(hq_admin)

    response = client.get(reverse(DASHBOARD), PERIOD)

    data = json.loads(_figure(response, "funnel").chart.data_json)
    links = data["datasets"][0]["links"]
    assert len(links) == len(data["labels"])
    assert _open(client, links[data["labels"].index("成交")]) == 1


def test_cards_open_the_admin_lead_list_with_the_same_count(client, hq_admin, refreshed):
    client.force_login(hq_admin)
    response = client.get(reverse(DASHBOARD), PERIOD)

    for card in response.context["report"]["cards"]:
        if card.value.href and card.value.value:
            assert _open(client, card.value.href) == card.value.value, card.label


def test_table_counts_open_lists_with_the_same_count(client, hq_admin, refreshed):
    """Every linked count of a sample of tables (the admin lead list where its filters can say
    it, the report's own list otherwise)."""
    client.force_login(hq_admin)
    response = client.get(reverse(DASHBOARD), {**PERIOD, "level": 3})
    opened = {"admin": 0, "report": 0}
    for key in (
        "channels",
        "regions",
        "status_cross",
        "grade_mix",
        "grades",
        "models",
        "channel_model",
        "defeat_reasons",
        "invalid_reasons",
    ):
        for row in _figure(response, key).table.rows:
            for value in row:
                if value.href and value.value:
                    assert _open(client, value.href) == value.value, (key, row[0].value)
                    path = urlsplit(value.href).path
                    opened["report" if "/reports/" in path else "admin"] += 1
    assert opened["admin"] > 20 and opened["report"] > 0


def test_figures_the_lead_list_cannot_filter_open_the_reports_list(client, hq_admin, refreshed):
    client.force_login(hq_admin)
    response = client.get(reverse(DASHBOARD), PERIOD)

    card = next(c for c in response.context["report"]["cards"] if c.label == "24小时跟进")
    drill = client.get(card.value.href)

    assert urlsplit(card.value.href).path == reverse("admin:reports_dashboard_leads")
    assert drill.context["count"] == 3
    assert {lead.pk for lead in drill.context["page"]} == {
        refreshed.l1.pk,
        refreshed.l3.pk,
        refreshed.l4.pk,
    }


def test_lead_list_date_range_is_the_local_day(client, hq_admin, refreshed):
    """The 00:30 lead of 10-06 is in 10-06's list, not 10-05's."""
    client.force_login(hq_admin)
    response = client.get(reverse(DASHBOARD), PERIOD)

    row = next(r for r in _figure(response, "trend").table.rows if r[0].value == "10-06")
    leads = row[3]

    assert leads.value == 2 and _open(client, leads.href) == 2


def test_the_index_shows_this_months_kpis_for_report_users(client, hq_admin, refreshed):
    client.force_login(hq_admin)

    page = client.get(reverse("admin:index")).content.decode()

    assert 'id="report-summary"' in page and "打开KPI看板" in page


def test_the_index_stays_plain_for_users_without_reports(client, refreshed):
    agent = UserFactory(username="agent", is_staff=True)
    agent.user_permissions.add(Permission.objects.get(codename="view_lead"))
    client.force_login(agent)

    page = client.get(reverse("admin:index")).content.decode()

    assert 'id="report-summary"' not in page and "KPI看板" not in page


def test_refresh_button_recomputes_the_period(client, hq_admin, refreshed):
    client.force_login(hq_admin)

    response = client.post(
        reverse("admin:reports_dashboard_refresh"), {**PERIOD, "query": "start=2026-10-01"}
    )

    assert response.status_code == 302 and "start=2026-10-01" in response["Location"]
    run = RollupRun.objects.order_by("-started_at").first()
    assert (run.day_from, run.day_to, run.triggered_by) == (*OCTOBER, hq_admin)


def test_refresh_needs_its_permission(client, refreshed):
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_dashboard"))
    client.force_login(viewer)

    assert client.post(reverse("admin:reports_dashboard_refresh"), PERIOD).status_code == 403


def test_refresh_log_and_its_action(client, hq_admin, refreshed):
    client.force_login(hq_admin)

    page = client.get(reverse("admin:reports_rolluprun_changelist"))
    client.get(reverse("admin:reports_rolluprun_refresh_now"))

    assert page.status_code == 200 and "完成" in page.content.decode()
    assert RollupRun.objects.filter(mode=RollupRun.Mode.RECENT).exists()


def test_region_managers_are_managed_in_the_admin(client, hq_admin, refreshed):
    user = UserFactory(username="wang", is_staff=True)
    client.force_login(hq_admin)

    response = client.post(
        reverse("admin:reports_regionmanager_add"), {"region": refreshed.north.pk, "user": user.pk}
    )

    assert response.status_code == 302
    assert RegionManager.objects.filter(user=user, region=refreshed.north).exists()


def test_the_page_makes_the_same_queries_whatever_the_data(client, hq_admin, refreshed):
    from reports.services import rollups_refresh_range

    client.force_login(hq_admin)
    client.get(reverse(DASHBOARD), PERIOD)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse(DASHBOARD), PERIOD)
    for _n in range(20):
        LeadFactory(channel=refreshed.ch.dcd, created_at=refreshed.l1.created_at, status="new")
    rollups_refresh_range(first=OCTOBER[0], last=OCTOBER[1])
    with CaptureQueriesContext(connection) as many:
        client.get(reverse(DASHBOARD), PERIOD)

    assert len(many) == len(few) <= 40


def test_the_dealer_filter_compares_advisors(client, hq_admin, refreshed):
    client.force_login(hq_admin)

    response = client.get(reverse(DASHBOARD), {**PERIOD, "dealer": refreshed.a.pk})

    keys = [f.key for f in response.context["report"]["figures"]]
    assert "advisors" in keys and "regions" not in keys and "dealers" not in keys
    card = next(c for c in response.context["report"]["cards"] if c.label == "去重线索")
    assert re.search(rf"dealer__id__exact={refreshed.a.pk}\b", card.value.href)
    assert _open(client, card.value.href) == 3
