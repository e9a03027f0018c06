"""Who may use the dealer pages, and what each user may see (scoping)."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import reverse

from dealers.models import Advisor
from leads.models import POOL_STATUSES, Lead

MANAGERS = (Advisor.Role.MANAGER, Advisor.Role.DCC)


def member_of(user) -> Advisor | None:
    """The active dealer staff record of a user, or None (HQ users have none)."""
    if not user.is_authenticated or user.is_staff or user.is_superuser:
        return None  # an admin (HQ) login is never dealer staff, whatever rows point at it
    try:
        member = user.advisor
    except Advisor.DoesNotExist:
        return None
    return member if member.is_active else None


def dealer_page(*, managers_only: bool = False):
    """Only dealer staff (managers/DCC for manager pages); anyone else gets a 404, never a hint
    that the page exists."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("dealer:login"))
            member = member_of(request.user)
            if member is None or (managers_only and member.role not in MANAGERS):
                raise Http404
            request.member = member
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def is_manager(member: Advisor) -> bool:
    return member.role in MANAGERS


def leads_visible_to(member: Advisor) -> QuerySet[Lead]:
    """Managers and DCC: their dealer's leads. Advisors: their own and the dealer's pool."""
    leads = Lead.objects.filter(dealer_id=member.dealer_id)
    if is_manager(member):
        return leads
    return leads.filter(Q(advisor=member) | Q(status__in=POOL_STATUSES, advisor__isnull=True))
