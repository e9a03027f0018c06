"""Who sees which dealers in the reports: HQ everything, a region manager their regions'
dealers, a dealer's manager or DCC their own dealer (the dealer pages' rule), anyone else
nothing."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from dealers.models import Advisor, Dealer

ALL = "all"
REGION = "region"
DEALER = "dealer"
NONE = "none"

# Dealer staff who see their dealer's reports (a sales advisor sees only their own leads).
DEALER_REPORT_ROLES = (Advisor.Role.MANAGER, Advisor.Role.DCC)


@dataclass(frozen=True)
class ReportScope:
    kind: str
    dealer_ids: frozenset[int] = frozenset()  # ignored when kind is ALL
    region_ids: frozenset[int] = frozenset()
    label: str = ""

    @property
    def is_network(self) -> bool:
        return self.kind == ALL

    @property
    def allowed(self) -> bool:
        return self.kind != NONE

    def covers_dealer(self, dealer_id: int | None) -> bool:
        if self.kind == ALL:
            return True
        return dealer_id is not None and dealer_id in self.dealer_ids

    def dealers(self):
        """The dealers this scope may pick from, for filters."""
        qs = Dealer.objects.select_related("region").order_by("region__code", "code")
        return qs if self.kind == ALL else qs.filter(pk__in=self.dealer_ids)


def report_scope_for(user) -> ReportScope:
    """The reports' row scope of a user (same rule as the dealer pages for dealer staff)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return ReportScope(NONE)
    if user.is_superuser:
        return ReportScope(ALL, label=_("全网"))
    from reports.models import RegionManager

    regions = list(
        RegionManager.objects.filter(user=user).select_related("region").order_by("region__code")
    )
    if not regions and _in_region_manager_role(user):
        # A region manager whose regions were taken away sees nothing, never the network.
        return ReportScope(NONE)
    if regions:
        region_ids = frozenset(r.region_id for r in regions)
        dealer_ids = frozenset(
            Dealer.objects.filter(region_id__in=region_ids).values_list("pk", flat=True)
        )
        return ReportScope(
            REGION,
            dealer_ids=dealer_ids,
            region_ids=region_ids,
            label="、".join(r.region.name for r in regions),
        )
    advisor = Advisor.objects.filter(user=user, is_active=True).select_related("dealer").first()
    if advisor is not None:
        if advisor.role in DEALER_REPORT_ROLES:
            return ReportScope(
                DEALER,
                dealer_ids=frozenset([advisor.dealer_id]),
                region_ids=frozenset([advisor.dealer.region_id]),
                label=advisor.dealer.name,
            )
        return ReportScope(NONE)
    if user.is_staff:
        return ReportScope(ALL, label=_("全网"))
    return ReportScope(NONE)


def _in_region_manager_role(user) -> bool:
    from leads.services.roles import ROLE_REGION_MANAGER

    return user.groups.filter(name=ROLE_REGION_MANAGER).exists()
