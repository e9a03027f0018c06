"""Access (PIPL art. 45): a copy of everything held about the customer, as one .xlsx."""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from leads.imports.exports import export_log_record, safe_cell
from leads.models import (
    CallRecord,
    Customer,
    CustomerNotice,
    FollowUp,
    ImportRow,
    Lead,
    LeadEvent,
    MobileReveal,
    Notification,
    NurtureTouch,
    PrivacyRequest,
    RawLead,
    SupervisionSample,
)
from leads.services.customer_rights.common import (
    SUMMARY_LABELS,
    _checked_request,
    _customer,
    _Scope,
    _state_logs,
)


def customer_data_export(
    *, customer_id: int, actor, reference: str, note: str = ""
) -> tuple[PrivacyRequest, bytes]:
    """Give the customer a copy of everything held about them: one .xlsx, a sheet per kind of
    record, unmasked (it goes to the customer), formulas neutralised; logged as a request."""
    reference, note = _checked_request(actor, reference, note)
    with transaction.atomic():
        customer = _customer(customer_id)
        sheets = _customer_records(customer)
        content = _workbook(sheets)
        request = PrivacyRequest.objects.create(
            kind=PrivacyRequest.Kind.ACCESS,
            customer=customer,
            reference=reference,
            note=note,
            handled_by=actor,
            summary={code: len(rows) for code, _headers, rows in sheets},
        )
        # Also in the audit of every export of personal data, beside the admin's tables.
        export_log_record(
            user=actor,
            model="leads.customer",
            model_label=_("客户个人信息（查阅请求）"),
            filters=_("客户 #%(id)s") % {"id": customer.pk},
            row_count=sum(request.summary.values()),
            personal_data=True,
            mobiles_masked=False,
            purpose=_("个人信息请求 #%(id)s") % {"id": request.pk},
        )
    return request, content


# Per kind of record: its summary key and its columns (header, field). A field is shown as the
# customer reads it: a choice by its label, a related row by its name, JSON as text.
# Staff identities (agents, reviewers, who revealed a number) are left out: they are other
# people's data; the advisor and the dealer who contacted the customer are in.
EXPORT_COLUMNS: dict[str, list[tuple[Any, str]]] = {
    "customer": [
        (gettext_lazy("客户ID"), "pk"),
        (gettext_lazy("姓名"), "name"),
        (gettext_lazy("手机号"), "mobile"),
        (gettext_lazy("省份"), "province"),
        (gettext_lazy("城市"), "city"),
        (gettext_lazy("创建时间"), "created_at"),
        (gettext_lazy("更新时间"), "updated_at"),
        (gettext_lazy("匿名化时间"), "anonymised_at"),
    ],
    "leads": [
        (gettext_lazy("线索ID"), "pk"),
        (gettext_lazy("经销商"), "dealer"),
        (gettext_lazy("销售顾问"), "advisor"),
        (gettext_lazy("首次来源渠道"), "channel"),
        (gettext_lazy("意向车型"), "intended_model"),
        (gettext_lazy("状态"), "status"),
        (gettext_lazy("意向级别"), "grade"),
        (gettext_lazy("意向程度"), "intent"),
        (gettext_lazy("预计购车时间"), "purchase_timeframe"),
        (gettext_lazy("评分"), "score"),
        (gettext_lazy("重复次数"), "duplicate_count"),
        (gettext_lazy("客户同意联系的经销商"), "consent_dealer"),
        (gettext_lazy("同意时间"), "consent_at"),
        (gettext_lazy("同意来源"), "consent_note"),
        (gettext_lazy("滞留总部原因"), "hq_reason"),
        (gettext_lazy("无效原因"), "invalid_reason"),
        (gettext_lazy("战败原因"), "defeat_reason"),
        (gettext_lazy("创建时间"), "created_at"),
        (gettext_lazy("派发时间"), "dispatched_at"),
        (gettext_lazy("分配时间"), "assigned_at"),
        (gettext_lazy("首次跟进时间"), "first_followed_at"),
        (gettext_lazy("下次跟进时间"), "next_follow_up_at"),
        (gettext_lazy("到店时间"), "arrived_at"),
        (gettext_lazy("成交时间"), "ordered_at"),
        (gettext_lazy("战败时间"), "defeated_at"),
    ],
    "raw_leads": [
        (gettext_lazy("原始线索ID"), "pk"),
        (gettext_lazy("线索ID"), "lead_id"),
        (gettext_lazy("渠道"), "channel"),
        (gettext_lazy("渠道线索ID"), "external_id"),
        (gettext_lazy("来源方式"), "source"),
        (gettext_lazy("接收时间"), "received_at"),
        (gettext_lazy("规范化手机号"), "mobile"),
        (gettext_lazy("处理结果"), "outcome"),
        (gettext_lazy("结果说明"), "outcome_detail"),
        (gettext_lazy("原始数据"), "payload"),
    ],
    "follow_ups": [
        (gettext_lazy("线索ID"), "lead_id"),
        (gettext_lazy("跟进时间"), "created_at"),
        (gettext_lazy("销售顾问"), "advisor"),
        (gettext_lazy("跟进方式"), "method"),
        (gettext_lazy("跟进结果"), "result"),
        (gettext_lazy("跟进后级别"), "grade_after"),
        (gettext_lazy("下次跟进时间"), "next_follow_up_at"),
        (gettext_lazy("备注"), "notes"),
    ],
    "call_records": [
        (gettext_lazy("线索ID"), "lead_id"),
        (gettext_lazy("时间"), "created_at"),
        (gettext_lazy("已接通"), "reached"),
        (gettext_lazy("意向程度"), "intent"),
        (gettext_lazy("意向级别"), "grade"),
        (gettext_lazy("无效原因"), "invalid_reason"),
        (gettext_lazy("确认经销商"), "dealer"),
        (gettext_lazy("客户同意经销商联系"), "consent"),
        (gettext_lazy("结果"), "outcome"),
        (gettext_lazy("备注"), "notes"),
    ],
    "nurture_touches": [
        (gettext_lazy("线索ID"), "lead_id"),
        (gettext_lazy("时间"), "created_at"),
        (gettext_lazy("方式"), "medium"),
        (gettext_lazy("内容"), "content"),
        (gettext_lazy("发送成功"), "sent_ok"),
    ],
    "supervision_samples": [
        (gettext_lazy("线索ID"), "lead_id"),
        (gettext_lazy("类型"), "kind"),
        (gettext_lazy("抽样期开始"), "period_start"),
        (gettext_lazy("抽样期结束"), "period_end"),
        (gettext_lazy("经销商"), "dealer"),
        (gettext_lazy("回访结果"), "result"),
        (gettext_lazy("备注"), "notes"),
        (gettext_lazy("回访时间"), "checked_at"),
    ],
    "lead_events": [
        (gettext_lazy("线索ID"), "lead_id"),
        (gettext_lazy("时间"), "created_at"),
        (gettext_lazy("类型"), "kind"),
        (gettext_lazy("操作"), "action"),
        (gettext_lazy("变更前"), "from_value"),
        (gettext_lazy("变更后"), "to_value"),
        (gettext_lazy("原因"), "reason"),
        (gettext_lazy("详情"), "data"),
    ],
    "state_logs": [
        (gettext_lazy("线索ID"), "object_id"),
        (gettext_lazy("时间"), "timestamp"),
        (gettext_lazy("流转"), "transition"),
        (gettext_lazy("变更前"), "source_state"),
        (gettext_lazy("变更后"), "state"),
        (gettext_lazy("说明"), "description"),
    ],
    "notifications": [
        (gettext_lazy("线索ID"), "lead_id"),
        (gettext_lazy("时间"), "created_at"),
        (gettext_lazy("类型"), "kind"),
        (gettext_lazy("内容"), "message"),
    ],
    "customer_notices": [
        (gettext_lazy("线索ID"), "lead_id"),
        (gettext_lazy("时间"), "created_at"),
        (gettext_lazy("类型"), "kind"),
        (gettext_lazy("原经销商"), "from_dealer"),
        (gettext_lazy("新经销商"), "to_dealer"),
        (gettext_lazy("通知内容"), "message"),
    ],
    "mobile_reveals": [
        (gettext_lazy("线索ID"), "lead_id"),
        (gettext_lazy("查看时间"), "created_at"),
        (gettext_lazy("原因"), "reason"),
        (gettext_lazy("说明"), "note"),
        (gettext_lazy("页面"), "source"),
    ],
    "import_rows": [
        (gettext_lazy("导入批次"), "job_id"),
        (gettext_lazy("行号"), "row_number"),
        (gettext_lazy("阶段"), "phase"),
        (gettext_lazy("结果"), "outcome"),
        (gettext_lazy("说明"), "message"),
        (gettext_lazy("手机号"), "mobile_display"),
        (gettext_lazy("姓名"), "name"),
        (gettext_lazy("经销商代码"), "dealer_code"),
        (gettext_lazy("线索ID"), "lead_id"),
        (gettext_lazy("原始线索ID"), "raw_lead_id"),
    ],
    "privacy_requests": [
        (gettext_lazy("请求类型"), "kind"),
        (gettext_lazy("请求来源/工单号"), "reference"),
        (gettext_lazy("处理时间"), "created_at"),
    ],
}


def _customer_records(customer: Customer) -> list[tuple[str, list[str], list[list]]]:
    """(summary key, headers, rows) per kind of record held about the customer."""
    scope = _Scope.of(customer)
    lead_ids = scope.lead_ids
    querysets = {
        "customer": Customer.objects.filter(pk=customer.pk),
        "leads": Lead.objects.filter(pk__in=lead_ids).select_related(
            "dealer", "advisor", "channel", "intended_model", "consent_dealer"
        ),
        "raw_leads": RawLead.objects.filter(scope.raw_leads_q).select_related("channel"),
        "follow_ups": FollowUp.objects.filter(lead_id__in=lead_ids).select_related("advisor"),
        "call_records": CallRecord.objects.filter(lead_id__in=lead_ids).select_related(
            "invalid_reason", "dealer"
        ),
        "nurture_touches": NurtureTouch.objects.filter(lead_id__in=lead_ids),
        "supervision_samples": SupervisionSample.objects.filter(
            lead_id__in=lead_ids
        ).select_related("dealer"),
        "lead_events": LeadEvent.objects.filter(lead_id__in=lead_ids),
        "state_logs": _state_logs(scope),
        "notifications": Notification.objects.filter(lead_id__in=lead_ids),
        "customer_notices": CustomerNotice.objects.filter(scope.notices_q).select_related(
            "from_dealer", "to_dealer"
        ),
        "mobile_reveals": MobileReveal.objects.filter(customer=customer),
        "import_rows": ImportRow.objects.filter(scope.import_rows_q),
        "privacy_requests": customer.privacy_requests.all(),
    }
    sheets = []
    for code, columns in EXPORT_COLUMNS.items():
        rows = [
            [_shown(row, field) for _header, field in columns]
            for row in querysets[code].order_by("pk")
        ]
        sheets.append((code, [str(header) for header, _field in columns], rows))
    return sheets


def _shown(row, field: str):
    """A field as a person reads it: a choice by its label, a related row by its name."""
    display = getattr(row, f"get_{field}_display", None)
    if display is not None:
        return display()
    value = getattr(row, field)
    return str(value) if isinstance(value, Model) else value


def _workbook(sheets) -> bytes:
    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    for code, headers, rows in sheets:
        sheet = book.create_sheet(str(SUMMARY_LABELS[code])[:31])
        sheet.append([str(header) for header in headers])
        for cell in sheet[1]:
            cell.font = bold
        for row in rows:
            sheet.append([_cell(value) for value in row])
        for index in range(len(headers)):
            sheet.column_dimensions[sheet.cell(row=1, column=index + 1).column_letter].width = 18
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _cell(value):
    """A value as the customer reads it: local times, 是/否, JSON as text, no formulas."""
    if value is None:
        return None
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, date | int | float):
        return value
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, default=str)
    return safe_cell(ILLEGAL_CHARACTERS_RE.sub("", str(value)), mask=False)
