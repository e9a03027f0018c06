"""Excel imports in the admin: template download, upload (channel chosen at upload), the
preview of every row with its outcome, confirmation, progress of background imports, the
result report; and the export audit log."""

import tempfile

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateFilter
from unfold.decorators import action, display
from unfold.widgets import UnfoldAdminFileFieldWidget, UnfoldAdminSelectWidget

from channels.models import Channel
from config.errors import DomainError
from leads.admin.exports import SafeExportMixin
from leads.admin.masked import MaskedTextAdminMixin
from leads.imports.reader import background_rows, max_bytes, max_rows
from leads.imports.report import import_report_download, report_filename
from leads.imports.selectors import import_job_view
from leads.imports.services import (
    lead_import_confirm,
    lead_import_discard,
    lead_import_retry,
    lead_import_upload,
)
from leads.imports.template import lead_template_build, template_filename
from leads.models import ExportLog, ImportJob

STATUS_COLOURS = {
    ImportJob.Status.PREVIEWING: "info",
    ImportJob.Status.PREVIEWED: "warning",
    ImportJob.Status.QUEUED: "info",
    ImportJob.Status.IMPORTING: "info",
    ImportJob.Status.DONE: "success",
    ImportJob.Status.FAILED: "danger",
    ImportJob.Status.DISCARDED: "danger",
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ChannelChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{' › '.join(obj.path_names())}（{obj.code}）"


class UploadForm(forms.Form):
    channel = ChannelChoiceField(
        label=_("渠道"),
        queryset=Channel.objects.filter(level=Channel.Level.SOURCE, is_active=True)
        .select_related("parent__parent")
        .order_by("parent__parent__sort_order", "parent__sort_order", "sort_order", "code"),
        widget=UnfoldAdminSelectWidget,
        help_text=_("文件中“渠道编码”列留空的行记入此渠道。"),
    )
    file = forms.FileField(
        label=_("线索文件"),
        widget=UnfoldAdminFileFieldWidget(attrs={"accept": ".xlsx,.csv"}),
        help_text=_("Excel（.xlsx）或 CSV，最多 %(rows)s 行、%(mb)s MB。"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = self.fields["file"].help_text % {
            "rows": f"{max_rows():,}",
            "mb": max_bytes() // 1024 // 1024,
        }


@admin.register(ImportJob)
class ImportJobAdmin(ModelAdmin):
    list_display = [
        "id",
        "name_display",
        "kind",
        "channel",
        "dealer",
        "status_display",
        "progress_display",
        "counts_display",
        "created_by",
        "created_at",
    ]
    list_display_links = ["id", "name_display"]
    list_filter = ["status", "kind", ("created_at", RangeDateFilter)]
    list_filter_submit = True
    list_select_related = ["channel", "dealer", "created_by"]
    search_fields = ["original_name", "=file_hash", "dealer__code"]
    actions_list = ["upload", "download_template"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False  # through the upload page

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_upload_permission(self, request):
        return request.user.has_perm("leads.add_importjob")

    def has_download_template_permission(self, request):
        return request.user.has_perm("leads.view_importjob")

    # --- columns

    @display(description=_("文件"), ordering="original_name")
    def name_display(self, obj):
        return obj.original_name

    @display(description=_("状态"), ordering="status", label=STATUS_COLOURS)
    def status_display(self, obj):
        return obj.status, obj.get_status_display()

    @display(description=_("进度"))
    def progress_display(self, obj):
        return f"{obj.processed_rows:,}/{obj.total_rows:,}"

    @display(description=_("结果"))
    def counts_display(self, obj):
        counts = obj.counts if obj.confirmed_at else obj.preview_counts
        if not counts:
            return "—"
        return _("新建 %(c)s · 合并 %(m)s · 无效 %(i)s · 未导入 %(e)s · 已导入过 %(r)s") % {
            "c": counts.get("created", 0),
            "m": counts.get("merged", 0),
            "i": counts.get("invalid", 0),
            "e": counts.get("error", 0),
            "r": counts.get("replayed", 0),
        }

    # --- pages

    @action(
        description=_("上传导入"), url_path="upload", icon="upload_file", permissions=["upload"]
    )
    def upload(self, request):
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = lead_import_upload(
                    fileobj=upload,
                    name=upload.name,
                    channel=form.cleaned_data["channel"],
                    user=request.user,
                )
            except DomainError as error:
                form.add_error("file", str(error))
            else:
                return redirect(job_url(job))
        context = {
            **self.admin_site.each_context(request),
            "title": _("上传线索文件"),
            "opts": self.model._meta,
            "form": form,
            "template_url": reverse("admin:leads_importjob_download_template"),
            "background_rows": background_rows(),
        }
        return TemplateResponse(request, "admin/leads/imports/upload.html", context)

    @action(
        description=_("下载导入模板"),
        url_path="template",
        icon="download",
        permissions=["download_template"],
    )
    def download_template(self, request):
        response = HttpResponse(content_type=XLSX)
        lead_template_build(response)
        return _attachment(response, template_filename(dealer=None))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = get_object_or_404(
            ImportJob.objects.select_related("channel", "dealer", "created_by"), pk=object_id
        )
        if not self.has_view_permission(request, job):
            raise PermissionDenied
        view = import_job_view(
            job, outcome=request.GET.get("outcome", ""), page=request.GET.get("page", 1)
        )
        context = {
            **self.admin_site.each_context(request),
            "title": _("导入 #%(id)s · %(name)s") % {"id": job.pk, "name": job.original_name},
            "opts": self.model._meta,
            "view": view,
            "job": job,
            "can_act": self.has_upload_permission(request),
            "changelist_url": reverse("admin:leads_importjob_changelist"),
        }
        return TemplateResponse(request, "admin/leads/imports/job.html", context)

    def get_urls(self):
        def wrap(view):
            return self.admin_site.admin_view(view)

        return [
            path("<int:job_id>/confirm/", wrap(self.confirm_view), name="leads_importjob_confirm"),
            path("<int:job_id>/discard/", wrap(self.discard_view), name="leads_importjob_discard"),
            path("<int:job_id>/retry/", wrap(self.retry_view), name="leads_importjob_retry"),
            path("<int:job_id>/report/", wrap(self.report_view), name="leads_importjob_report"),
            *super().get_urls(),
        ]

    def _act(self, request, job_id, service, done_message):
        if not self.has_upload_permission(request):
            raise PermissionDenied
        try:
            job = service(job_id=job_id, user=request.user)
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, done_message % {"id": job.pk})
        return redirect(reverse("admin:leads_importjob_change", args=[job_id]))

    def confirm_view(self, request, job_id):
        if not self.has_upload_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return redirect(reverse("admin:leads_importjob_change", args=[job_id]))
        return self._act(request, job_id, lead_import_confirm, _("已确认导入 #%(id)s。"))

    def discard_view(self, request, job_id):
        if not self.has_upload_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return redirect(reverse("admin:leads_importjob_change", args=[job_id]))
        return self._act(request, job_id, lead_import_discard, _("已放弃导入 #%(id)s。"))

    def retry_view(self, request, job_id):
        if not self.has_upload_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return redirect(reverse("admin:leads_importjob_change", args=[job_id]))
        return self._act(request, job_id, lead_import_retry, _("已重新开始导入 #%(id)s。"))

    def report_view(self, request, job_id):
        job = get_object_or_404(ImportJob, pk=job_id)
        if not self.has_view_permission(request, job):
            raise PermissionDenied
        return report_response(job, request.user)


def job_url(job: ImportJob) -> str:
    return reverse("admin:leads_importjob_change", args=[job.pk])


def _attachment(response, filename: str):
    from urllib.parse import quote

    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


def report_response(job: ImportJob, user):
    """The report as a download: written to a temporary file (it may have 100k rows), then
    streamed."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    import_report_download(job, spool, user=user)
    spool.seek(0)
    response = FileResponse(spool, content_type=XLSX)
    return _attachment(response, report_filename(job))


@admin.register(ExportLog)
class ExportLogAdmin(MaskedTextAdminMixin, SafeExportMixin, ModelAdmin):
    list_display = [
        "created_at",
        "username",
        "model_label",
        "row_count",
        "personal_data",
        "mobiles_masked",
        "filters_display",
        "purpose",
    ]
    list_filter = ["personal_data", "mobiles_masked", ("created_at", RangeDateFilter)]
    list_filter_submit = True
    search_fields = ["username", "model", "model_label"]
    readonly_fields = [f.name for f in ExportLog._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @display(description=_("筛选条件"))
    def filters_display(self, obj):
        text = obj.filters or "—"
        return format_html('<span title="{}">{}</span>', text, text[:80])
