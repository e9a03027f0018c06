"""What access and erasure share: the permission, the payload and summary keys, the checks of a
request, and the customer's records with the scrubber of their names and numbers."""

from __future__ import annotations

import re
import unicodedata

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm_log.models import StateLog

from config.errors import DomainError, NotFound
from leads.masking import MOBILE_IN_TEXT
from leads.models import Customer, ImportRow, Lead, LeadEvent, PrivacyRequest, RawLead

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
    "import_files": gettext_lazy("导入文件"),
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
        self.mobile_digits = {_digits(m)[-11:] for m in mobiles if len(_digits(m)) >= 11}

    def clean(self, text) -> bool:
        """The text holds none of the customer's identifiers (None and "" are clean)."""
        return not text or self.text(str(text)) == str(text)

    def text(self, text: str | None) -> str:
        if not text:
            return text or ""
        if self.pattern is not None:
            text = self.pattern.sub(self.erased, text)
        return MOBILE_IN_TEXT.sub(self.erased, text)

    def own(self, text: str | None) -> str:
        """Only the customer's own identifiers replaced: their names, and their numbers however
        written ("139 1234 5678", "+86 139-1234-5678", full-width digits), other people's
        numbers kept (for texts that are not the customer's, such as the filters of exports)."""
        if not text:
            return text or ""
        if self.pattern is not None:
            text = self.pattern.sub(self.erased, text)

        def number(match: re.Match) -> str:
            theirs = _digits(match.group(0))[-11:] in self.mobile_digits
            return self.erased if theirs else match.group(0)

        return MOBILE_IN_TEXT.sub(number, text)

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


def _digits(text: str) -> str:
    """The digits of a text, full-width ones as ASCII."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isdigit())
