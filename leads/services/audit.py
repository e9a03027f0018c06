"""The audit trail: every service that changes a lead writes one LeadEvent through here."""

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django_fsm_log.models import StateLog

from leads.models import Lead, LeadEvent


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
    return LeadEvent.objects.create(
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


def lead_state_log_record(
    *, lead: Lead, transition: str, source: str, target: str, actor=None, reason: str = "", at=None
) -> StateLog:
    """The django-fsm-log row of one transition (the FSM audit), written by the service."""
    return StateLog.objects.create(
        timestamp=at or timezone.now(),
        by=actor if getattr(actor, "pk", None) else None,
        source_state=source,
        state=target,
        transition=transition,
        content_type=ContentType.objects.get_for_model(Lead),
        object_id=lead.pk,
        description=reason or None,
    )


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
