"""The project's URLs plus the dealer dashboard where the lead engineer will mount it
(config/urls.py is not the reports app's to edit)."""

from django.urls import include, path

from config.urls import urlpatterns as project

urlpatterns = [path("dealer/reports/", include("reports.urls")), *project]
