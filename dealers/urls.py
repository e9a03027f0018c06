from django.urls import path

from dealers.views import imports, pages

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
    path("leads/<int:lead_id>/reveal/", pages.lead_reveal_view, name="lead_reveal"),
    path("settings/", pages.settings_view, name="settings"),
    path("today/", pages.today_view, name="today"),
    path("pool/", pages.pool_view, name="pool"),
    path("import/", imports.import_view, name="import"),
    path("import/template/", imports.import_template_view, name="import_template"),
    path("import/<int:job_id>/", imports.import_job_view_page, name="import_job"),
    path("import/<int:job_id>/confirm/", imports.import_confirm_view, name="import_confirm"),
    path("import/<int:job_id>/discard/", imports.import_discard_view, name="import_discard"),
    path("import/<int:job_id>/retry/", imports.import_retry_view, name="import_retry"),
    path("import/<int:job_id>/report/", imports.import_report_view, name="import_report"),
]
