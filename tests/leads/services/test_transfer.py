"""Manual dispatch: the four uniqueness cases, the customer notice, dealer exit."""

import pytest

from config.errors import InvalidTransition, ValidationFailed
from dealers.models import Dealer
from leads.models import CustomerNotice, Grade, Lead, Notification, RawLead, Status
from leads.services.transfer import dealer_exit, lead_transfer
from tests.factories import DealerFactory, UserFactory, lead_at_dealer

pytestmark = pytest.mark.django_db


@pytest.fixture
def hq(db):
    return UserFactory(username="hq", is_staff=True, is_superuser=True)


def test_lead_moves_when_the_new_dealer_has_none_for_the_customer(hq):
    lead = lead_at_dealer(Status.FOLLOWING)
    b = DealerFactory()

    result = lead_transfer(
        lead_id=lead.pk,
        to_dealer_id=b.pk,
        actor=hq,
        reason="跟进不力",
        consent_basis="客户来电同意",
    )

    lead.refresh_from_db()
    assert result.case == "moved" and lead.dealer == b
    assert lead.status == Status.DISPATCHED and lead.advisor is None
    assert lead.consent_dealer == b
    assert lead.events.get(action="transfer").actor == hq


def test_nothing_moves_when_the_customer_already_ordered_at_the_new_dealer(hq):
    lead = lead_at_dealer(Status.FOLLOWING)
    ordered = lead_at_dealer(Status.ORDERED, customer=lead.customer, grade=Grade.O)

    result = lead_transfer(
        lead_id=lead.pk,
        to_dealer_id=ordered.dealer_id,
        actor=hq,
        reason="客户要求",
        consent_basis="客户来电同意",
    )

    lead.refresh_from_db()
    assert result.case == "target_ordered" and "已在" in result.message
    assert lead.dealer_id != ordered.dealer_id and lead.status == Status.FOLLOWING


def test_history_merges_into_the_open_lead_at_the_new_dealer(hq):
    lead = lead_at_dealer(Status.FOLLOWING)
    RawLead.objects.create(
        channel=lead.channel,
        source="api",
        payload={},
        lead=lead,
        customer=lead.customer,
        outcome="new",
    )
    open_lead = lead_at_dealer(Status.INVITED, customer=lead.customer)

    result = lead_transfer(
        lead_id=lead.pk,
        to_dealer_id=open_lead.dealer_id,
        actor=hq,
        reason="就近服务",
        consent_basis="客户来电同意",
    )

    open_lead.refresh_from_db()
    assert result.case == "merged" and result.lead_id == open_lead.pk
    assert not Lead.objects.filter(pk=lead.pk).exists()
    assert RawLead.objects.get().lead_id == open_lead.pk
    assert open_lead.status == Status.INVITED and open_lead.duplicate_count == 1


def test_defeated_lead_at_the_new_dealer_is_reactivated_with_the_history(hq):
    lead = lead_at_dealer(Status.FOLLOWING)
    defeated = lead_at_dealer(
        Status.DEFEATED, customer=lead.customer, grade=Grade.F, defeat_reason="价格"
    )

    result = lead_transfer(
        lead_id=lead.pk,
        to_dealer_id=defeated.dealer_id,
        actor=hq,
        reason="客户回心转意",
        consent_basis="客户来电同意",
    )

    defeated.refresh_from_db()
    assert result.case == "reactivated"
    assert defeated.status == Status.DISPATCHED and defeated.is_reactivated
    assert defeated.grade == Grade.UNRATED


@pytest.mark.parametrize("case", ["moved", "target_ordered", "merged", "reactivated"])
def test_every_case_writes_a_customer_notice_and_a_message_to_the_new_dealer(hq, case):
    lead = lead_at_dealer(Status.FOLLOWING)
    b = DealerFactory()
    existing = {
        "target_ordered": dict(status=Status.ORDERED, grade=Grade.O),
        "merged": dict(status=Status.FOLLOWING),
        "reactivated": dict(status=Status.DEFEATED, grade=Grade.F, defeat_reason="价格"),
    }.get(case)
    if existing:
        lead_at_dealer(existing.pop("status"), dealer=b, customer=lead.customer, **existing)

    result = lead_transfer(
        lead_id=lead.pk, to_dealer_id=b.pk, actor=hq, reason="测试", consent_basis="客户来电同意"
    )

    assert result.case == case
    notice = CustomerNotice.objects.get()
    assert notice.to_dealer == b and b.name in notice.message
    assert Notification.objects.filter(dealer=b).count() == 1


def test_transfer_needs_a_reason(hq):
    lead = lead_at_dealer(Status.FOLLOWING)

    with pytest.raises(ValidationFailed):
        lead_transfer(
            lead_id=lead.pk,
            to_dealer_id=DealerFactory().pk,
            actor=hq,
            reason=" ",
            consent_basis="客户来电同意",
        )


def test_closed_lead_cannot_be_transferred(hq):
    lead = lead_at_dealer(Status.ORDERED, grade=Grade.O)

    with pytest.raises(InvalidTransition):
        lead_transfer(
            lead_id=lead.pk,
            to_dealer_id=DealerFactory().pk,
            actor=hq,
            reason="x",
            consent_basis="客户来电同意",
        )


def test_transfer_to_an_exited_dealer_is_refused(hq):
    lead = lead_at_dealer(Status.FOLLOWING)

    with pytest.raises(ValidationFailed):
        lead_transfer(
            lead_id=lead.pk,
            to_dealer_id=DealerFactory(status="exited").pk,
            actor=hq,
            reason="x",
            consent_basis="客户来电同意",
        )


def test_dealer_exit_moves_every_open_lead_reports_the_counts_and_closes_the_dealer(hq):
    a, b = DealerFactory(), DealerFactory()
    moving = lead_at_dealer(Status.DISPATCHED, dealer=a)
    blocked = lead_at_dealer(Status.FOLLOWING, dealer=a)
    lead_at_dealer(Status.ORDERED, dealer=b, customer=blocked.customer, grade=Grade.O)
    merging = lead_at_dealer(Status.ASSIGNED, dealer=a)
    lead_at_dealer(Status.FOLLOWING, dealer=b, customer=merging.customer)
    reviving = lead_at_dealer(Status.INVITED, dealer=a)
    lead_at_dealer(
        Status.DEFEATED, dealer=b, customer=reviving.customer, grade=Grade.F, defeat_reason="价格"
    )
    done = lead_at_dealer(Status.ORDERED, dealer=a, grade=Grade.O)

    counts = dealer_exit(
        dealer_id=a.pk, to_dealer_id=b.pk, actor=hq, reason="合同到期", consent_basis="客户来电同意"
    )

    a.refresh_from_db()
    moving.refresh_from_db()
    done.refresh_from_db()
    assert counts == {"moved": 1, "target_ordered": 1, "merged": 1, "reactivated": 1}
    assert a.status == Dealer.Status.EXITED
    assert moving.dealer == b and done.dealer == a
    assert CustomerNotice.objects.filter(kind="dealer_exit").count() == 4
