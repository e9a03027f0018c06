"""One lead absorbs another of the same customer (uniqueness rule): used when HQ cleansing
confirms a dealer where the customer already has a lead, and when HQ transfers a lead."""

from django.contrib.contenttypes.models import ContentType
from django_fsm_log.models import StateLog

from leads.models import (
    REACTIVATABLE_STATUSES,
    CallRecord,
    CustomerNotice,
    FollowUp,
    Grade,
    Lead,
    LeadEvent,
    Notification,
    NurtureTouch,
    RawLead,
    SupervisionSample,
)
from leads.services.audit import consent_record, lead_event_record
from leads.services.transitions import changed_fields, run_transition, save_changes, snapshot

HISTORY = (
    RawLead,
    LeadEvent,
    CallRecord,
    NurtureTouch,
    Notification,
    FollowUp,
    CustomerNotice,
    SupervisionSample,
)


def lead_merge_into(
    source: Lead,
    target: Lead,
    *,
    actor,
    reason: str,
    now,
    consent_note: str = "",
    grade: str = "",
) -> bool:
    """Move the whole history of `source` (raw leads, events, calls, follow-ups, transition
    log) into `target`, reactivate `target` when it was closed (激), and delete `source`.
    Both leads must be locked by the caller. Returns whether `target` was reactivated."""
    before = snapshot(target)
    target.duplicate_count += 1 + source.duplicate_count
    target.last_activity_at = now
    if consent_note and not target.has_dealer_consent():
        target.consent_dealer, target.consent_at = target.dealer, now
        target.consent_by = actor if getattr(actor, "pk", None) else None
        target.consent_note = consent_note
    if target.intended_model_id is None and source.intended_model_id:
        target.intended_model_id = source.intended_model_id
    fields: list[str] = []
    reactivated = target.status in REACTIVATABLE_STATUSES
    if reactivated:
        fields += run_transition(
            target, "reactivate", actor=actor, kind=LeadEvent.Kind.REACTIVATED, reason=reason
        )
        if target.grade == Grade.F:
            fields += run_transition(
                target, "grade_reactivated", actor=actor, kind=LeadEvent.Kind.GRADE, reason=reason
            )
    if grade and grade != target.grade and target.grade not in (Grade.O, Grade.F):
        fields += run_transition(
            target, "set_grade", actor=actor, kind=LeadEvent.Kind.GRADE, params={"grade": grade}
        )
    for model in HISTORY:
        model.objects.filter(lead=source).update(lead=target)
    StateLog.objects.filter(
        content_type=ContentType.objects.get_for_model(Lead), object_id=source.pk
    ).update(object_id=target.pk)
    data = {"merged_lead_id": source.pk, "from_dealer_id": source.dealer_id}
    if consent_note and target.dealer_id != source.dealer_id:
        # Another dealer receives the customer's history: the consent it rests on (the one
        # the target already had, or the basis given now), with the basis given now.
        consent = consent_record(target, dealer=target.dealer, actor=None)
        if consent_note not in consent["note"]:
            consent["note"] = "；".join(p for p in (consent["note"], consent_note) if p)
        data["consent"] = consent
    lead_event_record(
        lead=target,
        kind=LeadEvent.Kind.MERGED,
        action="merge",
        actor=actor,
        reason=reason,
        data=data,
        at=now,
    )
    save_changes(target, fields + changed_fields(before, target))
    source.delete()
    return reactivated
