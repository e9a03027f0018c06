"""Who sees what: HQ everything, a region manager the region's dealers, a dealer manager or DCC
their dealer (the dealer pages' rule), a sales advisor and strangers nothing."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from reports.models import RegionManager
from reports.scope import ALL, DEALER, NONE, REGION, report_scope_for
from tests.factories import AdvisorFactory, DealerFactory, UserFactory
from tests.reports.conftest import OCTOBER

pytestmark = pytest.mark.django_db

PERIOD = {"start": OCTOBER[0].isoformat(), "end": OCTOBER[1].isoformat()}


def _staff(username, *codenames):
    user = UserFactory(username=username, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


# --- the rule --------------------------------------------------------------------------------


def test_hq_staff_and_superusers_see_the_network(db):
    assert report_scope_for(UserFactory(is_staff=True)).kind == ALL
    assert report_scope_for(UserFactory(is_superuser=True)).kind == ALL


def test_region_manager_sees_the_dealers_of_their_region(october):
    user = UserFactory(is_staff=True)
    RegionManager.objects.create(user=user, region=october.north)

    scope = report_scope_for(user)

    assert scope.kind == REGION
    assert scope.dealer_ids == {october.a.pk, october.b.pk}
    assert scope.label == "北区"


def test_a_manager_of_two_regions_sees_both(october):
    user = UserFactory(is_staff=True)
    RegionManager.objects.create(user=user, region=october.north)
    RegionManager.objects.create(user=user, region=october.south)

    assert report_scope_for(user).dealer_ids == {october.a.pk, october.b.pk, october.c.pk}


def test_a_dealer_added_to_the_region_later_is_in_scope(october):
    user = UserFactory(is_staff=True)
    RegionManager.objects.create(user=user, region=october.south)
    later = DealerFactory(region=october.south)

    assert later.pk in report_scope_for(user).dealer_ids


@pytest.mark.parametrize("role", ["manager", "dcc"])
def test_dealer_manager_and_dcc_see_their_dealer(db, role):
    staff = AdvisorFactory(role=role)

    scope = report_scope_for(staff.user)

    assert scope.kind == DEALER and scope.dealer_ids == {staff.dealer_id}


def test_sales_advisor_inactive_staff_and_strangers_see_nothing(db):
    from django.contrib.auth.models import AnonymousUser

    advisor = AdvisorFactory(role="advisor")
    left = AdvisorFactory(role="manager", is_active=False)

    assert report_scope_for(advisor.user).kind == NONE
    assert report_scope_for(left.user).kind == NONE
    assert report_scope_for(UserFactory()).kind == NONE
    assert report_scope_for(AnonymousUser()).kind == NONE


# --- the region manager in the admin ---------------------------------------------------------


@pytest.fixture
def region_manager(refreshed):
    user = _staff("north", "view_dashboard", "export_dashboard")
    RegionManager.objects.create(user=user, region=refreshed.north)
    return user


def test_region_manager_dashboard_counts_only_the_region(client, region_manager):
    client.force_login(region_manager)

    response = client.get(reverse("admin:reports_dashboard_changelist"), PERIOD)

    assert response.status_code == 200
    report = response.context["report"]
    assert report["totals"]["leads"] == 4  # A: L1, L2, L7; B: L3
    dealers = next(f for f in report["figures"] if f.key == "dealers")
    assert [row[0].value for row in dealers.table.rows] == ["A店（TA）", "B店（TB）"]
    assert "regions" not in [f.key for f in report["figures"]]


def test_region_manager_cannot_pick_another_regions_dealer(client, region_manager, refreshed):
    client.force_login(region_manager)

    response = client.get(
        reverse("admin:reports_dashboard_changelist"), {**PERIOD, "dealer": refreshed.c.pk}
    )

    assert response.context["q"].dealer_id is None
    assert response.context["report"]["totals"]["leads"] == 4


def test_region_manager_cannot_open_another_dealers_leads(client, region_manager, refreshed):
    client.force_login(region_manager)
    url = reverse("admin:reports_dashboard_leads")

    response = client.get(
        url, {"m": "leads", "from": "2026-10-01", "to": "2026-10-31", "dl": refreshed.c.pk}
    )
    inside = client.get(url, {"m": "leads", "from": "2026-10-01", "to": "2026-10-31"})

    assert response.status_code == 403
    assert inside.context["count"] == 4


def test_region_managers_drill_down_stays_in_the_region(client, region_manager):
    client.force_login(region_manager)

    response = client.get(reverse("admin:reports_dashboard_changelist"), PERIOD)

    card = next(c for c in response.context["report"]["cards"] if c.label == "去重线索")
    # the report's own list of leads (the admin lead list is not region-scoped), with 4 leads
    assert card.value.href.startswith(reverse("admin:reports_dashboard_leads"))
    assert client.get(card.value.href).context["count"] == 4


def test_staff_without_the_report_permission_is_refused(client, refreshed):
    client.force_login(_staff("agent", "view_lead"))

    assert client.get(reverse("admin:reports_dashboard_changelist")).status_code == 403


# --- dealer staff on the dealer pages --------------------------------------------------------


@pytest.fixture
def dealer_urls(settings):
    settings.ROOT_URLCONF = "tests.reports.urls"


def test_dealer_manager_sees_only_their_dealer(client, refreshed, dealer_urls):
    client.force_login(refreshed.manager_a.user)

    response = client.get(reverse("reports:dealer_dashboard"), PERIOD)

    assert response.status_code == 200
    assert response.context["report"]["totals"]["leads"] == 3  # L1, L2, L7
    advisors = next(f for f in response.context["report"]["figures"] if f.key == "advisors")
    assert [row[0].value for row in advisors.table.rows] == ["a1", "a2", "未分配顾问"]


def test_dcc_sees_their_dealer(client, refreshed, dealer_urls):
    client.force_login(refreshed.dcc_c.user)

    response = client.get(reverse("reports:dealer_dashboard"), PERIOD)

    assert response.context["report"]["totals"]["leads"] == 2  # L4, L8


def test_sales_advisor_gets_a_404(client, refreshed, dealer_urls):
    client.force_login(refreshed.a1.user)

    assert client.get(reverse("reports:dealer_dashboard")).status_code == 404


def test_dealer_drill_down_lists_only_the_dealers_leads(client, refreshed, dealer_urls):
    client.force_login(refreshed.manager_a.user)
    url = reverse("reports:dealer_leads")

    mine = client.get(url, {"m": "leads", "from": "2026-10-01", "to": "2026-10-31"})
    theirs = client.get(
        url, {"m": "leads", "from": "2026-10-01", "to": "2026-10-31", "dl": refreshed.c.pk}
    )
    hq = client.get(url, {"m": "leads", "from": "2026-10-01", "to": "2026-10-31", "dl": "none"})

    assert mine.context["count"] == 3
    assert {lead.pk for lead in mine.context["page"]} == {
        refreshed.l1.pk,
        refreshed.l2.pk,
        refreshed.l7.pk,
    }
    assert theirs.status_code == 404 and hq.status_code == 404


def test_dealer_pages_mask_the_phone(client, refreshed, dealer_urls):
    client.force_login(refreshed.manager_a.user)

    page = client.get(
        reverse("reports:dealer_leads"), {"m": "leads", "from": "2026-10-01", "to": "2026-10-31"}
    ).content.decode()

    assert refreshed.l1.customer.masked_mobile in page
    assert refreshed.l1.customer.mobile not in page


def test_anonymous_is_sent_to_the_dealer_login(client, dealer_urls):
    response = client.get(reverse("reports:dealer_dashboard"))

    assert response.status_code == 302 and "/dealer/login/" in response["Location"]


def test_hq_can_open_a_dealers_dashboard_through_the_view_function(rf, refreshed, dealer_urls):
    from reports.views import dealer_dashboard

    request = rf.get("/", PERIOD)
    request.user = UserFactory(is_staff=True)
    request.session = {}
    from django.contrib.messages.storage.fallback import FallbackStorage

    request._messages = FallbackStorage(request)

    response = dealer_dashboard(request, refreshed.c)

    assert response.status_code == 200


def test_a_dealer_manager_cannot_open_another_dealer_through_the_view_function(rf, refreshed):
    from django.http import Http404

    from reports.views import dealer_dashboard

    request = rf.get("/")
    request.user = refreshed.manager_a.user

    with pytest.raises(Http404):
        dealer_dashboard(request, refreshed.c.pk)
