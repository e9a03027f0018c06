"""Personal data: masked numbers, reveal-on-reason and its log, the outlier flag, consent on
every handing of data to a dealer, region scoping, and the role groups."""

import datetime

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from config.errors import InvalidTransition, ValidationFailed
from leads.models import LeadEvent, MobileReveal, Status
from leads.selectors import lead_timeline, reveal_daily_summary
from leads.services import lead_dispatch
from leads.services.reveal import may_reveal, mobile_reveal
from leads.services.roles import (
    ROLE_DCC,
    ROLE_HQ_AGENT,
    ROLE_HQ_AUDITOR,
    ROLE_HQ_OPS,
    ROLE_REGION_MANAGER,
    roles_ensure,
)
from leads.services.transfer import lead_transfer
from reports.models import RegionManager
from tests.factories import (
    AdvisorFactory,
    CustomerFactory,
    DealerFactory,
    LeadFactory,
    RegionFactory,
    UserFactory,
    lead_at_dealer,
)

pytestmark = pytest.mark.django_db

MOBILE = "13987654321"
MASKED = "139****4321"


def staff_in(role: str, username: str):
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(roles_ensure()[role])
    return user


@pytest.fixture
def owned():
    """A lead at a dealer owned by an advisor, for a customer with a known number."""
    return lead_at_dealer(Status.FOLLOWING, customer=CustomerFactory(mobile=MOBILE))


def reveal_post(client, url, **data):
    return client.post(url, {"reason": "call", "note": "", **data})


# --- masking ---------------------------------------------------------------------------------


def test_admin_lead_page_shows_the_number_masked(client, hq_admin, owned):
    client.force_login(hq_admin)

    text = client.get(reverse("admin:leads_lead_change", args=[owned.pk])).content.decode()

    assert MASKED in text and MOBILE not in text


def test_dealer_lead_page_shows_the_owner_the_number_masked(client, owned):
    client.force_login(owned.advisor.user)

    text = client.get(reverse("dealer:lead", args=[owned.pk])).content.decode()

    assert MASKED in text and MOBILE not in text and "查看号码" in text


def test_dealer_correction_form_does_not_prefill_the_number(client, owned):
    client.force_login(owned.advisor.user)

    text = client.get(reverse("dealer:lead", args=[owned.pk])).content.decode()

    assert f'value="{MOBILE}"' not in text


def test_timeline_masks_numbers_typed_into_free_text(owned):
    LeadEvent.objects.create(
        lead=owned, kind=LeadEvent.Kind.NOTE, action="note", reason=f"客户说改用 {MOBILE}"
    )

    details = " ".join(entry.detail for entry in lead_timeline(owned))

    assert MASKED in details and MOBILE not in details


# --- reveal-on-reason ------------------------------------------------------------------------


def test_advisor_reveal_records_who_which_lead_when_and_why_and_shows_the_number(client, owned):
    client.force_login(owned.advisor.user)

    response = reveal_post(client, reverse("dealer:lead_reveal", args=[owned.pk]))
    page = client.get(response["Location"]).content.decode()

    reveal = MobileReveal.objects.get()
    assert (reveal.user, reveal.lead, reveal.customer) == (
        owned.advisor.user,
        owned,
        owned.customer,
    )
    assert reveal.reason == "call" and reveal.source == "dealer" and reveal.ip == "127.0.0.1"
    assert f'href="tel:{MOBILE}"' in page


def test_reveal_without_a_reason_is_refused_and_logs_nothing(client, owned):
    client.force_login(owned.advisor.user)

    response = client.post(reverse("dealer:lead_reveal", args=[owned.pk]), {"reason": ""})
    page = client.get(response["Location"]).content.decode()

    assert MobileReveal.objects.count() == 0 and MOBILE not in page


def test_reveal_for_other_reason_needs_a_note(owned):
    with pytest.raises(ValidationFailed, match="请填写说明"):
        mobile_reveal(actor=owned.advisor.user, lead_id=owned.pk, reason="other", source="dealer")


def test_reveal_is_refused_to_an_advisor_who_does_not_own_the_lead(owned):
    colleague = AdvisorFactory(dealer=owned.dealer)

    assert not may_reveal(colleague.user, owned)


def test_reveal_page_of_another_dealers_lead_is_404(client, owned):
    stranger = AdvisorFactory(role="manager")
    client.force_login(stranger.user)

    response = reveal_post(client, reverse("dealer:lead_reveal", args=[owned.pk]))

    assert response.status_code == 404 and MobileReveal.objects.count() == 0


def test_reveal_shown_only_to_the_user_who_made_it(client, owned):
    reveal = mobile_reveal(
        actor=owned.advisor.user, lead_id=owned.pk, reason="call", source="dealer"
    )
    manager = AdvisorFactory(dealer=owned.dealer, role="manager")
    client.force_login(manager.user)

    page = client.get(reverse("dealer:lead", args=[owned.pk]) + f"?reveal={reveal.pk}")

    assert MOBILE not in page.content.decode()


def test_revealed_number_is_hidden_again_after_ten_minutes(client, owned):
    client.force_login(owned.advisor.user)
    location = reveal_post(client, reverse("dealer:lead_reveal", args=[owned.pk]))["Location"]

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=11)):
        page = client.get(location).content.decode()

    assert MOBILE not in page and MASKED in page


@pytest.mark.parametrize("role", [ROLE_HQ_OPS, ROLE_HQ_AUDITOR, ROLE_REGION_MANAGER])
def test_roles_that_never_call_may_not_reveal(role, owned):
    assert not may_reveal(staff_in(role, "someone"), owned)


def test_agent_reveals_in_the_workbench_for_a_lead_at_hq(client):
    lead = LeadFactory(status=Status.CLEANSING, customer=CustomerFactory(mobile=MOBILE))
    agent = staff_in(ROLE_HQ_AGENT, "agent")
    client.force_login(agent)
    work = reverse("admin:leads_cleansingqueuelead_work", args=[lead.pk])

    before = client.get(work).content.decode()
    response = reveal_post(
        client, reverse("admin:leads_mobilereveal_reveal", args=[lead.pk]), next=work
    )
    after = client.get(response["Location"]).content.decode()

    assert MOBILE not in before and f'href="tel:{MOBILE}"' in after
    assert MobileReveal.objects.get().source == "workbench"


def test_agent_may_not_reveal_a_lead_already_at_a_dealer(owned):
    assert not may_reveal(staff_in(ROLE_HQ_AGENT, "agent"), owned)


def test_reveal_of_an_anonymised_customer_is_refused(owned):
    owned.customer.anonymised_at = timezone.now()

    assert not may_reveal(owned.advisor.user, owned)


def test_reveal_endpoint_refuses_get(client, hq_admin, owned):
    client.force_login(hq_admin)

    response = client.get(reverse("admin:leads_mobilereveal_reveal", args=[owned.pk]))

    assert response.status_code == 405


# --- the log for auditors ----------------------------------------------------------------------


def test_auditor_filters_the_reveal_log_by_user_and_day(client, owned):
    other = lead_at_dealer(Status.FOLLOWING)
    mobile_reveal(actor=owned.advisor.user, lead_id=owned.pk, reason="call", source="dealer")
    mobile_reveal(actor=other.advisor.user, lead_id=other.pk, reason="verify", source="dealer")
    client.force_login(staff_in(ROLE_HQ_AUDITOR, "auditor"))
    today = timezone.localdate()
    url = reverse("admin:leads_mobilereveal_changelist")

    page = client.get(
        url,
        {
            "user__id__exact": owned.advisor.user.pk,
            "created_at__year": today.year,
            "created_at__month": today.month,
            "created_at__day": today.day,
        },
    )

    text = page.content.decode()
    assert page.status_code == 200
    assert f"#{owned.pk}" in text and f"#{other.pk}" not in text


def test_auditor_may_not_change_or_delete_reveal_records(client, owned):
    reveal = mobile_reveal(
        actor=owned.advisor.user, lead_id=owned.pk, reason="call", source="dealer"
    )
    client.force_login(staff_in(ROLE_HQ_AUDITOR, "auditor"))

    delete = client.get(reverse("admin:leads_mobilereveal_delete", args=[reveal.pk]))

    assert delete.status_code == 403


def _reveals(user, lead, count, at):
    MobileReveal.objects.bulk_create(
        MobileReveal(
            user=user, lead=lead, customer=lead.customer, reason="call", source="dealer",
            created_at=at,
        )
        for _ in range(count)
    )  # fmt: skip


def test_a_user_revealing_far_more_than_usual_is_flagged(owned):
    user = owned.advisor.user
    today = timezone.localtime().replace(hour=10)
    for days_ago in range(1, 11):
        _reveals(user, owned, 5, today - datetime.timedelta(days=days_ago))
    _reveals(user, owned, 60, today)

    rows = reveal_daily_summary(day_from=today.date(), day_to=today.date())

    assert [(r.count, r.flagged) for r in rows] == [(60, True)]
    assert rows[0].baseline == pytest.approx(50 / 30, abs=0.1)


def test_a_user_revealing_as_usual_is_not_flagged(owned):
    user = owned.advisor.user
    today = timezone.localtime().replace(hour=10)
    for days_ago in range(1, 31):
        _reveals(user, owned, 25, today - datetime.timedelta(days=days_ago))
    _reveals(user, owned, 30, today)

    rows = reveal_daily_summary(day_from=today.date(), day_to=today.date())

    assert [(r.count, r.flagged) for r in rows] == [(30, False)]


def test_daily_summary_page_marks_the_flagged_day(client, owned):
    _reveals(owned.advisor.user, owned, 40, timezone.localtime().replace(hour=10))
    client.force_login(staff_in(ROLE_HQ_AUDITOR, "auditor"))

    page = client.get(reverse("admin:leads_mobilereveal_daily"))

    assert page.status_code == 200 and "异常：远多于平时" in page.content.decode()


# --- consent on every handing of data to a dealer ------------------------------------------------


def test_dispatch_without_consent_is_refused_by_the_service(hq_admin):
    dealer = DealerFactory()
    lead = LeadFactory(status=Status.QUALIFIED, dealer=dealer, qualified_at=timezone.now())

    with pytest.raises(InvalidTransition, match="未同意"):
        lead_dispatch(lead_id=lead.pk, actor=hq_admin)

    lead.refresh_from_db()
    assert lead.status == Status.QUALIFIED and lead.dispatched_at is None


def test_dispatch_with_consent_to_another_dealer_is_refused(hq_admin):
    dealer = DealerFactory()
    lead = LeadFactory(
        status=Status.QUALIFIED,
        dealer=dealer,
        consent_dealer=DealerFactory(),
        consent_at=timezone.now(),
        qualified_at=timezone.now(),
    )

    with pytest.raises(InvalidTransition):
        lead_dispatch(lead_id=lead.pk, actor=hq_admin)


def test_dispatch_event_shows_the_consent_it_rests_on(hq_admin):
    dealer = DealerFactory(name="测试一店")
    lead = LeadFactory(
        status=Status.QUALIFIED,
        dealer=dealer,
        consent_dealer=dealer,
        consent_at=timezone.now(),
        consent_note="坐席外呼确认",
        qualified_at=timezone.now(),
    )

    lead_dispatch(lead_id=lead.pk, actor=hq_admin)

    event = LeadEvent.objects.get(lead=lead, kind=LeadEvent.Kind.DISPATCHED)
    assert event.data["consent"]["dealer_id"] == dealer.pk
    assert event.data["consent"]["note"] == "坐席外呼确认"
    shown = [e.detail for e in lead_timeline(lead) if "依据客户同意" in e.detail]
    assert shown and "测试一店" in shown[0] and "坐席外呼确认" in shown[0]


def test_transfer_without_a_consent_basis_is_refused(hq_admin, owned):
    with pytest.raises(ValidationFailed, match="同意"):
        lead_transfer(
            lead_id=owned.pk,
            to_dealer_id=DealerFactory().pk,
            actor=hq_admin,
            reason="就近服务",
            consent_basis=" ",
        )

    owned.refresh_from_db()
    assert owned.consent_dealer_id == owned.dealer_id


def test_transfer_records_the_consent_to_the_new_dealer_on_its_event(hq_admin, owned):
    target = DealerFactory()

    lead_transfer(
        lead_id=owned.pk,
        to_dealer_id=target.pk,
        actor=hq_admin,
        reason="就近服务",
        consent_basis="客户来电同意转店",
    )

    owned.refresh_from_db()
    event = LeadEvent.objects.get(lead=owned, kind=LeadEvent.Kind.TRANSFERRED)
    assert owned.consent_dealer_id == target.pk and owned.consent_note == "客户来电同意转店"
    assert event.data["consent"]["dealer_id"] == target.pk


# --- region scoping and roles ----------------------------------------------------------------


def test_region_manager_sees_only_their_regions_leads_in_the_admin(client):
    north, south = RegionFactory(code="N1"), RegionFactory(code="S1", name="华南大区")
    mine = lead_at_dealer(Status.FOLLOWING, dealer=DealerFactory(region=north))
    theirs = lead_at_dealer(Status.FOLLOWING, dealer=DealerFactory(region=south))
    manager = staff_in(ROLE_REGION_MANAGER, "region")
    RegionManager.objects.create(user=manager, region=north)
    client.force_login(manager)

    listing = client.get(reverse("admin:leads_lead_changelist")).content.decode()
    other = client.get(reverse("admin:leads_lead_change", args=[theirs.pk]))

    assert reverse("admin:leads_lead_change", args=[mine.pk]) in listing
    assert reverse("admin:leads_lead_change", args=[theirs.pk]) not in listing
    assert other.status_code == 302 and other["Location"] == reverse("admin:index")


def test_region_manager_sees_only_their_regions_dealers(client):
    north, south = RegionFactory(code="N1"), RegionFactory(code="S1", name="华南大区")
    DealerFactory(region=north, name="北方店")
    DealerFactory(region=south, name="南方店")
    manager = staff_in(ROLE_REGION_MANAGER, "region")
    RegionManager.objects.create(user=manager, region=north)
    client.force_login(manager)

    text = client.get(reverse("admin:dealers_dealer_changelist")).content.decode()

    assert "北方店" in text and "南方店" not in text


def test_setup_roles_is_idempotent_and_syncs_dcc_into_their_group():
    dcc = AdvisorFactory(role="dcc")
    dcc.user.groups.clear()

    call_command("setup_roles", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("setup_roles", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert list(dcc.user.groups.values_list("name", flat=True)) == [ROLE_DCC]
    assert Group.objects.filter(name=ROLE_DCC).count() == 1


def test_agent_sees_no_lead_list_customers_or_raw_leads(client):
    client.force_login(staff_in(ROLE_HQ_AGENT, "agent"))

    codes = [
        client.get(reverse(name)).status_code
        for name in (
            "admin:leads_lead_changelist",
            "admin:leads_customer_changelist",
            "admin:leads_rawlead_changelist",
        )
    ]

    assert codes == [403, 403, 403]
    assert client.get(reverse("admin:leads_cleansingqueuelead_changelist")).status_code == 200


@pytest.mark.parametrize("role", [ROLE_HQ_OPS, ROLE_HQ_AUDITOR])
def test_read_only_roles_see_no_transition_buttons(client, role):
    lead = LeadFactory(status=Status.QUALIFIED)
    client.force_login(staff_in(role, "reader"))

    page = client.get(reverse("admin:leads_lead_change", args=[lead.pk]))

    assert page.status_code == 200 and "_fsm_transition_to" not in page.content.decode()


def test_dispatch_event_names_who_recorded_the_consent(hq_admin):
    dealer = DealerFactory()
    agent = UserFactory(username="chen", first_name="陈静")
    lead = LeadFactory(
        status=Status.QUALIFIED,
        dealer=dealer,
        consent_dealer=dealer,
        consent_at=timezone.now(),
        consent_by=agent,
        qualified_at=timezone.now(),
    )

    lead_dispatch(lead_id=lead.pk, actor=hq_admin)

    event = LeadEvent.objects.get(lead=lead, kind=LeadEvent.Kind.DISPATCHED)
    assert event.data["consent"]["by"] == "陈静"


def test_transfer_merging_into_the_new_dealers_lead_records_the_consent(hq_admin, owned):
    target = DealerFactory()
    open_there = lead_at_dealer(Status.FOLLOWING, dealer=target, customer=owned.customer)

    lead_transfer(
        lead_id=owned.pk,
        to_dealer_id=target.pk,
        actor=hq_admin,
        reason="就近服务",
        consent_basis="客户来电同意转店",
    )

    event = LeadEvent.objects.get(lead=open_there, kind=LeadEvent.Kind.MERGED)
    assert event.data["consent"]["dealer_id"] == target.pk
    assert "客户来电同意转店" in event.data["consent"]["note"]


# --- the review's findings -----------------------------------------------------------------


def test_search_never_matches_a_prefix_of_the_number(client, hq_admin, owned):
    client.force_login(hq_admin)
    url = reverse("admin:leads_lead_changelist")
    link = reverse("admin:leads_lead_change", args=[owned.pk])

    by_prefix = client.get(url, {"q": MOBILE[:7]}).content.decode()
    by_suffix = client.get(url, {"q": MOBILE[-4:]}).content.decode()
    by_number = client.get(url, {"q": "139 8765 4321"}).content.decode()

    assert link not in by_prefix and link in by_suffix and link in by_number


@pytest.mark.parametrize("lookup", ["mobile__startswith", "mobile__regex"])
def test_url_filters_on_the_mobile_are_refused(hq_admin, owned, lookup):
    from django.test import Client

    client = Client(raise_request_exception=False)
    client.force_login(hq_admin)

    response = client.get(reverse("admin:leads_customer_changelist"), {lookup: "139"})

    assert response.status_code == 400  # Django's "disallowed lookup" (SuspiciousOperation)


def test_lead_page_masks_numbers_typed_into_its_reasons(client, owned):
    owned.hq_reason = "客户说换号 139 1234 5678"
    owned.save(update_fields=["hq_reason"])
    client.force_login(staff_in(ROLE_HQ_AUDITOR, "auditor"))

    text = client.get(reverse("admin:leads_lead_change", args=[owned.pk])).content.decode()

    assert "139****5678" in text and "139 1234 5678" not in text


def test_region_manager_without_regions_sees_no_lead(client, owned):
    manager = staff_in(ROLE_REGION_MANAGER, "region")  # in the group, no RegionManager row

    client.force_login(manager)
    page = client.get(reverse("admin:leads_lead_changelist")).content.decode()

    assert reverse("admin:leads_lead_change", args=[owned.pk]) not in page


def test_appointing_a_region_manager_gives_the_login_its_role(client, hq_admin):
    user = UserFactory(username="zhou", is_staff=True)
    client.force_login(hq_admin)

    client.post(
        reverse("admin:reports_regionmanager_add"),
        {"region": RegionFactory(code="E1").pk, "user": user.pk},
    )

    assert user.groups.filter(name=ROLE_REGION_MANAGER).exists()


def test_an_admin_login_can_never_act_as_dealer_staff(client, owned):
    ops = staff_in(ROLE_HQ_OPS, "ops")
    AdvisorFactory(dealer=owned.dealer, role="manager", user=ops)
    ops.refresh_from_db()

    client.force_login(ops)
    page = client.get(reverse("dealer:lead", args=[owned.pk]))

    assert page.status_code == 404 and not may_reveal(ops, owned)


def test_agent_reveals_a_lead_drawn_for_a_supervision_call_back(owned):
    from leads.models import SupervisionSample

    agent = staff_in(ROLE_HQ_AGENT, "agent")
    assert not may_reveal(agent, owned)
    SupervisionSample.objects.create(
        kind="dispatched",
        period_start=timezone.localdate(),
        period_end=timezone.localdate(),
        lead=owned,
        dealer=owned.dealer,
    )

    assert may_reveal(agent, owned)


def test_agent_may_not_reveal_a_lead_closed_at_hq():
    lead = LeadFactory(status=Status.INVALID, customer=CustomerFactory(mobile=MOBILE))

    assert not may_reveal(staff_in(ROLE_HQ_AGENT, "agent"), lead)


def test_revealed_number_is_not_kept_by_the_browser_cache(client, owned):
    client.force_login(owned.advisor.user)
    location = reveal_post(client, reverse("dealer:lead_reveal", args=[owned.pk]))["Location"]

    response = client.get(location)

    assert "no-store" in response["Cache-Control"]
