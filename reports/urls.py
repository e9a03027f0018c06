"""The dealer dashboard, for the dealer pages: `path("dealer/reports/", include("reports.urls"))`.

Dealer managers and DCC only (the dealer pages' own guard, 404 for anyone else)."""

from django.urls import path

from dealers.access import dealer_page
from reports import views

app_name = "reports"


@dealer_page(managers_only=True)
def dealer_dashboard_page(request):
    return views.dealer_dashboard(request, request.member.dealer)


@dealer_page(managers_only=True)
def dealer_leads_page(request):
    return views.dealer_report_leads(request, request.member.dealer)


urlpatterns = [
    path("", dealer_dashboard_page, name="dealer_dashboard"),
    path("leads/", dealer_leads_page, name="dealer_leads"),
]
