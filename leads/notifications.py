"""The inbox and the pluggable notifier. A notification row is written in the caller's
transaction; the notifier (SMS, WeChat Work, e-mail … ; logging by default) runs after commit."""

import logging

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from leads.models import Notification

logger = logging.getLogger("leads.notifications")


class LoggingNotifier:
    """The default notifier: writes one log line per notification."""

    def send(self, notification: Notification) -> None:
        logger.info(
            "notify %s lead=%s recipient=%s dealer=%s: %s",
            notification.kind,
            notification.lead_id,
            notification.recipient_id,
            notification.dealer_id,
            notification.message,
        )


def get_notifier():
    path = getattr(settings, "LEAD_NOTIFIER", "leads.notifications.LoggingNotifier")
    return import_string(path)()


def notification_send(
    *,
    kind: str,
    message: str,
    lead=None,
    lead_id: int | None = None,
    recipient_id: int | None = None,
    dealer_id: int | None = None,
) -> Notification:
    """Put a message in a user's or a dealer's inbox and hand it to the notifier after commit."""
    notification = Notification.objects.create(
        lead_id=lead_id if lead is None else lead.pk,
        kind=kind,
        message=message[:255],
        recipient_id=recipient_id,
        dealer_id=dealer_id,
    )
    transaction.on_commit(lambda: get_notifier().send(notification))
    return notification
