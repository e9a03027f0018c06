"""The rules the database itself enforces. They run on SQLite and, in CI, on PostgreSQL."""

import pytest
from django.db import IntegrityError, transaction

from leads.models import RawLead, Status
from tests.factories import (
    AdvisorFactory,
    ChannelFactory,
    CustomerFactory,
    DealerFactory,
    LeadFactory,
    lead_at_dealer,
)

pytestmark = pytest.mark.django_db


def test_database_refuses_second_lead_of_customer_at_same_dealer():
    dealer = DealerFactory()
    first = lead_at_dealer(dealer=dealer)

    with pytest.raises(IntegrityError), transaction.atomic():
        lead_at_dealer(dealer=dealer, customer=first.customer)


def test_database_refuses_second_lead_of_customer_at_hq():
    first = LeadFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        LeadFactory(customer=first.customer)


def test_customer_may_have_one_lead_at_each_of_several_dealers_and_one_at_hq():
    customer = CustomerFactory()

    lead_at_dealer(customer=customer)
    lead_at_dealer(customer=customer)
    LeadFactory(customer=customer)

    assert customer.leads.count() == 3


def test_database_refuses_dealer_side_status_without_dealer():
    with pytest.raises(IntegrityError), transaction.atomic():
        LeadFactory(status=Status.DISPATCHED, dealer=None)


def test_database_refuses_owned_status_without_advisor():
    with pytest.raises(IntegrityError), transaction.atomic():
        lead_at_dealer(status=Status.DISPATCHED).__class__.objects.create(
            customer=CustomerFactory(),
            channel=ChannelFactory(),
            dealer=DealerFactory(),
            status=Status.FOLLOWING,
        )


def test_database_refuses_advisor_without_dealer():
    advisor = AdvisorFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        LeadFactory(advisor=advisor, dealer=None)


def test_database_refuses_malformed_customer_mobile():
    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerFactory(mobile="12345678901")


def test_database_refuses_duplicate_external_id_within_a_channel():
    channel = ChannelFactory()
    RawLead.objects.create(channel=channel, external_id="X1", source="api", payload={})

    with pytest.raises(IntegrityError), transaction.atomic():
        RawLead.objects.create(channel=channel, external_id="X1", source="api", payload={})


def test_same_external_id_is_allowed_in_two_channels_and_blank_ids_repeat():
    a, b = ChannelFactory(), ChannelFactory()

    RawLead.objects.create(channel=a, external_id="X1", source="api", payload={})
    RawLead.objects.create(channel=b, external_id="X1", source="api", payload={})
    RawLead.objects.create(channel=a, external_id=None, source="excel", payload={})
    RawLead.objects.create(channel=a, external_id=None, source="excel", payload={})

    assert RawLead.objects.count() == 4


def test_database_refuses_routed_raw_lead_without_its_lead():
    with pytest.raises(IntegrityError), transaction.atomic():
        RawLead.objects.create(
            channel=ChannelFactory(), source="api", payload={}, outcome=RawLead.Outcome.MERGED
        )


def test_database_refuses_level_two_channel_without_parent():
    with pytest.raises(IntegrityError), transaction.atomic():
        ChannelFactory(level=2, parent=None)


def test_database_refuses_dispatch_window_closing_before_it_opens():
    import datetime

    from dealers.models import DispatchWindow

    dealer = DealerFactory(windows=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        DispatchWindow.objects.create(
            dealer=dealer, weekday=0, opens_at=datetime.time(20), closes_at=datetime.time(8)
        )
