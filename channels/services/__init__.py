"""Writes to channels: the API tokens."""

import hashlib
import secrets

from django.db import transaction
from django.utils.translation import gettext as _

from channels.models import Channel, ChannelToken
from config.errors import ValidationFailed


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def channel_token_rotate(*, channel: Channel, actor=None) -> str:
    """Create or replace the API token of a level-3 channel; the plain token is returned once
    and only its hash is kept."""
    if channel.level != Channel.Level.SOURCE:
        raise ValidationFailed(_("只有三级渠道可以拥有接口令牌：%(code)s"), code=channel.code)
    key = secrets.token_urlsafe(32)
    with transaction.atomic():
        ChannelToken.objects.update_or_create(
            channel=channel,
            defaults={
                "key_hash": token_hash(key),
                "prefix": key[:8],
                "created_by": actor if getattr(actor, "pk", None) else None,
                "last_used_at": None,
            },
        )
    return key
