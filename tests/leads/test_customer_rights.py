"""The customer's rights under PIPL: a copy of everything held (access) and erasure by
anonymisation, in the service and in the admin."""

import datetime
import io
import json
from urllib.parse import parse_qsl, quote, urlencode

import pytest
import time_machine
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from django_fsm_log.models import StateLog
from openpyxl import load_workbook

from config.errors import DomainError
from leads.imports.reader import open_table
from leads.imports.report import import_report_write
from leads.imports.services import lead_import_confirm, lead_import_upload
from leads.models import (
    CallRecord,
    Customer,
    CustomerNotice,
    ExportLog,
    FollowUp,
    ImportJob,
    ImportRow,
    Lead,
    LeadEvent,
    MobileReveal,
    Notification,
    NurtureTouch,
    PrivacyRequest,
    RawLead,
    Status,
    SupervisionSample,
)
from leads.services import customer_anonymise, customer_data_export
from leads.services.customer_rights import PAYLOAD_KEPT_KEYS
from leads.services.intake import lead_intake
from tests.factories import (
    ChannelFactory,
    CustomerFactory,
    DealerFactory,
    LeadFactory,
    UserFactory,
    lead_at_dealer,
)
from tests.leads.imports.conftest import openpyxl_bytes, uploaded

pytestmark = pytest.mark.django_db

NAME, OLD_NAME = "王小明", "王晓明"
MOBILE, OLD_MOBILE = "13912345678", "13800001111"
WECHAT = "wxm888"
# Every way the person appears in the data built below.
IDENTIFIERS = [NAME, OLD_NAME, MOBILE, "139 1234 5678", OLD_MOBILE, WECHAT]

# Every table that may hold a customer's personal data (dumped whole and searched).
MODELS = [
    Customer,
    RawLead,
    Lead,
    FollowUp,
    CallRecord,
    NurtureTouch,
    SupervisionSample,
    LeadEvent,
    StateLog,
    Notification,
    CustomerNotice,
    MobileReveal,
    ImportRow,
    LogEntry,
    ExportLog,
]


def _personal_records(customer, *, old_name, old_mobile, wechat, agent, tag=""):
    """A customer known everywhere: two leads (one at a dealer, one invalid at HQ, one defeated
    at another dealer), raw leads with remarks, notes, events, notices, an import, a reveal."""
    name, mobile = customer.name, customer.mobile
    dealer, other_dealer = DealerFactory(), DealerFactory()
    following = lead_at_dealer(
        Status.FOLLOWING,
        dealer=dealer,
        customer=customer,
        grade="H",
        score=70,
        consent_note=f"{name}电话中同意",
        assignment_reason="按梯队轮转",
    )
    invalid = LeadFactory(
        customer=customer,
        status=Status.INVALID,
        invalid_reason=f"{name}说{mobile}是他家人的号码",
        hq_reason=f"{name}要求别再打",
    )
    defeated = lead_at_dealer(
        Status.DEFEATED,
        dealer=other_dealer,
        customer=customer,
        grade="F",
        defeated_at=timezone.now(),
        defeat_reason=f"价格/优惠不满意：{name}嫌贵",
    )
    for lead, external_id in ((following, "E1"), (invalid, "E2"), (defeated, "E3")):
        RawLead.objects.create(
            channel=lead.channel,
            external_id=f"{tag}{external_id}",
            source=RawLead.Source.API,
            payload={
                "external_id": f"{tag}{external_id}",
                "mobile": f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}",
                "name": name,
                "remark": f"加微信 {wechat}，{name}",
                "wechat": wechat,
                "address": "朝阳区某路1号",
                "dealer_code": lead.dealer.code if lead.dealer else "",
                "model_code": "M1",
                "submitted_at": "2026-10-05T10:00:00+08:00",
                "city": "北京",
            },
            mobile=mobile,
            outcome=RawLead.Outcome.NEW,
            outcome_detail="渠道需要清洗，进入清洗队列",
            customer=customer,
            lead=lead,
        )
    FollowUp.objects.create(
        lead=following,
        advisor=following.advisor,
        method=FollowUp.Method.PHONE,
        result=FollowUp.Result.REACHED,
        notes=f"{name}说下周到店，备用电话{mobile}",
    )
    CallRecord.objects.create(
        lead=invalid,
        agent=agent,
        reached=True,
        outcome=CallRecord.Outcome.INVALID,
        notes=f"{name}不想买",
    )
    NurtureTouch.objects.create(
        lead=invalid, agent=agent, medium=NurtureTouch.Medium.SMS, content=f"{name}您好"
    )
    SupervisionSample.objects.create(
        kind=SupervisionSample.Kind.DEFEATED,
        period_start=datetime.date(2026, 10, 1),
        period_end=datetime.date(2026, 10, 7),
        lead=defeated,
        dealer=other_dealer,
        notes=f"{name}确认已购竞品",
    )
    LeadEvent.objects.create(
        lead=following,
        kind=LeadEvent.Kind.UPDATED,
        action="customer_name",
        from_value=old_name,
        to_value=name,
        reason="客户更正",
    )
    LeadEvent.objects.create(
        lead=following,
        kind=LeadEvent.Kind.UPDATED,
        action="customer_mobile",
        from_value=old_mobile,
        to_value=mobile,
    )
    LeadEvent.objects.create(
        lead=following,
        kind=LeadEvent.Kind.DISPATCHED,
        action="dispatch",
        from_value="qualified",
        to_value="dispatched",
        data={"consent": {"dealer": dealer.name, "note": f"{name}口头同意", "by": "坐席1"}},
    )
    StateLog.objects.create(
        content_type=ContentType.objects.get_for_model(Lead),
        object_id=invalid.pk,
        transition="invalidate",
        source_state="cleansing",
        state="invalid",
        description=f"{name}不是本人",
    )
    Notification.objects.create(
        lead=following, dealer=dealer, kind=Notification.Kind.OTHER, message=f"新线索：{name}"
    )
    CustomerNotice.objects.create(
        customer=customer,
        lead=defeated,
        kind=CustomerNotice.Kind.TRANSFER,
        from_dealer=dealer,
        to_dealer=other_dealer,
        message=f"尊敬的{name}，将由新的经销商为您服务",
    )
    MobileReveal.objects.create(
        user=agent,
        lead=following,
        customer=customer,
        reason=MobileReveal.Reason.OTHER,
        note=f"{name}投诉",
        source=MobileReveal.Source.ADMIN,
    )
    job = ImportJob.objects.create(
        channel=following.channel,
        file="lead_imports/x.xlsx",
        original_name="x.xlsx",
        file_hash=f"hash{tag}",
        file_format="xlsx",
    )
    raw = following.raw_leads.get()
    for phase in (ImportRow.Phase.PREVIEW, ImportRow.Phase.IMPORT):
        ImportRow.objects.create(
            job=job,
            phase=phase,
            row_number=2,
            outcome=ImportRow.Outcome.CREATED,
            lead_id=following.pk if phase == ImportRow.Phase.IMPORT else None,
            raw_lead_id=raw.pk if phase == ImportRow.Phase.IMPORT else None,
            message="新建线索",
            mobile_display=f"{mobile[:3]}****{mobile[-4:]}",
            name=name,
        )
    LogEntry.objects.create(
        user=agent,
        content_type=ContentType.objects.get_for_model(Customer),
        object_id=str(customer.pk),
        object_repr=str(customer),
        action_flag=CHANGE,
        change_message="[]",
    )
    ExportLog.objects.create(
        user=agent, username="agent", model="leads.customer", filters=f"q={mobile}"
    )
    return [following, invalid, defeated]


@pytest.fixture
def agent(db):
    return UserFactory(is_staff=True, username="agent")


@pytest.fixture
def person(agent):
    customer = CustomerFactory(name=NAME, mobile=MOBILE)
    leads = _personal_records(
        customer, old_name=OLD_NAME, old_mobile=OLD_MOBILE, wechat=WECHAT, agent=agent
    )
    return customer, leads


@pytest.fixture
def bystander(agent):
    customer = CustomerFactory(name="李四", mobile="13700007777")
    _personal_records(
        customer, old_name="李思", old_mobile="13700006666", wechat="ls999", agent=agent, tag="9"
    )
    return customer


def _dump(rows) -> str:
    return json.dumps(list(rows.values()), ensure_ascii=False, default=str)


def _dump_all() -> str:
    return "\n".join(_dump(model.objects.all()) for model in MODELS)


def _rows_of(customer) -> dict[str, str]:
    """Every column of every row held about one customer, per table."""
    lead_ids = list(customer.leads.values_list("pk", flat=True))
    raw_ids = list(customer.raw_leads.values_list("pk", flat=True))
    return {
        "customer": _dump(Customer.objects.filter(pk=customer.pk)),
        "leads": _dump(Lead.objects.filter(pk__in=lead_ids)),
        "raw": _dump(RawLead.objects.filter(pk__in=raw_ids)),
        "follow_ups": _dump(FollowUp.objects.filter(lead_id__in=lead_ids)),
        "calls": _dump(CallRecord.objects.filter(lead_id__in=lead_ids)),
        "events": _dump(LeadEvent.objects.filter(lead_id__in=lead_ids)),
        "notices": _dump(CustomerNotice.objects.filter(customer=customer)),
        "imports": _dump(ImportRow.objects.filter(raw_lead_id__in=raw_ids)),
    }


def _facts() -> dict:
    """What the counts and KPIs are made of: rows per table, and every lead's and raw lead's
    status, dealer, channel, grade, score and timestamps."""
    return {
        "counts": {model.__name__: model.objects.count() for model in MODELS},
        "leads": list(
            Lead.objects.order_by("pk").values(
                "pk",
                "customer_id",
                "dealer_id",
                "advisor_id",
                "channel_id",
                "status",
                "grade",
                "score",
                "duplicate_count",
                "created_at",
                "dispatched_at",
                "assigned_at",
                "first_followed_at",
                "arrived_at",
                "ordered_at",
                "defeated_at",
                "updated_at",
            )
        ),
        "raw": list(
            RawLead.objects.order_by("pk").values(
                "pk",
                "channel_id",
                "customer_id",
                "lead_id",
                "outcome",
                "outcome_reason",
                "received_at",
                "source",
            )
        ),
    }


def _privacy_officer(*codenames):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def _anonymise(customer, actor, reference="工单 PIPL-2026-001"):
    return customer_anonymise(customer_id=customer.pk, actor=actor, reference=reference)


# --- access -----------------------------------------------------------------------------------


def test_export_holds_every_kind_of_record_unmasked_and_is_logged(person, hq_admin):
    customer, leads = person

    request, content = customer_data_export(
        customer_id=customer.pk, actor=hq_admin, reference="工单 PIPL-2026-002", note="来电"
    )

    book = load_workbook(io.BytesIO(content))
    rows = {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}
    counts = {title: len(sheet_rows) - 1 for title, sheet_rows in rows.items()}
    assert counts == {
        "客户": 1,
        "线索": 3,
        "原始线索": 3,
        "跟进记录": 1,
        "外呼记录": 1,
        "培育触达": 1,
        "抽样回访": 1,
        "操作记录": 3,
        "状态日志": 1,
        "通知": 1,
        "客户通知": 1,
        "号码查看记录": 1,
        "导入记录": 2,
        "个人信息请求": 0,
    }
    assert rows["客户"][1][1:3] == (NAME, MOBILE)
    everything = json.dumps(rows, ensure_ascii=False, default=str)
    assert WECHAT in everything and f"{NAME}说下周到店" in everything
    assert request.kind == PrivacyRequest.Kind.ACCESS and request.handled_by == hq_admin
    assert request.reference == "工单 PIPL-2026-002" and request.customer == customer
    assert request.summary["leads"] == 3 and request.summary["raw_leads"] == 3
    log = ExportLog.objects.get(model="leads.customer", user=hq_admin)
    assert not log.mobiles_masked and log.purpose == f"个人信息请求 #{request.pk}"


def test_export_neutralises_formulas(hq_admin):
    customer = CustomerFactory(name='=HYPERLINK("http://x")')

    _request, content = customer_data_export(
        customer_id=customer.pk, actor=hq_admin, reference="T-1"
    )

    sheet = load_workbook(io.BytesIO(content))["客户"]
    assert sheet.cell(row=2, column=2).value == '\'=HYPERLINK("http://x")'
    assert sheet.cell(row=2, column=2).data_type == "s"


def test_export_without_the_permission_is_refused_and_not_logged(person):
    customer, _leads = person
    user = _privacy_officer("view_customer")

    with pytest.raises(DomainError, match="没有处理客户个人信息请求的权限"):
        customer_data_export(customer_id=customer.pk, actor=user, reference="T-1")

    assert not PrivacyRequest.objects.exists()


@pytest.mark.parametrize("reference", ["", "   "])
def test_export_without_a_reference_is_refused(person, hq_admin, reference):
    customer, _leads = person

    with pytest.raises(DomainError, match="请填写请求来源或工单号"):
        customer_data_export(customer_id=customer.pk, actor=hq_admin, reference=reference)

    assert not PrivacyRequest.objects.exists()


# --- erasure ----------------------------------------------------------------------------------


def test_anonymisation_leaves_the_person_nowhere(person, bystander, hq_admin):
    customer, _leads = person
    assert all(word in _dump_all() for word in IDENTIFIERS)

    _anonymise(customer, hq_admin)

    everything = _dump_all()
    assert [word for word in IDENTIFIERS if word in everything] == []
    customer.refresh_from_db()
    assert customer.name == "" and customer.mobile == f"X{customer.pk}"
    assert customer.anonymised_at is not None and customer.masked_mobile == "已匿名"


def test_anonymisation_keeps_only_the_whitelisted_payload_keys(person, hq_admin):
    customer, _leads = person

    _anonymise(customer, hq_admin)

    for raw in RawLead.objects.filter(customer=customer):
        assert raw.mobile == ""
        assert set(raw.payload) == {
            "external_id",
            "mobile",
            "name",
            "remark",
            "wechat",
            "address",
            "dealer_code",
            "model_code",
            "submitted_at",
            "city",
        }
        for key, value in raw.payload.items():
            if key in PAYLOAD_KEPT_KEYS:
                assert value != "（已匿名）", key
            elif value:
                assert value == "（已匿名）", key
        assert raw.payload["model_code"] == "M1" and raw.payload["city"] == "北京"
        # The channel still reads its lead's status back by its own id.
        assert raw.external_id == raw.payload["external_id"]


def test_scrubbed_text_longer_than_its_column_is_cut_to_fit(hq_admin):
    customer = CustomerFactory(name="王五", mobile=MOBILE)
    lead = LeadFactory(customer=customer, assignment_reason="王五" * 127)

    _anonymise(customer, hq_admin)

    lead.refresh_from_db()
    assert lead.assignment_reason == "（已匿名）" * 51


def test_an_external_id_made_of_the_mobile_is_dropped(hq_admin):
    customer = CustomerFactory(name=NAME, mobile=MOBILE)
    lead = LeadFactory(customer=customer)
    raw = RawLead.objects.create(
        channel=lead.channel,
        external_id=f"wx-{MOBILE}",
        source=RawLead.Source.API,
        payload={"external_id": f"wx-{MOBILE}", "mobile": MOBILE},
        mobile=MOBILE,
        outcome=RawLead.Outcome.NEW,
        customer=customer,
        lead=lead,
    )

    _anonymise(customer, hq_admin)

    raw.refresh_from_db()
    assert raw.external_id is None
    assert raw.payload == {"external_id": "wx-（已匿名）", "mobile": "（已匿名）"}


def test_anonymisation_replaces_free_text_and_keeps_listed_reasons(person, hq_admin):
    customer, (following, invalid, defeated) = person

    _anonymise(customer, hq_admin)

    following.refresh_from_db()
    invalid.refresh_from_db()
    defeated.refresh_from_db()
    assert following.consent_note == "（已匿名）" and following.assignment_reason == "按梯队轮转"
    assert invalid.invalid_reason == "（已匿名）" and invalid.hq_reason == "（已匿名）"
    assert defeated.defeat_reason == "价格/优惠不满意：（已匿名）"
    assert FollowUp.objects.get(lead=following).notes == "（已匿名）"
    dispatched = LeadEvent.objects.get(lead=following, action="dispatch")
    assert dispatched.data == {
        "consent": {"dealer": following.dealer.name, "note": "（已匿名）", "by": "坐席1"}
    }
    assert ImportRow.objects.filter(name="", mobile_display="").count() == 2


def test_anonymisation_leaves_another_customer_untouched(person, bystander, hq_admin):
    customer, _leads = person
    before = _rows_of(bystander)

    _anonymise(customer, hq_admin)

    assert _rows_of(bystander) == before


def test_anonymisation_keeps_every_row_status_and_timestamp(person, bystander, hq_admin):
    customer, leads = person
    before = _facts()

    request = _anonymise(customer, hq_admin)

    after = _facts()
    # One audit row per lead of the customer is all that is added.
    assert after["counts"].pop("LeadEvent") == before["counts"].pop("LeadEvent") + len(leads)
    assert after == before
    assert request.summary == {
        "customer": 1,
        "leads": 3,
        "raw_leads": 3,
        "follow_ups": 1,
        "call_records": 1,
        "nurture_touches": 1,
        "supervision_samples": 1,
        "lead_events": 3,
        "state_logs": 1,
        "notifications": 1,
        "customer_notices": 1,
        "mobile_reveals": 1,
        "import_rows": 2,
        "admin_log": 1,
        "export_logs": 1,
        "import_files": 0,  # the fixture's import has no stored file
    }


def test_anonymisation_is_logged_with_an_event_on_each_lead(person, hq_admin):
    customer, leads = person

    request = _anonymise(customer, hq_admin)

    assert request.kind == PrivacyRequest.Kind.ERASURE and request.handled_by == hq_admin
    events = LeadEvent.objects.filter(action="anonymise")
    assert sorted(e.lead_id for e in events) == sorted(lead.pk for lead in leads)
    assert {json.dumps(e.data) for e in events} == {json.dumps({"privacy_request_id": request.pk})}
    assert all("匿名化" in e.reason for e in events)


def test_kpis_are_the_same_after_anonymisation(hq_admin):
    from reports import selectors as s
    from reports.scope import ALL, ReportScope
    from reports.selectors import ReportQuery
    from tests.reports.conftest import OCTOBER, build_october, refresh_october

    october = build_october()
    customer = october.l1.customer  # ordered at A; give them a lead at B and one invalid at HQ
    Lead.objects.filter(pk__in=[october.l3.pk, october.l5.pk]).update(customer=customer)
    RawLead.objects.filter(lead__in=[october.l3, october.l5]).update(customer=customer)
    FollowUp.objects.filter(lead=october.l1).update(notes=f"{customer.name} 试驾很满意")

    def figures():
        refresh_october()
        q = ReportQuery(scope=ReportScope(ALL, label="全网"), start=OCTOBER[0], end=OCTOBER[1])
        a = ReportQuery(
            scope=ReportScope(ALL, label="全网"),
            start=OCTOBER[0],
            end=OCTOBER[1],
            dealer_id=october.a.pk,
        )
        return {
            "totals": s.kpi_totals(q),
            "dealers": [(r.label, r.kpis) for r in s.kpi_by_dealer(q)],
            "channels": [(r.label, r.kpis) for r in s.kpi_by_channel(q, 3)],
            "advisors": [(r.label, r.kpis) for r in s.kpi_by_advisor(a)],
            "grades": [(r.label, r.kpis) for r in s.kpi_by_grade(q)],
            "reasons": s.reasons(q, ("defeat", "invalid", "rejected")),
            "timeliness": s.timeliness(q),
        }

    before = figures()

    with time_machine.travel(datetime.datetime(2026, 11, 26, 9, 0, tzinfo=datetime.UTC)):
        _anonymise(customer, hq_admin)

    assert figures() == before
    assert before["totals"].counts["leads"] == 8


def test_second_erasure_is_refused(person, hq_admin):
    customer, _leads = person
    _anonymise(customer, hq_admin)

    with pytest.raises(DomainError, match="已于 .* 匿名化，不能重复删除"):
        _anonymise(customer, hq_admin, reference="工单 PIPL-2026-003")

    assert PrivacyRequest.objects.filter(kind=PrivacyRequest.Kind.ERASURE).count() == 1


def test_erasure_without_permission_or_reference_is_refused(person):
    customer, _leads = person
    officer = _privacy_officer("handle_privacy_request")

    with pytest.raises(DomainError, match="没有处理客户个人信息请求的权限"):
        _anonymise(customer, _privacy_officer("view_customer"))
    with pytest.raises(DomainError, match="请填写请求来源或工单号"):
        _anonymise(customer, officer, reference="")

    customer.refresh_from_db()
    assert customer.anonymised_at is None and customer.mobile == MOBILE


def test_same_person_submitting_again_becomes_a_new_customer(person, hq_admin):
    customer, _leads = person
    _anonymise(customer, hq_admin)

    result = lead_intake(
        channel=ChannelFactory(), data={"mobile": MOBILE, "name": NAME}, source="api"
    )

    assert result.outcome == "created"
    fresh = Lead.objects.get(pk=result.lead_id).customer
    assert fresh.pk != customer.pk and fresh.mobile == MOBILE and fresh.name == NAME
    customer.refresh_from_db()
    assert customer.anonymised_at is not None and customer.leads.count() == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_submission_racing_the_erasure_never_joins_the_erased_customer(
    person, hq_admin, monkeypatch
):
    """Intake found the customer, then the erasure committed before intake locked the
    customer's leads: intake starts over and the submission becomes a new customer."""
    import threading

    from django.db import connection

    from leads.services import intake

    customer, _leads = person
    found_it, erased = threading.Event(), threading.Event()
    original = intake._customer_for

    def paused_after_lookup(mobile, data, now):
        result = original(mobile, data, now)
        if not found_it.is_set():
            found_it.set()
            erased.wait(10)
        return result

    monkeypatch.setattr(intake, "_customer_for", paused_after_lookup)
    results = []

    def submit():
        try:
            results.append(
                lead_intake(channel=ChannelFactory(), data={"mobile": MOBILE}, source="api")
            )
        finally:
            connection.close()

    thread = threading.Thread(target=submit)
    thread.start()
    assert found_it.wait(10)
    _anonymise(customer, hq_admin)
    erased.set()
    thread.join(20)

    fresh = Lead.objects.get(pk=results[0].lead_id).customer
    assert fresh.pk != customer.pk and fresh.mobile == MOBILE
    assert not RawLead.objects.filter(customer=customer, mobile=MOBILE).exists()


# --- erasure in the uploaded import files and in the filters of logged exports -----------------

ERASED = "（已匿名）"
IMPORT_HEADER = ["手机号", "姓名", "经销商代码", "备注", "客户同意经销商联系"]
# The person twice (the second row merged into the first one's lead), two others around them;
# one remark that a spreadsheet could take for a formula.
IMPORT_ROWS = [
    IMPORT_HEADER,
    ["13700007777", "李四", "DA01", "-老客户介绍", "是"],
    [MOBILE, NAME, "DA01", f"加微信 {WECHAT}", "是"],
    ["13700008888", "赵六", "DA01", None, "否"],
    ["139 1234 5678", NAME, "DA01", None, "是"],
]


@pytest.fixture
def import_channel(db):
    DealerFactory(code="DA01", name="甲店")
    return ChannelFactory(code="AUTOSHOW_T", name="测试车展", needs_cleansing=True)


def _csv_bytes(rows) -> bytes:
    lines = [",".join("" if value is None else str(value) for value in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _imported(content: bytes, name: str, channel) -> ImportJob:
    job = lead_import_upload(fileobj=uploaded(content, name), name=name, channel=channel)
    return lead_import_confirm(job_id=job.pk)


def _report(job: ImportJob) -> list[tuple]:
    job.refresh_from_db()
    out = io.BytesIO()
    import_report_write(job, out, mask=False)
    return list(load_workbook(out).active.iter_rows(values_only=True))


def _sheet_rows(job: ImportJob) -> dict[int, list]:
    with job.file.open("rb") as fileobj:
        return {r.number: r.values for r in open_table(fileobj, job.original_name).rows()}


def _cells(rows) -> str:
    return json.dumps(rows, ensure_ascii=False, default=str)


@pytest.mark.parametrize(
    ("name", "build"), [("车展线索.xlsx", openpyxl_bytes), ("车展线索.csv", _csv_bytes)]
)
def test_erasure_rewrites_the_uploaded_import_file(
    import_channel, hq_admin, name, build, django_capture_on_commit_callbacks
):
    job = _imported(build(IMPORT_ROWS), name, import_channel)
    customer = Customer.objects.get(mobile=MOBILE)
    lead_ids = customer.leads.values_list("pk", flat=True)
    theirs = set(
        ImportRow.objects.filter(job=job, lead_id__in=lead_ids).values_list("row_number", flat=True)
    )
    assert theirs == {3, 5}
    before = _report(job)
    assert NAME in _cells(before) and MOBILE in _cells(before)
    old_name, file_hash = job.file.name, job.file_hash

    with django_capture_on_commit_callbacks() as callbacks:
        request = _anonymise(customer, hq_admin)
    assert default_storage.exists(old_name)  # deleted only once the erasure commits
    for callback in callbacks:
        callback()

    assert request.summary["import_files"] == 1
    job.refresh_from_db()
    assert job.file.name != old_name and job.file.name.endswith(".xlsx")
    assert default_storage.exists(job.file.name) and not default_storage.exists(old_name)
    assert job.original_name == "车展线索.xlsx" and job.file_format == "xlsx"
    assert job.file_hash == file_hash  # the original upload is still known as imported
    after = _report(job)
    assert [word for word in IDENTIFIERS if word in _cells(after)] == []
    assert len(after) == len(before)
    for number, (old, new) in enumerate(zip(before, after, strict=True), start=1):
        if number in theirs:
            # Every cell of the sheet erased; the outcome and lead id still come from the row.
            width = len(IMPORT_HEADER)
            assert new[:width] == tuple(None if v is None else ERASED for v in old[:width])
            assert new[width : width + 2] == old[width : width + 2]
        else:
            assert new == old, number
    assert after[1][3] == "'-老客户介绍"  # as before: text, never a formula


def test_erased_import_file_keeps_every_row_at_its_number(import_channel, hq_admin):
    """Rows the sheet leaves out (Excel writes no empty row) are written as empty rows, so the
    rows after them keep their numbers and their outcomes."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "线索"
    placed = {1: IMPORT_HEADER, 2: IMPORT_ROWS[1], 4: IMPORT_ROWS[2], 7: IMPORT_ROWS[3]}
    for number, row in placed.items():
        for column, value in enumerate(row, start=1):
            sheet.cell(row=number, column=column, value=value)
    buffer = io.BytesIO()
    book.save(buffer)
    job = _imported(buffer.getvalue(), "gaps.xlsx", import_channel)
    outcomes = dict(
        ImportRow.objects.filter(job=job, phase=ImportRow.Phase.IMPORT).values_list(
            "row_number", "lead_id"
        )
    )
    assert set(outcomes) == {2, 4, 7}
    assert set(_sheet_rows(job)) == {1, 2, 4, 7}  # the gaps are not in the file

    _anonymise(Customer.objects.get(mobile=MOBILE), hq_admin)

    job.refresh_from_db()
    rows = _sheet_rows(job)
    assert set(rows) == set(range(1, 8))
    assert {number for number, values in rows.items() if values} == {1, 2, 4, 7}
    assert rows[2][:2] == ["13700007777", "李四"] and rows[7][:2] == ["13700008888", "赵六"]
    assert rows[4] == [ERASED] * 5
    report = {row[0]: row for row in _report(job)[1:] if row[0] is not None}
    assert report["13700007777"][6] == outcomes[2] and report["13700008888"][6] == outcomes[7]
    assert report[ERASED][6] == outcomes[4]


def test_a_second_erasure_in_the_same_import_file_keeps_the_first(import_channel, hq_admin):
    job = _imported(openpyxl_bytes(IMPORT_ROWS), "车展线索.xlsx", import_channel)
    _anonymise(Customer.objects.get(mobile=MOBILE), hq_admin)

    request = _anonymise(Customer.objects.get(mobile="13700007777"), hq_admin)

    assert request.summary["import_files"] == 1
    cells = _cells(_report(job))
    assert NAME not in cells and "李四" not in cells and "13700007777" not in cells
    assert "赵六" in cells and "13700008888" in cells


def test_a_failed_erasure_leaves_the_import_file_as_it_was(import_channel, hq_admin, monkeypatch):
    from leads.services.customer_rights import erasure

    job = _imported(openpyxl_bytes(IMPORT_ROWS), "车展线索.xlsx", import_channel)
    folder = job.file.name.rsplit("/", 1)[0]
    files = default_storage.listdir(folder)[1]

    def broken(**kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(erasure, "lead_event_record", broken)
    with pytest.raises(RuntimeError):
        _anonymise(Customer.objects.get(mobile=MOBILE), hq_admin)

    stored = job.file.name
    job.refresh_from_db()
    assert job.file.name == stored and default_storage.exists(stored)
    assert default_storage.listdir(folder)[1] == files  # the new file removed again
    assert NAME in _cells(_report(job))


def test_export_log_filters_are_scrubbed_however_encoded(person, bystander, hq_admin):
    customer, _leads = person

    def logged(filters):
        return ExportLog.objects.create(
            user=hq_admin, username="hq_admin", model="leads.lead", filters=filters
        )

    by_name = logged(urlencode({"q": NAME, "status": "new"}))
    spaced = logged("q=139+1234+5678&status=new")
    prefixed = logged(urlencode({"customer__mobile": "+86 139-1234-5678", "p": ""}))
    sentence = logged(f"导入 #5（{NAME}的线索.xlsx）")
    others = logged(urlencode({"q": "李四 13700007777"}))
    untouched = others.filters
    assert by_name.filters == f"q={quote(NAME)}&status=new"

    request = _anonymise(customer, hq_admin)

    for log in (by_name, spaced, prefixed, sentence, others):
        log.refresh_from_db()
    assert parse_qsl(by_name.filters) == [("q", ERASED), ("status", "new")]
    assert parse_qsl(spaced.filters) == [("q", ERASED), ("status", "new")]
    assert parse_qsl(prefixed.filters, keep_blank_values=True) == [
        ("customer__mobile", ERASED),
        ("p", ""),
    ]
    assert sentence.filters == f"导入 #5（{ERASED}的线索.xlsx）"
    assert others.filters == untouched  # another person's search
    # The fixture's "q=<mobile>" and the four above.
    assert request.summary["export_logs"] == 5


# --- the admin --------------------------------------------------------------------------------


def _url(name, customer):
    return reverse(f"admin:leads_customer_{name}", args=[customer.pk])


def test_admin_export_downloads_the_workbook(client, person):
    customer, _leads = person
    officer = _privacy_officer("view_customer", "handle_privacy_request")
    client.force_login(officer)

    page = client.get(_url("change", customer)).content.decode()
    form = client.get(_url("export_personal_data", customer))
    response = client.post(_url("export_personal_data", customer), {"reference": "PIPL-7"})

    assert _url("export_personal_data", customer) in page and _url("anonymise", customer) in page
    assert form.status_code == 200 and "请求来源/工单号" in form.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"customer-{customer.pk}-" in disposition
    assert MOBILE not in disposition and NAME not in disposition
    assert load_workbook(io.BytesIO(response.content))["客户"].cell(row=2, column=3).value == MOBILE
    assert PrivacyRequest.objects.get().handled_by == officer


def test_admin_export_without_reference_shows_the_form_again(client, person, hq_admin):
    customer, _leads = person
    client.force_login(hq_admin)

    response = client.post(_url("export_personal_data", customer), {"reference": ""})

    assert response.status_code == 200 and "xlsx" not in response["Content-Type"]
    assert not PrivacyRequest.objects.exists()


def test_admin_erasure_needs_the_confirmation(client, person, hq_admin):
    customer, _leads = person
    client.force_login(hq_admin)
    url = _url("anonymise", customer)

    form = client.get(url).content.decode()
    unconfirmed = client.post(url, {"reference": "PIPL-8"})
    customer.refresh_from_db()
    assert customer.anonymised_at is None
    confirmed = client.post(url, {"reference": "PIPL-8", "confirm": "on"}, follow=True)

    assert "匿名化后将发生" in form and "不可恢复" in form
    assert unconfirmed.status_code == 200
    assert "请勾选确认后再执行匿名化" in unconfirmed.content.decode()
    customer.refresh_from_db()
    assert customer.anonymised_at is not None
    assert "个人信息已匿名化" in confirmed.content.decode()
    again = client.post(url, {"reference": "PIPL-9", "confirm": "on"})
    assert "不能重复删除" in again.content.decode()


def test_admin_privacy_actions_are_hidden_and_refused_without_the_permission(client, person):
    customer, _leads = person
    client.force_login(_privacy_officer("view_customer", "view_rawlead"))

    page = client.get(_url("change", customer))
    export = client.get(_url("export_personal_data", customer))
    erase = client.post(_url("anonymise", customer), {"reference": "X", "confirm": "on"})

    assert page.status_code == 200
    assert _url("export_personal_data", customer) not in page.content.decode()
    assert _url("anonymise", customer) not in page.content.decode()
    assert export.status_code == 403 and erase.status_code == 403
    customer.refresh_from_db()
    assert customer.anonymised_at is None


def test_admin_customer_and_raw_lead_pages_show_no_full_mobile(client, person, hq_admin):
    customer, _leads = person
    raw = customer.raw_leads.first()
    client.force_login(hq_admin)

    pages = [
        client.get(_url("change", customer)),
        client.get(reverse("admin:leads_customer_changelist")),
        client.get(reverse("admin:leads_rawlead_change", args=[raw.pk])),
        client.get(reverse("admin:leads_rawlead_changelist")),
    ]

    for page in pages:
        text = page.content.decode()
        assert page.status_code == 200
        assert MOBILE not in text and "139 1234 5678" not in text
    assert "139****5678" in pages[0].content.decode()
    assert "139****5678" in pages[2].content.decode() and WECHAT in pages[2].content.decode()


def test_admin_search_by_full_mobile_still_finds(client, person, bystander, hq_admin):
    customer, _leads = person
    client.force_login(hq_admin)

    customers = client.get(reverse("admin:leads_customer_changelist"), {"q": MOBILE})
    raws = client.get(reverse("admin:leads_rawlead_changelist"), {"q": MOBILE})

    assert customers.context["cl"].result_count == 1
    assert list(customers.context["cl"].result_list) == [customer]
    assert {r.customer_id for r in raws.context["cl"].result_list} == {customer.pk}


def test_admin_privacy_request_log_is_read_only_and_masked(client, person, hq_admin):
    customer, _leads = person
    _anonymise(customer, hq_admin)
    officer = _privacy_officer("handle_privacy_request")
    client.force_login(officer)
    request = PrivacyRequest.objects.get()

    listing = client.get(reverse("admin:leads_privacyrequest_changelist"))
    searched = client.get(reverse("admin:leads_privacyrequest_changelist"), {"q": "PIPL"})
    detail = client.get(reverse("admin:leads_privacyrequest_change", args=[request.pk]))
    add = client.get(reverse("admin:leads_privacyrequest_add"))

    assert listing.status_code == 200 and detail.status_code == 200 and add.status_code == 403
    assert searched.context["cl"].result_count == 1
    text = listing.content.decode()
    assert "工单 PIPL-2026-001" in text and f"#{customer.pk} · 已匿名" in text
    assert "原始线索 3" in text
    assert (
        client.post(reverse("admin:leads_privacyrequest_delete", args=[request.pk])).status_code
        == 403
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_import_racing_the_erasure_never_joins_the_erased_customer(
    person, hq_admin, import_channel, monkeypatch
):
    """The Excel import read the customer, then the erasure committed before the import
    locked the customer's leads: the chunk falls back to row-by-row intake, which makes the
    row a new customer."""
    import threading

    from django.db import connection

    from leads.imports import engine

    customer, _leads = person
    job = lead_import_upload(
        fileobj=uploaded(openpyxl_bytes(IMPORT_ROWS), "车展.xlsx"),
        name="车展.xlsx",
        channel=import_channel,
    )
    found_it, erased = threading.Event(), threading.Event()
    original = engine._any
    worker = {}

    def paused_before_the_lead_locks(queryset, column, values):
        if (
            queryset.model is Lead
            and threading.current_thread() is worker.get("thread")
            and not found_it.is_set()
        ):
            found_it.set()
            erased.wait(10)
        return original(queryset, column, values)

    monkeypatch.setattr(engine, "_any", paused_before_the_lead_locks)

    def confirm():
        try:
            lead_import_confirm(job_id=job.pk)
        finally:
            found_it.set()
            connection.close()

    worker["thread"] = thread = threading.Thread(target=confirm)
    thread.start()
    assert found_it.wait(10)
    _anonymise(customer, hq_admin)
    erased.set()
    thread.join(30)

    assert not RawLead.objects.filter(customer=customer, mobile=MOBILE).exists()
    assert Customer.objects.filter(mobile=MOBILE).exclude(pk=customer.pk).exists()
