"""The lead services: each enforces its rule, saves, and writes the audit (LeadEvent + StateLog)."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django_fsm_log.models import StateLog

from config.errors import ConflictError, DomainError, InvalidTransition, ValidationFailed
from dealers.models import Dealer
from leads import services
from leads.models import FollowUp, Grade, Lead, LeadEvent, Status
from tests.factories import (
    AdvisorFactory,
    DealerFactory,
    LeadFactory,
    UserFactory,
    lead_at_dealer,
)

pytestmark = pytest.mark.django_db


def _user_with(*codenames):
    user = UserFactory()
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def test_every_service_transition_writes_event_and_state_log(hq_admin):
    lead = LeadFactory(status=Status.NEW)

    services.lead_send_to_cleansing(lead_id=lead.pk, actor=hq_admin, reason="媒体渠道")

    event = LeadEvent.objects.get(lead=lead)
    log = StateLog.objects.get(
        content_type=ContentType.objects.get_for_model(Lead), object_id=lead.pk
    )
    assert (event.from_value, event.to_value, event.actor, event.reason) == (
        "new",
        "cleansing",
        hq_admin,
        "媒体渠道",
    )
    assert (log.source_state, log.state, log.transition, log.by) == (
        "new",
        "cleansing",
        "send_to_cleansing",
        hq_admin,
    )


def test_refused_transition_raises_translated_error_and_writes_nothing(hq_admin):
    lead = LeadFactory(status=Status.NEW)

    with pytest.raises(InvalidTransition) as error:
        services.lead_approve_defeat(lead_id=lead.pk, actor=hq_admin)

    assert "当前为“新建”" in str(error.value)
    assert not LeadEvent.objects.filter(lead=lead).exists()


def test_user_without_the_transition_permission_is_refused():
    lead = LeadFactory(status=Status.NEW)
    viewer = _user_with("view_lead")

    with pytest.raises(services.PermissionRefused):
        services.lead_send_to_cleansing(lead_id=lead.pk, actor=viewer)

    lead.refresh_from_db()
    assert lead.status == Status.NEW


def test_unknown_lead_gives_not_found():
    with pytest.raises(DomainError) as error:
        services.lead_nurture(lead_id=999999)

    assert error.value.code == "not_found"


def test_confirm_dealer_records_consent_and_makes_lead_qualifiable(hq_admin):
    lead = LeadFactory(status=Status.CLEANSING)
    dealer = DealerFactory()

    services.lead_confirm_dealer(
        lead_id=lead.pk, dealer_id=dealer.pk, actor=hq_admin, consent_note="电话确认"
    )
    services.lead_qualify(lead_id=lead.pk, actor=hq_admin)

    lead.refresh_from_db()
    assert lead.dealer == dealer and lead.consent_dealer == dealer
    assert lead.consent_by == hq_admin and lead.consent_at is not None
    assert lead.status == Status.QUALIFIED and lead.qualified_at is not None


def test_confirm_dealer_where_customer_already_has_a_lead_is_refused_by_uniqueness(hq_admin):
    existing = lead_at_dealer(Status.FOLLOWING)
    hq_lead = LeadFactory(status=Status.CLEANSING, customer=existing.customer)

    with pytest.raises(ConflictError) as error:
        services.lead_confirm_dealer(lead_id=hq_lead.pk, dealer_id=existing.dealer_id)

    assert f"#{existing.pk}" in str(error.value)


def test_confirm_dealer_refuses_a_suspended_dealer():
    lead = LeadFactory(status=Status.CLEANSING)
    dealer = DealerFactory(status=Dealer.Status.SUSPENDED)

    with pytest.raises(ValidationFailed):
        services.lead_confirm_dealer(lead_id=lead.pk, dealer_id=dealer.pk)


def test_qualify_without_consent_is_refused_with_the_reason():
    lead = LeadFactory(status=Status.CLEANSING)

    with pytest.raises(InvalidTransition) as error:
        services.lead_qualify(lead_id=lead.pk)

    assert "同意" in str(error.value)


def test_dispatch_to_an_exited_dealer_is_refused():
    lead = lead_at_dealer(Status.DISPATCHED)
    Lead.objects.filter(pk=lead.pk).update(status=Status.QUALIFIED, dispatched_at=None)
    Dealer.objects.filter(pk=lead.dealer_id).update(status=Dealer.Status.EXITED)

    with pytest.raises(InvalidTransition) as error:
        services.lead_dispatch(lead_id=lead.pk)

    assert "已退网" in str(error.value)


def test_dispatch_stamps_the_dispatch_time():
    lead = lead_at_dealer(Status.DISPATCHED)
    Lead.objects.filter(pk=lead.pk).update(status=Status.QUALIFIED, dispatched_at=None)

    services.lead_dispatch(lead_id=lead.pk)

    lead.refresh_from_db()
    assert lead.status == Status.DISPATCHED and lead.dispatched_at is not None


def test_assign_to_an_advisor_of_another_dealer_is_refused():
    lead = lead_at_dealer(Status.DISPATCHED)
    stranger = AdvisorFactory()

    with pytest.raises(ValidationFailed):
        services.lead_assign(lead_id=lead.pk, advisor_id=stranger.pk)


def test_assign_to_an_inactive_advisor_is_refused():
    lead = lead_at_dealer(Status.DISPATCHED)
    gone = AdvisorFactory(dealer=lead.dealer, is_active=False)

    with pytest.raises(ValidationFailed):
        services.lead_assign(lead_id=lead.pk, advisor_id=gone.pk)


def test_first_follow_up_ends_pending_first_follow_up_and_defaults_next_due_from_grade():
    lead = lead_at_dealer(Status.ASSIGNED)
    before = timezone.now()

    follow_up = services.lead_follow_up_record(
        lead_id=lead.pk, method=FollowUp.Method.PHONE, result=FollowUp.Result.REACHED, grade="H"
    )

    lead.refresh_from_db()
    assert lead.status == Status.FOLLOWING and lead.grade == Grade.H
    assert lead.first_followed_at is not None
    due = lead.next_follow_up_at - before
    assert datetime.timedelta(days=7) <= due < datetime.timedelta(days=7, minutes=1)
    assert follow_up.grade_after == Grade.H


def test_grade_cycle_edited_in_admin_changes_the_default_due_time():
    from leads.models import GradeCycle

    GradeCycle.objects.filter(grade="A").update(days=10)
    lead = lead_at_dealer(Status.FOLLOWING, grade=Grade.A)

    services.lead_follow_up_record(
        lead_id=lead.pk, method=FollowUp.Method.WECHAT, result=FollowUp.Result.REACHED
    )

    lead.refresh_from_db()
    assert (lead.next_follow_up_at - timezone.now()).days == 9


def test_order_result_closes_lead_as_ordered_with_grade_o():
    lead = lead_at_dealer(Status.TEST_DRIVE, grade=Grade.H)

    services.lead_follow_up_record(
        lead_id=lead.pk, method=FollowUp.Method.STORE, result=FollowUp.Result.ORDERED
    )

    lead.refresh_from_db()
    assert (lead.status, lead.grade) == (Status.ORDERED, Grade.O)
    assert lead.ordered_at is not None and lead.next_follow_up_at is None


def test_defeat_needs_a_reason_then_manager_approval_sets_grade_f():
    lead = lead_at_dealer(Status.FOLLOWING, grade=Grade.B)
    with pytest.raises(ValidationFailed):
        services.lead_follow_up_record(
            lead_id=lead.pk, method=FollowUp.Method.PHONE, result=FollowUp.Result.DEFEAT
        )

    services.lead_follow_up_record(
        lead_id=lead.pk,
        method=FollowUp.Method.PHONE,
        result=FollowUp.Result.DEFEAT,
        notes="已购买竞品",
    )
    services.lead_approve_defeat(lead_id=lead.pk)

    lead.refresh_from_db()
    assert (lead.status, lead.grade, lead.defeat_reason) == (Status.DEFEATED, Grade.F, "已购买竞品")


def test_rejected_defeat_goes_back_to_following_with_the_reason_audited():
    lead = lead_at_dealer(Status.DEFEAT_REQUESTED, defeat_reason="联系不上")

    services.lead_reject_defeat(lead_id=lead.pk, reason="请再跟进一次")

    lead.refresh_from_db()
    assert lead.status == Status.FOLLOWING and lead.defeat_reason == ""
    assert lead.events.get(action="reject_defeat").reason == "请再跟进一次"


def test_follow_up_on_a_lead_not_being_worked_is_refused():
    lead = lead_at_dealer(Status.DISPATCHED)

    with pytest.raises(InvalidTransition):
        services.lead_follow_up_record(
            lead_id=lead.pk, method=FollowUp.Method.PHONE, result=FollowUp.Result.REACHED
        )


def test_reactivating_a_defeated_lead_returns_it_to_the_dealer_inbox_with_flag():
    lead = lead_at_dealer(Status.DEFEATED, grade=Grade.F, defeat_reason="价格")

    services.lead_reactivate(lead_id=lead.pk, reason="客户再次留资")

    lead.refresh_from_db()
    assert (lead.status, lead.grade) == (Status.DISPATCHED, Grade.UNRATED)
    assert lead.advisor is None and "激" in lead.flags


def test_silence_then_unsilence_returns_to_the_same_stage():
    lead = lead_at_dealer(Status.INVITED)

    services.lead_silence(lead_id=lead.pk)
    services.lead_unsilence(lead_id=lead.pk)

    lead.refresh_from_db()
    assert lead.status == Status.INVITED and lead.status_before_silence == ""


def test_update_audits_each_changed_field_and_refuses_protected_ones(hq_admin):
    lead = LeadFactory(status=Status.CLEANSING)

    services.lead_update(
        lead_id=lead.pk, changes={"customer_name": "王先生", "intent": "high"}, actor=hq_admin
    )
    with pytest.raises(ValidationFailed):
        services.lead_update(lead_id=lead.pk, changes={"channel_id": 1})

    lead.refresh_from_db()
    assert lead.customer.name == "王先生" and lead.intent == "high"
    assert set(lead.events.values_list("action", flat=True)) == {"customer_name", "intent"}


def test_service_keeps_fields_written_by_others_since_the_caller_loaded_the_lead():
    lead = LeadFactory(status=Status.NEW)
    Lead.objects.filter(pk=lead.pk).update(score=55)  # written after `lead` was loaded

    services.lead_send_to_cleansing(lead_id=lead.pk)

    lead.refresh_from_db()
    assert lead.score == 55 and lead.status == Status.CLEANSING
