"""The audit trail: every service that changes a lead writes one LeadEvent through here."""

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django_fsm_log.models import StateLog

from leads.models import Lead, LeadEvent

# When set, audit rows are collected and written in one INSERT per table at the end of the
# operation (bulk paths such as intake); otherwise each row is written at once.
_pending: ContextVar[list | None] = ContextVar("lead_audit_pending", default=None)


@contextmanager
def audit_batched():
    """Collect the audit rows written inside the block; write them with two bulk INSERTs."""
    token = _pending.set([])
    try:
        yield
        audit_flush()
    finally:
        _pending.reset(token)


def audit_flush() -> None:
    pending = _pending.get()
    if not pending:
        return
    events = [row for row, _lead in pending if isinstance(row, LeadEvent)]
    logs = []
    for row, lead in pending:
        if isinstance(row, StateLog):
            row.object_id = lead.pk
            logs.append(row)
    pending.clear()
    LeadEvent.objects.bulk_create(events)
    StateLog.objects.bulk_create(logs)


def audit_discard(lead: Lead) -> None:
    """Drop the collected rows of a lead that was not saved after all."""
    pending = _pending.get()
    if pending:
        pending[:] = [(row, owner) for row, owner in pending if owner is not lead]


def _write(row, lead):
    pending = _pending.get()
    if pending is None:
        if isinstance(row, StateLog):
            row.object_id = lead.pk
        row.save(force_insert=True)
    else:
        pending.append((row, lead))
    return row


def lead_event_record(
    *,
    lead: Lead,
    kind: str,
    action: str,
    actor=None,
    actor_label: str = "",
    from_value: str = "",
    to_value: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
    at=None,
) -> LeadEvent:
    """Record who changed what on a lead, when, from what to what, and why."""
    if not actor_label:
        actor_label = _actor_label(actor)
    event = LeadEvent(
        lead=lead,
        kind=kind,
        action=action,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=actor_label[:100],
        from_value=str(from_value or "")[:40],
        to_value=str(to_value or "")[:40],
        reason=str(reason or "")[:255],
        data=data or {},
        created_at=at or timezone.now(),
    )
    return _write(event, lead)


def lead_state_log_record(
    *, lead: Lead, transition: str, source: str, target: str, actor=None, reason: str = "", at=None
) -> StateLog:
    """The django-fsm-log row of one transition (the FSM audit), written by the service."""
    log = StateLog(
        timestamp=at or timezone.now(),
        by=actor if getattr(actor, "pk", None) else None,
        source_state=source,
        state=target,
        transition=transition,
        content_type=ContentType.objects.get_for_model(Lead),
        description=reason or None,
    )
    return _write(log, lead)


def _actor_label(actor) -> str:
    if actor is None:
        return "系统"
    advisor = getattr(actor, "advisor", None) if _has_advisor(actor) else None
    if advisor is not None:
        return advisor.name
    return actor.get_full_name() or actor.get_username()


def _has_advisor(user) -> bool:
    try:
        return user.advisor is not None
    except Exception:  # RelatedObjectDoesNotExist: the user is HQ staff
        return False


def consent_record(lead: Lead, *, dealer=None, actor=None) -> dict[str, Any]:
    """The consent a handing of the customer's data to a dealer rests on, as stored on the
    lead at that moment (PIPL art. 23), for the DISPATCHED/TRANSFERRED event's data."""
    if dealer is None and lead.consent_dealer_id and Lead.consent_dealer.is_cached(lead):
        dealer = lead.consent_dealer
    if dealer is None and lead.dealer_id == lead.consent_dealer_id and Lead.dealer.is_cached(lead):
        dealer = lead.dealer
    by = actor if actor is not None and getattr(actor, "pk", None) else None
    if by is None and lead.consent_by_id:
        by = lead.consent_by  # loaded with the lead on the bulk paths (one query otherwise)
    at = timezone.localtime(lead.consent_at).strftime("%Y-%m-%d %H:%M") if lead.consent_at else ""
    return {
        "dealer_id": lead.consent_dealer_id,
        "dealer": dealer.name if dealer is not None else f"#{lead.consent_dealer_id}",
        "at": at,
        "by_id": lead.consent_by_id,
        "by": (by.get_full_name() or by.get_username()) if by is not None else "",
        "note": lead.consent_note,
    }
