from django.urls import path

from leads.api.views import LeadIntakeApi, LeadIntakeBatchApi, LeadStatusApi

app_name = "leads-api"

urlpatterns = [
    path("leads/", LeadIntakeApi.as_view(), name="intake"),
    path("leads/batch/", LeadIntakeBatchApi.as_view(), name="intake-batch"),
    path("leads/<str:external_id>/status/", LeadStatusApi.as_view(), name="status"),
]
