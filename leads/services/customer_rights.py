"""The customer's rights under PIPL (个人信息保护法 arts. 45 and 47): a copy of everything held
about them (access) and the erasure of their personal data (anonymisation).

Erasure anonymises instead of deleting: every row stays with its status, timestamps, dealer,
channel, grade and score, so every count and KPI stays exactly the same, but nothing in them
identifies the person any more. What is scrubbed:

- the customer: name blanked, mobile replaced by "X<id>" (the old number is free again, so the
  same person submitting again becomes a new customer), `anonymised_at` set;
- raw leads: the normalised mobile blanked; in the payload every value replaced except the keys
  of `PAYLOAD_KEPT_KEYS` (codes, ids, timestamps, intent — no personal data, needed for
  statistics), and in those any copy of the name or a mobile;
- free text typed by people (follow-up notes, call notes, nurture contents, sample notes,
  notices, notifications, event reasons, the lead's consent note and HQ reason, the reveal
  note, the fsm log description): replaced by "（已匿名）";
- defeat and invalid reasons, which the reason KPIs group by: a reason from HQ's lists is kept,
  only what was typed beside it (or instead of it) is replaced;
- system texts and JSON details (event data, assignment reason, raw lead outcome detail,
  import row messages): every copy of the customer's names and of any mobile number replaced,
  and under keys that hold typed text (`FREE_TEXT_KEYS`) the whole value;
- import rows: the name and the mobile shown blanked; the admin log's title of the customer
  and the mobile inside the filters of logged exports.

The request itself (PrivacyRequest, who handled it, its reference) is kept as the legal record.
"""

from __future__ import annotations

import io
import json
import re
from datetime import date, datetime
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Model, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm_log.models import StateLog
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from config.errors import DomainError, NotFound
from leads.imports.exports import export_log_record, safe_cell
from leads.masking import MOBILE_IN_TEXT
from leads.models import (
    CallRecord,
    Customer,
    CustomerNotice,
    DefeatReason,
    ExportLog,
    FollowUp,
    ImportRow,
    InvalidReason,
    Lead,
    LeadEvent,
    MobileReveal,
    Notification,
    NurtureTouch,
    PrivacyRequest,
    RawLead,
    SupervisionSample,
)
from leads.services.audit import lead_event_record

PERMISSION = "leads.handle_privacy_request"

# Raw payload keys kept on erasure: they carry no personal data and the statistics need them
# (channel, dealer and model codes, the channel's own id, timestamps, purchase timeframe,
# consent flag, intent and grade), plus the coarse location (province, city) that the customer
# row keeps too for the regional figures. Every other key (name, mobile, remark, wechat,
# address, anything a channel invents) has its value replaced.
PAYLOAD_KEPT_KEYS = frozenset(
    {
        "external_id",
        "channel_code",
        "dealer_code",
        "model_code",
        "purchase_timeframe",
        "consent",
        "submitted_at",
        "created_at",
        "received_at",
        "intent",
        "grade",
        "province",
        "city",
    }
)
# Keys of JSON details (event data …) whose string values are typed text or a person's data:
# replaced whole, not only where the name or a mobile appears.
FREE_TEXT_KEYS = frozenset(
    {
        "name",
        "mobile",
        "phone",
        "wechat",
        "email",
        "address",
        "customer",
        "customer_name",
        "customer_mobile",
        "note",
        "notes",
        "remark",
        "remarks",
        "reason",
        "message",
        "content",
        "old",
        "new",
        "from",
        "to",
    }
)

# What each summary key counts (the admin shows these labels).
SUMMARY_LABELS = {
    "customer": gettext_lazy("客户"),
    "leads": gettext_lazy("线索"),
    "raw_leads": gettext_lazy("原始线索"),
    "follow_ups": gettext_lazy("跟进记录"),
    "call_records": gettext_lazy("外呼记录"),
    "nurture_touches": gettext_lazy("培育触达"),
    "supervision_samples": gettext_lazy("抽样回访"),
    "lead_events": gettext_lazy("操作记录"),
    "state_logs": gettext_lazy("状态日志"),
    "notifications": gettext_lazy("通知"),
    "customer_notices": gettext_lazy("客户通知"),
    "mobile_reveals": gettext_lazy("号码查看记录"),
    "import_rows": gettext_lazy("导入记录"),
    "privacy_requests": gettext_lazy("个人信息请求"),
    "admin_log": gettext_lazy("后台操作日志"),
    "export_logs": gettext_lazy("导出记录"),
}

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class PrivacyRequestRefused(DomainError):
    code = "privacy_request_refused"
    default_message = gettext_lazy("无法处理该个人信息请求。")


def erased_text() -> str:
    """The placeholder of erased text (stored in the rows, so in the default language)."""
    return _("（已匿名）")


# --- access: a copy of everything held --------------------------------------------------------


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


# --- erasure: anonymisation -------------------------------------------------------------------


def customer_anonymise(
    *, customer_id: int, actor, reference: str, note: str = ""
) -> PrivacyRequest:
    """Erase the customer's personal data everywhere it is held, keeping every row (and so
    every count and KPI); see the module docstring for what is scrubbed. Once only."""
    reference, note = _checked_request(actor, reference, note)
    with transaction.atomic():
        # Leads first, then the customer: the order in which lead_update locks them.
        list(Lead.objects.select_for_update().filter(customer_id=customer_id).values_list("pk"))
        customer = _customer(customer_id, lock=True)
        if customer.anonymised_at is not None:
            raise PrivacyRequestRefused(
                _("该客户的个人信息已于 %(at)s 匿名化，不能重复删除。"),
                code="already_anonymised",
                at=timezone.localtime(customer.anonymised_at).strftime("%Y-%m-%d %H:%M"),
            )
        scope = _Scope.of(customer)
        scrub = _Scrubber(scope.names, scope.mobiles)
        now = timezone.now()
        summary = {"customer": 1, **_scrub_records(scope, scrub)}
        summary["admin_log"] = _scrub_admin_log(customer, scope, scrub)
        summary["export_logs"] = _scrub_export_logs(scope)
        customer.name = ""
        customer.mobile = f"X{customer.pk}"
        customer.anonymised_at = now
        customer.save(update_fields=["name", "mobile", "anonymised_at", "updated_at"])
        request = PrivacyRequest.objects.create(
            kind=PrivacyRequest.Kind.ERASURE,
            customer=customer,
            reference=reference,
            note=note,
            handled_by=actor,
            created_at=now,
            summary=summary,
        )
        for lead in Lead.objects.filter(pk__in=scope.lead_ids):
            lead_event_record(
                lead=lead,
                kind=LeadEvent.Kind.NOTE,
                action="anonymise",
                actor=actor,
                reason=_("应客户请求，客户个人信息已匿名化"),
                data={"privacy_request_id": request.pk},
                at=now,
            )
    return request


def _scrub_records(scope: _Scope, scrub: _Scrubber) -> dict[str, int]:
    """Rewrite the personal data of every record of the customer; rows scrubbed per kind.

    QuerySet.update, row by row and only where something changes: no auto_now timestamp moves,
    no save() of a lead runs its state-machine checks."""
    erased = erased_text()
    wipe = _wipe(erased)
    listed_reasons = set(DefeatReason.objects.values_list("name", flat=True)) | set(
        InvalidReason.objects.values_list("name", flat=True)
    )

    def listed(text: str) -> str:
        return _listed_reason(text, listed_reasons, erased)

    def event_fields(event: LeadEvent) -> dict:
        if event.action in ("customer_name", "customer_mobile"):
            return {
                "from_value": wipe(event.from_value),
                "to_value": wipe(event.to_value),
                "reason": wipe(event.reason),
                "data": scrub.data(event.data, whole=True),
            }
        return {
            "from_value": scrub.text(event.from_value),
            "to_value": scrub.text(event.to_value),
            "reason": wipe(event.reason),
            "data": scrub.data(event.data),
        }

    lead_ids = scope.lead_ids
    plans: list[tuple[str, Any, Any]] = [
        (
            "leads",
            Lead.objects.filter(pk__in=lead_ids),
            lambda lead: {
                "consent_note": wipe(lead.consent_note),
                "hq_reason": wipe(lead.hq_reason),
                "invalid_reason": listed(lead.invalid_reason),
                "defeat_reason": listed(lead.defeat_reason),
                "assignment_reason": scrub.text(lead.assignment_reason),
            },
        ),
        (
            "raw_leads",
            RawLead.objects.filter(scope.raw_leads_q),
            lambda raw: {
                "mobile": "",
                "payload": scrub.payload(raw.payload),
                "external_id": raw.external_id if scrub.clean(raw.external_id) else None,
                "outcome_detail": scrub.text(raw.outcome_detail),
            },
        ),
        ("follow_ups", FollowUp.objects.filter(lead_id__in=lead_ids), _wiped("notes", wipe)),
        ("call_records", CallRecord.objects.filter(lead_id__in=lead_ids), _wiped("notes", wipe)),
        (
            "nurture_touches",
            NurtureTouch.objects.filter(lead_id__in=lead_ids),
            _wiped("content", wipe),
        ),
        (
            "supervision_samples",
            SupervisionSample.objects.filter(lead_id__in=lead_ids),
            _wiped("notes", wipe),
        ),
        ("lead_events", LeadEvent.objects.filter(lead_id__in=lead_ids), event_fields),
        (
            "state_logs",
            _state_logs(scope),
            lambda log: {"description": wipe(log.description) or log.description},
        ),
        (
            "notifications",
            Notification.objects.filter(lead_id__in=lead_ids),
            _wiped("message", wipe),
        ),
        (
            "customer_notices",
            CustomerNotice.objects.filter(scope.notices_q),
            _wiped("message", wipe),
        ),
        (
            "mobile_reveals",
            MobileReveal.objects.filter(customer_id=scope.customer.pk),
            _wiped("note", wipe),
        ),
        (
            "import_rows",
            ImportRow.objects.filter(scope.import_rows_q),
            lambda row: {"name": "", "mobile_display": "", "message": scrub.text(row.message)},
        ),
    ]
    summary = {}
    for code, queryset, new_values in plans:
        changed = 0
        for row in queryset.order_by("pk"):
            values = _fitted(type(row), new_values(row))
            differ = {name: value for name, value in values.items() if getattr(row, name) != value}
            if differ:
                type(row).objects.filter(pk=row.pk).update(**differ)
                changed += 1
        summary[code] = changed
    return summary


def _fitted(model, values: dict) -> dict:
    """A scrubbed text can be longer than the original ("（已匿名）" for a two-character name):
    cut to the column's length."""
    for name, value in values.items():
        limit = getattr(model._meta.get_field(name), "max_length", None)
        if limit and isinstance(value, str):
            values[name] = value[:limit]
    return values


def _wipe(erased: str):
    def wipe(text: str | None) -> str:
        return erased if text else (text or "")

    return wipe


def _wiped(field: str, wipe):
    return lambda row: {field: wipe(getattr(row, field))}


def _listed_reason(text: str, listed: set[str], erased: str) -> str:
    """A reason from HQ's lists is no personal data and the reason KPIs group by it: kept.
    Typed text is replaced; "价格：客户说…" (list reason, then a note) keeps its list part."""
    if not text or text in listed:
        return text
    head, sep, _tail = text.partition("：")
    if sep and head in listed:
        return f"{head}：{erased}"
    return erased


def _scrub_admin_log(customer: Customer, scope: _Scope, scrub: _Scrubber) -> int:
    """The admin's history titles rows with their __str__, which names the customer."""
    changed = 0
    customer_type = ContentType.objects.get_for_model(Customer)
    lead_type = ContentType.objects.get_for_model(Lead)
    entries = LogEntry.objects.filter(
        Q(content_type=customer_type, object_id=str(customer.pk))
        | Q(content_type=lead_type, object_id__in=[str(pk) for pk in scope.lead_ids])
    )
    for entry in entries:
        repr_, message = scrub.text(entry.object_repr)[:200], scrub.text(entry.change_message)
        if entry.content_type_id == customer_type.pk:
            repr_ = f"{_('客户')} #{customer.pk}"
        if (repr_, message) != (entry.object_repr, entry.change_message):
            LogEntry.objects.filter(pk=entry.pk).update(object_repr=repr_, change_message=message)
            changed += 1
    return changed


def _scrub_export_logs(scope: _Scope) -> int:
    """A search by the customer's number is written into the filter of a logged export."""
    if not scope.mobiles:
        return 0
    erased = erased_text()
    query = Q()
    for mobile in scope.mobiles:
        query |= Q(filters__contains=mobile)
    changed = 0
    for log in ExportLog.objects.filter(query):
        text = log.filters
        for mobile in scope.mobiles:
            text = text.replace(mobile, erased)
        ExportLog.objects.filter(pk=log.pk).update(filters=text)
        changed += 1
    return changed


# --- shared -----------------------------------------------------------------------------------


def _checked_request(actor, reference: str, note: str) -> tuple[str, str]:
    if actor is None or not actor.has_perm(PERMISSION):
        raise PrivacyRequestRefused(
            _("您没有处理客户个人信息请求的权限。"), code="permission_denied"
        )
    reference, note = (reference or "").strip(), (note or "").strip()
    if not reference:
        raise PrivacyRequestRefused(
            _("请填写请求来源或工单号：每次查阅和删除都须有据可查。"), code="reference_required"
        )
    max_reference = PrivacyRequest._meta.get_field("reference").max_length
    max_note = PrivacyRequest._meta.get_field("note").max_length
    if len(reference) > max_reference or len(note) > max_note:
        raise PrivacyRequestRefused(
            _("请求来源/工单号最多 %(ref)s 个字，备注最多 %(note)s 个字。"),
            code="too_long",
            ref=max_reference,
            note=max_note,
        )
    return reference, note


def _customer(customer_id: int, *, lock: bool = False) -> Customer:
    queryset = Customer.objects.select_for_update() if lock else Customer.objects
    customer = queryset.filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(_("客户 #%(id)s 不存在。"), id=customer_id)
    return customer


def _state_logs(scope: _Scope):
    return StateLog.objects.filter(
        content_type=ContentType.objects.get_for_model(Lead),
        object_id__in=scope.lead_ids,
    )


class _Scope:
    """The customer's records: their leads (history of merged leads included, since a merge
    moves it), their raw leads, the import rows behind them, the names and numbers they had."""

    def __init__(self, customer: Customer, lead_ids: list[int], raw_ids: list[int]):
        self.customer = customer
        self.lead_ids = lead_ids
        self.raw_leads_q = Q(pk__in=raw_ids)
        self.notices_q = Q(customer=customer) | Q(lead_id__in=lead_ids)
        linked = ImportRow.objects.filter(Q(lead_id__in=lead_ids) | Q(raw_lead_id__in=raw_ids))
        rows_q = Q(pk__in=list(linked.values_list("pk", flat=True)))
        # The preview of a sheet row is the same person as its import: same job, same row.
        for job_id, number in set(linked.values_list("job_id", "row_number")):
            rows_q |= Q(job_id=job_id, row_number=number)
        self.import_rows_q = rows_q
        self.names, self.mobiles = self._identifiers(raw_ids)

    @classmethod
    def of(cls, customer: Customer) -> _Scope:
        lead_ids = list(Lead.objects.filter(customer=customer).values_list("pk", flat=True))
        raw_ids = list(
            RawLead.objects.filter(Q(customer=customer) | Q(lead_id__in=lead_ids)).values_list(
                "pk", flat=True
            )
        )
        return cls(customer, lead_ids, raw_ids)

    def _identifiers(self, raw_ids: list[int]) -> tuple[set[str], set[str]]:
        """Every name and number the customer was known by: now, in what the channels sent,
        in the import sheets, and before a correction."""
        names = {self.customer.name}
        mobiles = {self.customer.mobile}
        for mobile, payload in RawLead.objects.filter(pk__in=raw_ids).values_list(
            "mobile", "payload"
        ):
            mobiles.add(mobile)
            if isinstance(payload, dict):
                names.add(str(payload.get("name") or ""))
        names.update(ImportRow.objects.filter(self.import_rows_q).values_list("name", flat=True))
        for action, old, new in LeadEvent.objects.filter(
            lead_id__in=self.lead_ids, action__in=["customer_name", "customer_mobile"]
        ).values_list("action", "from_value", "to_value"):
            (names if action == "customer_name" else mobiles).update({old, new})
        names = {name.strip() for name in names if name and name.strip()}
        mobiles = {m for m in mobiles if m and not m.startswith("X")}
        return names, mobiles


class _Scrubber:
    """Replaces the customer's names and every mobile number inside texts and JSON."""

    def __init__(self, names: set[str], mobiles: set[str]):
        self.erased = erased_text()
        # Longest first, so that "张三丰" is not left as "（已匿名）丰".
        words = sorted(names | mobiles, key=len, reverse=True)
        self.pattern = re.compile("|".join(re.escape(word) for word in words)) if words else None

    def clean(self, text) -> bool:
        """The text holds none of the customer's identifiers (None and "" are clean)."""
        return not text or self.text(str(text)) == str(text)

    def text(self, text: str | None) -> str:
        if not text:
            return text or ""
        if self.pattern is not None:
            text = self.pattern.sub(self.erased, text)
        return MOBILE_IN_TEXT.sub(self.erased, text)

    def data(self, value, *, whole: bool = False, key: str = ""):
        """The same JSON structure; strings scrubbed, and under FREE_TEXT_KEYS (or everywhere
        with `whole`) replaced whole."""
        if isinstance(value, dict):
            return {k: self.data(v, whole=whole, key=str(k).lower()) for k, v in value.items()}
        if isinstance(value, list):
            return [self.data(item, whole=whole, key=key) for item in value]
        if isinstance(value, str):
            if value and (whole or key in FREE_TEXT_KEYS):
                return self.erased
            return self.text(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return self.erased if MOBILE_IN_TEXT.fullmatch(str(value)) else value
        return value

    def payload(self, payload):
        """The raw payload with only PAYLOAD_KEPT_KEYS' values left (and those scrubbed)."""
        if not isinstance(payload, dict):
            return self.erased if payload not in (None, "", [], {}) else payload
        kept = {}
        for key, value in payload.items():
            if key in PAYLOAD_KEPT_KEYS:
                kept[key] = self.data(value)
            else:
                kept[key] = self.erased if value not in (None, "", [], {}) else value
        return kept
