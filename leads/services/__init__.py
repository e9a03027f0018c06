"""Every write to leads goes through these services (STYLE.md: one door for writes)."""

from leads.services.audit import lead_event_record
from leads.services.customer_rights import customer_anonymise, customer_data_export
from leads.services.edit import lead_update
from leads.services.follow_up import grade_cycle_days, lead_follow_up_record
from leads.services.transitions import (
    PermissionRefused,
    lead_approve_defeat,
    lead_archive,
    lead_assign,
    lead_confirm_dealer,
    lead_dispatch,
    lead_invalidate,
    lead_lock,
    lead_nurture,
    lead_qualify,
    lead_reactivate,
    lead_recall,
    lead_reject_defeat,
    lead_release,
    lead_request_defeat,
    lead_send_to_cleansing,
    lead_set_grade,
    lead_silence,
    lead_unsilence,
)

__all__ = [
    "PermissionRefused",
    "customer_anonymise",
    "customer_data_export",
    "grade_cycle_days",
    "lead_approve_defeat",
    "lead_archive",
    "lead_assign",
    "lead_confirm_dealer",
    "lead_dispatch",
    "lead_event_record",
    "lead_follow_up_record",
    "lead_invalidate",
    "lead_lock",
    "lead_nurture",
    "lead_qualify",
    "lead_reactivate",
    "lead_recall",
    "lead_reject_defeat",
    "lead_release",
    "lead_request_defeat",
    "lead_send_to_cleansing",
    "lead_set_grade",
    "lead_silence",
    "lead_unsilence",
    "lead_update",
]
