from django.urls import path

from dealers.views import pages

app_name = "dealer"

urlpatterns = [
    path("", pages.home, name="home"),
    path("login/", pages.DealerLoginView.as_view(), name="login"),
    path("logout/", pages.DealerLogoutView.as_view(), name="logout"),
    path("inbox/", pages.inbox_view, name="inbox"),
    path("team/", pages.team_view, name="team"),
    path("defeats/", pages.defeats_view, name="defeats"),
    path("leads/", pages.leads_view, name="leads"),
    path("leads/<int:lead_id>/", pages.lead_view, name="lead"),
    path("settings/", pages.settings_view, name="settings"),
    path("today/", pages.today_view, name="today"),
    path("pool/", pages.pool_view, name="pool"),
]
