"""Login lockout: too many failed logins lock the account, or the address they come from.

- `LOGIN_LOCKOUT_FAILURES` failures of one username within `LOGIN_LOCKOUT_MINUTES` lock that
  username until `LOGIN_LOCKOUT_MINUTES` after its last failure (guessing one password);
- `LOGIN_LOCKOUT_IP_FAILURES` failures from one address in the same window lock the address
  (trying one password on many accounts).

A failure is recorded from Django's `user_login_failed` signal, a successful login clears the
username's failures (`user_logged_in`); both receivers are connected in `LeadsConfig.ready()`.
The backend refuses a locked login whatever the password; the login forms say so in words.
Attempts refused because of a lock are not recorded: the lock runs from the failure that set
it, so the time the message announces holds.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from unfold.forms import AuthenticationForm as UnfoldAuthenticationForm

from leads.models import LoginFailure


@dataclass(frozen=True)
class Lock:
    """A lock in force: on the username ("username") or on the address ("ip"), until when."""

    kind: str
    until: datetime

    @property
    def minutes_left(self) -> int:
        """Whole minutes until the lock ends, rounded up (at least 1)."""
        seconds = (self.until - timezone.now()).total_seconds()
        return max(1, math.ceil(seconds / 60))


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or behind a proxy the last address of
    `CLIENT_IP_HEADER` (the one the proxy itself appended). None when unknown or malformed."""
    if request is None:
        return None
    header = getattr(settings, "CLIENT_IP_HEADER", "")
    forwarded = request.META.get(header, "") if header else ""
    raw = forwarded.split(",")[-1].strip() if forwarded else request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


def _window() -> timedelta:
    return timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)


def _lock_until(failures, threshold: int) -> datetime | None:
    """When the lock set by these failures ends: the last failure plus the window, provided
    `threshold` failures fell within one window ending at it; None when no lock is in force."""
    if threshold <= 0:
        return None
    latest = list(failures.order_by("-created_at").values_list("created_at", flat=True)[:threshold])
    if len(latest) < threshold:
        return None
    last, oldest = latest[0], latest[-1]
    until = last + _window()
    if last - oldest > _window() or until <= timezone.now():
        return None
    return until


def login_lock(*, username: str | None, ip: str | None) -> Lock | None:
    """The lock in force on this username or this address, the later-ending one if both."""
    locks = []
    if username:
        until = _lock_until(
            LoginFailure.objects.filter(username=username), settings.LOGIN_LOCKOUT_FAILURES
        )
        if until:
            locks.append(Lock("username", until))
    if ip:
        until = _lock_until(LoginFailure.objects.filter(ip=ip), settings.LOGIN_LOCKOUT_IP_FAILURES)
        if until:
            locks.append(Lock("ip", until))
    return max(locks, key=lambda lock: lock.until, default=None)


def login_failure_record(*, username: str, ip: str | None) -> LoginFailure | None:
    """Count one failed login, unless it was refused by a lock already in force."""
    username = (username or "")[: LoginFailure._meta.get_field("username").max_length]
    if login_lock(username=username, ip=ip):
        return None
    return LoginFailure.objects.create(username=username, ip=ip)


def login_failures_clear(*, usernames: Iterable[str]) -> int:
    """Forget the failures of these usernames (a successful login, or an admin's unlock)."""
    deleted, _by_model = LoginFailure.objects.filter(username__in=list(usernames)).delete()
    return deleted


# --- signal receivers (connected in LeadsConfig.ready) ---


def on_user_login_failed(sender, credentials, request=None, **kwargs) -> None:
    field = get_user_model().USERNAME_FIELD
    username = credentials.get(field) or credentials.get("username") or ""
    login_failure_record(username=str(username), ip=client_ip(request))


def on_user_logged_in(sender, request, user, **kwargs) -> None:
    login_failures_clear(usernames=[user.get_username()])


# --- enforcement ---


class LockoutBackend(ModelBackend):
    """ModelBackend that refuses a locked username or address, even with the right password.

    PermissionDenied stops `authenticate()` from trying any other backend."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if login_lock(username=username, ip=client_ip(request)):
            raise PermissionDenied
        return super().authenticate(request, username=username, password=password, **kwargs)


LOCK_MESSAGES = {
    "username": _("登录失败次数过多，账号已临时锁定，请 %(minutes)s 分钟后再试。"),
    "ip": _("该网络地址登录失败次数过多，已临时锁定，请 %(minutes)s 分钟后再试。"),
}


class LockoutFormMixin:
    """The lock as a message on the login page: checked before the password, and again right
    after a failure so the attempt that sets the lock already says so."""

    def clean(self):
        self._refuse_if_locked()
        try:
            return super().clean()
        except ValidationError:
            self._refuse_if_locked()
            raise

    def _refuse_if_locked(self) -> None:
        username = self.cleaned_data.get("username")
        if not username:
            return
        lock = login_lock(username=username, ip=client_ip(self.request))
        if lock:
            raise ValidationError(
                LOCK_MESSAGES[lock.kind], code="locked", params={"minutes": lock.minutes_left}
            )


class LoginForm(LockoutFormMixin, AuthenticationForm):
    """The dealer pages' login."""


class AdminLoginForm(LockoutFormMixin, UnfoldAuthenticationForm):
    """The admin's login, on unfold's form so the page keeps its styling."""


def login_failures_purge(*, now=None) -> int:
    """Delete failed-login records older than LOGIN_FAILURES_KEEP_DAYS (personal data kept no
    longer than needed); returns how many. Idempotent."""
    keep = int(getattr(settings, "LOGIN_FAILURES_KEEP_DAYS", 30))
    cutoff = (now or timezone.now()) - timedelta(days=keep)
    deleted, _rows = LoginFailure.objects.filter(created_at__lt=cutoff).delete()
    return deleted
