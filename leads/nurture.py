"""Nurturing cadence and the pluggable sender of nurture touches (logs only by default)."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.utils.module_loading import import_string

from leads.models import CleansingPolicy, Grade, PurchaseTimeframe

logger = logging.getLogger("leads.nurture")

SHORT_HORIZON = {PurchaseTimeframe.MONTHS_3, PurchaseTimeframe.MONTHS_6, Grade.B, Grade.C}


def next_nurture_due(
    *, timeframe: str, grade: str, after: datetime, policy: CleansingPolicy
) -> datetime:
    """Every two weeks for a purchase 2–6 months away, monthly for 6–12 months (SPEC.md)."""
    short = timeframe in SHORT_HORIZON or grade in SHORT_HORIZON
    days = policy.nurture_short_days if short else policy.nurture_long_days
    return after + timedelta(days=days)


class LoggingSender:
    """The default sender: nothing leaves the building, one log line per touch."""

    def send(self, *, lead_id: int, medium: str, content: str) -> bool:
        logger.info("nurture touch lead=%s medium=%s: %s", lead_id, medium, content)
        return True


def get_sender():
    return import_string(getattr(settings, "NURTURE_SENDER", "leads.nurture.LoggingSender"))()
