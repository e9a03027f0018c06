"""The dealer dashboard on the dealer pages: the same figures as HQ's, for one dealer, compared
by advisor; every count opens the dealer's leads behind it, every table exports to xlsx."""

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.template.loader import select_template
from django.urls import NoReverseMatch, reverse

from dealers.models import Dealer
from reports import pages
from reports.dashboard import build_dashboard
from reports.drill import DealerLinks, cell_from_params
from reports.forms import ReportFilterForm
from reports.scope import report_scope_for

# The dealer pages' shell when it is installed, else a page of our own.
BASE_TEMPLATES = ["dealer/base.html", "reports/dealer_standalone.html"]


def _login_url() -> str:
    try:
        return reverse("dealer:login")
    except NoReverseMatch:
        return reverse("admin:login")


def _dealer_in_scope(request, dealer):
    """The dealer shown (the user's own when not given) and the user's scope; 404 outside it,
    as the dealer pages answer."""
    scope = report_scope_for(request.user)
    if dealer is None:
        member = getattr(request, "member", None)
        if member is None:
            from reports.scope import DEALER

            if scope.kind != DEALER:
                raise Http404
            dealer = Dealer.objects.get(pk=next(iter(scope.dealer_ids)))
        else:
            dealer = member.dealer
    elif not isinstance(dealer, Dealer):
        dealer = get_object_or_404(Dealer, pk=dealer)
    if not scope.covers_dealer(dealer.pk):
        raise Http404
    return dealer, scope


def _base_context(request, dealer, scope) -> dict:
    form = ReportFilterForm(request.GET, scope=scope, fixed_dealer=dealer)
    return {
        "base_template": select_template(BASE_TEMPLATES),
        "dealer": dealer,
        "form": form,
        "q": form.query(),
    }


def dealer_dashboard(request, dealer=None):
    """The KPI dashboard of one dealer (the viewer's own by default)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), _login_url())
    dealer, scope = _dealer_in_scope(request, dealer)
    context = _base_context(request, dealer, scope)
    q = context["q"]
    links = DealerLinks()
    key = request.GET.get("export")
    if key:
        return pages.export(request, q, links, key)
    report = build_dashboard(q, links)
    for figure in report["figures"]:
        figure.export_url = pages.export_url(request, figure.table.key)
    context.update(
        {
            "report": report,
            "freshness": pages.freshness(),
            "can_export": True,
            "kpis_export_url": pages.export_url(request, "kpis"),
        }
    )
    return render(request, "reports/dealer_dashboard.html", context)


def dealer_report_leads(request, dealer=None):
    """The dealer's leads behind one figure of its dashboard (phones masked)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), _login_url())
    dealer, scope = _dealer_in_scope(request, dealer)
    context = _base_context(request, dealer, scope)
    try:
        cell = cell_from_params(request.GET, scope, frozenset([dealer.pk]))
    except (ValueError, PermissionDenied) as error:
        # The dealer pages never hint that another dealer's rows exist: 404, not 403.
        raise Http404 from error
    try:
        reverse("dealer:lead", args=[1])
        lead_url_name = "dealer:lead"
    except NoReverseMatch:
        lead_url_name = ""
    context.update({**pages.drill_page(request, cell), "lead_url_name": lead_url_name})
    return render(request, "reports/dealer_leads.html", context)
