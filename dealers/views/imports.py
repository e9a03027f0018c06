"""Dealer Excel upload: download the dealer's template, upload, preview every row, confirm,
follow a background import, download the result report. Managers and DCC staff only; every
row goes to the uploader's dealer through the dealer-upload channel."""

from django import forms
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from dealers.access import dealer_page
from dealers.views.common import run_service
from leads.admin.imports import XLSX, _attachment, report_response
from leads.imports.reader import background_rows, max_bytes, max_rows
from leads.imports.selectors import import_job_view, import_jobs_of_dealer
from leads.imports.services import (
    lead_import_confirm,
    lead_import_discard,
    lead_import_retry,
    lead_import_upload,
)
from leads.imports.template import lead_template_build, template_filename
from leads.models import ImportJob


class DealerUploadForm(forms.Form):
    file = forms.FileField(
        label=_("线索文件（.xlsx 或 .csv）"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )


def _job(request, job_id) -> ImportJob:
    return get_object_or_404(
        ImportJob.objects.select_related("channel", "dealer", "created_by"),
        pk=job_id,
        dealer_id=request.member.dealer_id,
        kind=ImportJob.Kind.DEALER,
    )


@dealer_page(managers_only=True)
def import_view(request):
    form = DealerUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        jobs = []
        if run_service(
            request,
            lambda: jobs.append(
                lead_import_upload(
                    fileobj=upload,
                    name=upload.name,
                    dealer=request.member.dealer,
                    user=request.user,
                )
            ),
        ):
            return redirect("dealer:import_job", job_id=jobs[0].pk)
    context = {
        "form": form,
        "jobs": import_jobs_of_dealer(request.member.dealer)[:20],
        "max_rows": max_rows(),
        "max_mb": max_bytes() // 1024 // 1024,
        "background_rows": background_rows(),
    }
    return TemplateResponse(request, "dealer/import.html", context)


@dealer_page(managers_only=True)
def import_template_view(request):
    response = HttpResponse(content_type=XLSX)
    lead_template_build(response, dealer=request.member.dealer)
    return _attachment(response, template_filename(dealer=request.member.dealer))


@dealer_page(managers_only=True)
def import_job_view_page(request, job_id):
    job = _job(request, job_id)
    view = import_job_view(
        job, outcome=request.GET.get("outcome", ""), page=request.GET.get("page", 1), per_page=30
    )
    return TemplateResponse(request, "dealer/import_job.html", {"job": job, "view": view})


def _act(service, success):
    @dealer_page(managers_only=True)
    @require_POST
    def view(request, job_id):
        job = _job(request, job_id)
        run_service(request, lambda: service(job_id=job.pk, user=request.user), success=success)
        return redirect("dealer:import_job", job_id=job.pk)

    return view


import_confirm_view = _act(lead_import_confirm, _("已确认导入。"))
import_discard_view = _act(lead_import_discard, _("已放弃这次上传。"))
import_retry_view = _act(lead_import_retry, _("已重新开始导入。"))


@dealer_page(managers_only=True)
def import_report_view(request, job_id):
    job = _job(request, job_id)
    if job.status in (ImportJob.Status.PREVIEWING, ImportJob.Status.DISCARDED):
        raise Http404
    return report_response(job, request.user)
