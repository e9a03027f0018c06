"""Erasure (PIPL art. 47): the customer's personal data anonymised everywhere it is held; see
the package docstring for what is scrubbed and what is kept."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl, urlencode

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

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
from leads.services.customer_rights.common import (
    PrivacyRequestRefused,
    _checked_request,
    _customer,
    _Scope,
    _Scrubber,
    _state_logs,
    erased_text,
)
from leads.services.customer_rights.import_files import import_files_rewrite

logger = logging.getLogger(__name__)


def customer_anonymise(
    *, customer_id: int, actor, reference: str, note: str = ""
) -> PrivacyRequest:
    """Erase the customer's personal data everywhere it is held, keeping every row (and so
    every count and KPI); see the package docstring for what is scrubbed. Once only."""
    reference, note = _checked_request(actor, reference, note)
    stored: list = []  # import files written before the commit: removed if it does not come
    try:
        return _anonymise(customer_id, actor, reference, note, stored)
    except BaseException:
        for storage, name in stored:
            _remove(storage, name)
        raise


def _anonymise(customer_id: int, actor, reference: str, note: str, stored: list) -> PrivacyRequest:
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
        summary["export_logs"] = _scrub_export_logs(scrub)
        summary["import_files"] = import_files_rewrite(scope, scrub, stored)
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


def _scrub_export_logs(scrub: _Scrubber) -> int:
    """A search for the customer is written into the filter of a logged export: an admin list's
    query string ("q=%E7%8E%8B…", "q=139+1234+5678"), decoded, scrubbed and encoded again, or
    a sentence ("导入 #5（王小明.xlsx）"), scrubbed as it is. Only the customer's own names and
    numbers are replaced. Every log is read: an encoded number has no fixed text to look for."""
    if scrub.pattern is None:
        return 0
    changes = [
        (pk, scrubbed)
        for pk, text in ExportLog.objects.exclude(filters="")
        .order_by("pk")
        .values_list("pk", "filters")
        .iterator(chunk_size=2000)
        if (scrubbed := _scrubbed_filters(text, scrub)) != text
    ]
    for pk, text in changes:
        ExportLog.objects.filter(pk=pk).update(filters=text)
    return len(changes)


def _scrubbed_filters(text: str, scrub: _Scrubber) -> str:
    # What urlencode writes is ASCII without spaces; anything else is read as a sentence.
    if "=" in text and text.isascii() and not any(ch.isspace() for ch in text):
        try:
            pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True)
        except ValueError:
            pairs = None
        if pairs is not None:
            scrubbed = [(scrub.own(key), scrub.own(value)) for key, value in pairs]
            return urlencode(scrubbed) if scrubbed != pairs else text
    return scrub.own(text)


def _remove(storage, name: str) -> None:
    try:
        storage.delete(name)
    except Exception:
        logger.exception("erasure rolled back: the new import file %s could not be removed", name)
