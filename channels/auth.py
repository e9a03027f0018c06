"""REST authentication of channels: `Authorization: Token <key>` (or Bearer), one per channel."""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling

from channels.models import ChannelToken
from channels.services import token_hash


class ChannelClient:
    """The caller of the channel API: a channel, not a person."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, channel):
        self.channel = channel
        self.pk = channel.pk

    def __str__(self) -> str:
        return self.channel.code


class ChannelTokenAuthentication(authentication.BaseAuthentication):
    keywords = ("token", "bearer")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower().decode(errors="ignore") not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("令牌格式不正确。"))
        try:
            key = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("令牌格式不正确。")) from None
        token = (
            ChannelToken.objects.select_related("channel__parent__parent")
            .filter(key_hash=token_hash(key))
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed(_("令牌无效。"))
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
            ChannelToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return ChannelClient(token.channel), token

    def authenticate_header(self, request):
        return "Token"


class IsActiveChannel(permissions.BasePermission):
    message = _("渠道已停用，不能调用接口。")

    def has_permission(self, request, view):
        client = request.user
        if not isinstance(client, ChannelClient):
            raise exceptions.NotAuthenticated(_("需要渠道令牌（Authorization: Token <令牌>）。"))
        return client.channel.is_active


class ChannelRateThrottle(throttling.SimpleRateThrottle):
    """Per-channel request rate (settings: REST_FRAMEWORK DEFAULT_THROTTLE_RATES["channel"])."""

    scope = "channel"

    def get_cache_key(self, request, view):
        client = request.user
        ident = client.pk if isinstance(client, ChannelClient) else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ChannelTokenScheme(OpenApiAuthenticationExtension):
    target_class = ChannelTokenAuthentication
    name = "channelToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "渠道令牌：`Authorization: Token <令牌>`（python manage.py channel_token CODE）"
            ),
        }
