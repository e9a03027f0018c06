"""Row locks hold under real concurrency (PostgreSQL; SQLite ignores select_for_update)."""

import threading

import pytest
from django.db import connection

from config.errors import DomainError
from leads import services
from leads.models import Lead, Status
from tests.factories import AdvisorFactory, lead_at_dealer

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def test_two_managers_assigning_one_lead_at_once_assign_it_once():
    lead = lead_at_dealer(Status.DISPATCHED)
    advisors = [AdvisorFactory(dealer=lead.dealer) for _ in range(8)]
    barrier = threading.Barrier(len(advisors))
    outcomes: list[str] = []

    def assign(advisor):
        try:
            barrier.wait()
            services.lead_assign(lead_id=lead.pk, advisor_id=advisor.pk)
            outcomes.append("ok")
        except DomainError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=assign, args=(a,)) for a in advisors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    lead.refresh_from_db()
    assert sorted(outcomes) == ["ok"] + ["refused"] * 7
    assert lead.status == Status.ASSIGNED
    assert lead.events.filter(action="assign").count() == 1
    assert Lead.objects.filter(pk=lead.pk, advisor__isnull=False).count() == 1


def _run_parallel(count, work):
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(i):
        try:
            barrier.wait()
            work(i)
        except BaseException as error:  # noqa: BLE001 - the test counts every failure
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_fifty_parallel_submissions_of_one_mobile_make_one_customer_and_one_lead():
    from leads.models import Customer, RawLead
    from leads.services.intake import lead_intake
    from tests.factories import ChannelFactory, DealerFactory

    channel, dealer = ChannelFactory(), DealerFactory()

    errors = _run_parallel(
        50,
        lambda i: lead_intake(
            channel=channel,
            data={"external_id": f"P{i}", "mobile": "13812345678", "dealer_code": dealer.code},
            source="api",
        ),
    )

    assert errors == []
    assert Customer.objects.filter(mobile="13812345678").count() == 1
    assert Lead.objects.filter(customer__mobile="13812345678").count() == 1
    assert RawLead.objects.filter(channel=channel).count() == 50
    assert Lead.objects.get(customer__mobile="13812345678").duplicate_count == 49


def test_parallel_replays_of_one_external_id_store_one_raw_lead():
    from leads.models import RawLead
    from leads.services.intake import lead_intake
    from tests.factories import ChannelFactory

    channel = ChannelFactory()
    data = {"external_id": "SAME", "mobile": "13812340000"}

    errors = _run_parallel(
        10, lambda i: lead_intake(channel=channel, data=dict(data), source="api")
    )

    assert errors == []
    assert RawLead.objects.filter(channel=channel).count() == 1


def test_agents_claiming_in_parallel_never_get_the_same_lead():
    from leads.services.cleansing import lead_call_record, lead_claim_next
    from tests.factories import LeadFactory, UserFactory

    leads = [LeadFactory(status=Status.CLEANSING) for _ in range(40)]
    from django.contrib.auth.models import Permission

    agents = [UserFactory(is_staff=True) for _ in range(6)]
    cleanse = Permission.objects.get(codename="cleanse_lead")
    for agent in agents:
        agent.user_permissions.add(cleanse)
    handled: dict[int, list[int]] = {agent.pk: [] for agent in agents}

    def work(i):
        agent = agents[i]
        while True:
            lead = lead_claim_next(agent=agent)
            if lead is None:
                return
            handled[agent.pk].append(lead.pk)
            lead_call_record(lead_id=lead.pk, agent=agent, reached=True, intent="low")

    errors = _run_parallel(len(agents), work)

    everything = [pk for pks in handled.values() for pk in pks]
    assert errors == []
    assert sorted(everything) == sorted(lead.pk for lead in leads)
    assert Lead.objects.filter(status=Status.CLEANSING).count() == 0


def test_two_sweepers_in_parallel_dispatch_each_lead_exactly_once():
    import datetime

    from django.utils import timezone

    from leads.models import LeadEvent
    from leads.services.dispatch import leads_dispatch_due
    from tests.factories import ChannelFactory, DealerFactory, LeadFactory

    tz = timezone.get_current_timezone()
    now = datetime.datetime(2026, 11, 25, 10, 0, tzinfo=tz)
    channel = ChannelFactory(needs_cleansing=False)
    dealers = [DealerFactory() for _ in range(5)]
    for i in range(300):
        dealer = dealers[i % 5]
        LeadFactory(
            status=Status.QUALIFIED,
            dealer=dealer,
            consent_dealer=dealer,
            score=80,
            channel=channel,
            dispatch_at=now,
            eligible_at=now,
            created_at=now - datetime.timedelta(hours=1),
        )
    results: list[dict] = []

    errors = _run_parallel(2, lambda i: results.append(leads_dispatch_due(now=now, batch=40)))

    assert errors == []
    assert sum(r["dispatched"] for r in results) == 300
    assert Lead.objects.filter(status=Status.DISPATCHED).count() == 300
    assert LeadEvent.objects.filter(action="dispatch").count() == 300


def test_advisors_grabbing_the_same_lead_exactly_one_gets_it_over_many_rounds():
    from leads.services.assignment import assignment_policy_update, lead_grab
    from tests.factories import AdvisorFactory, DealerFactory, lead_at_dealer

    dealer = DealerFactory()
    assignment_policy_update(dealer_id=dealer.pk, actor=None, strategy="pool", pool_daily_cap=50)
    advisors = [AdvisorFactory(dealer=dealer) for _ in range(4)]
    for _round in range(10):
        lead = lead_at_dealer(Status.DISPATCHED, dealer=dealer)
        outcomes: list[str] = []

        def grab(i, lead=lead, outcomes=outcomes):
            try:
                lead_grab(lead_id=lead.pk, advisor=advisors[i])
                outcomes.append("got")
            except DomainError as error:
                outcomes.append("told" if "手慢了" in str(error) else str(error))

        errors = _run_parallel(len(advisors), grab)

        assert errors == []
        assert sorted(outcomes) == ["got", "told", "told", "told"]
        assert Lead.objects.get(pk=lead.pk).advisor_id is not None
