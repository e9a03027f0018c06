"""The small world the access matrix walks (tests/test_access_matrix.py): two regions with one
dealer each, the nine roles' users (and the "other dealer/region" ones), two channels with API
tokens, and one object of every model the admin has a change page for.

The sample customer at dealer D1 has a distinctive mobile and name, so that a response which
shows them where it should not is easy to find."""

import csv
import datetime
import io
from types import SimpleNamespace

from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from channels.services import channel_token_rotate
from dealers.models import Advisor, DealerClosure, Region, WorkCalendarDay
from leads.models import (
    CallRecord,
    CleansingPolicy,
    CustomerNotice,
    DispatchPolicy,
    FollowUp,
    GradeCycle,
    InvalidReason,
    LeadEvent,
    LifecycleRule,
    LoginFailure,
    MobileReveal,
    Notification,
    NurtureTouch,
    PrivacyRequest,
    RawLead,
    ScoringRule,
    Status,
    SupervisionSample,
)
from leads.services import roles
from tests.factories import (
    AdvisorFactory,
    ChannelFactory,
    CustomerFactory,
    DealerFactory,
    LeadFactory,
    UserFactory,
    VehicleModelFactory,
    lead_at_dealer,
)

SAMPLE_MOBILE = "13987654321"
SAMPLE_MOBILE_FORMS = ("13987654321", "139 8765 4321", "139-8765-4321")
SAMPLE_MASKED = "139****4321"
SAMPLE_NAME = "甄隐私"

HQ_ROLES = {
    "hq_admin": roles.ROLE_HQ_ADMIN,
    "hq_ops": roles.ROLE_HQ_OPS,
    "hq_agent": roles.ROLE_HQ_AGENT,
    "hq_auditor": roles.ROLE_HQ_AUDITOR,
}


def _csv_upload(mobile: str) -> SimpleUploadedFile:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["手机号", "姓名"])
    writer.writerow([mobile, "导入客户"])
    return SimpleUploadedFile("access-matrix.csv", buffer.getvalue().encode("utf-8"))


def _staff(username: str):
    return UserFactory(username=username, is_staff=True)


def _dealer_staff(username: str, dealer, role: str) -> Advisor:
    return AdvisorFactory(dealer=dealer, role=role, user=UserFactory(username=username))


def access_world() -> SimpleNamespace:
    """Build the dataset; every role's user and every sample object, by name."""
    from django_fsm_log.models import StateLog
    from django_q.models import OrmQ, Schedule, Task
    from rest_framework.authtoken.models import Token

    from leads.imports.exports import export_log_record
    from leads.imports.services import lead_import_upload
    from leads.services.cleansing import lead_call_record, lead_nurture_touch_record
    from reports.models import RegionManager, RollupRun

    w = SimpleNamespace()
    now = timezone.now()
    today = timezone.localdate()

    # --- network: R1 ⊃ D1, R2 ⊃ D2; channels C1, C2 with tokens
    w.region = Region.objects.create(code="AM_R1", name="矩阵一区")
    w.other_region = Region.objects.create(code="AM_R2", name="矩阵二区")
    w.dealer = DealerFactory(code="AMD1", name="矩阵一店", region=w.region)
    w.other_dealer = DealerFactory(code="AMD2", name="矩阵二店", region=w.other_region)
    w.window = w.dealer.windows.order_by("pk").first()
    w.closure = DealerClosure.objects.create(
        dealer=w.dealer, start_date=today, end_date=today, reason="盘点"
    )
    w.calendar_day, _created = WorkCalendarDay.objects.get_or_create(
        date=today, defaults={"is_workday": True}
    )
    w.channel = ChannelFactory(code="AM_C1", name="矩阵渠道一")
    w.other_channel = ChannelFactory(code="AM_C2", name="矩阵渠道二")
    w.c1_key = channel_token_rotate(channel=w.channel)
    w.c2_key = channel_token_rotate(channel=w.other_channel)
    w.channel_token = w.channel.token
    w.vehicle_model = VehicleModelFactory()
    w.vehicle_series = w.vehicle_model.series

    # --- users: HQ roles are groups given by hand; dealer staff and region managers are
    # put into their groups by roles_ensure() from their Advisor / RegionManager rows
    groups = roles.roles_ensure()
    users = {"anonymous": None}
    for key, role in HQ_ROLES.items():
        users[key] = _staff(f"am_{key}")
        users[key].groups.add(groups[role])
    users["region_manager"] = _staff("am_region_manager")
    users["other_region_manager"] = _staff("am_other_region_manager")
    w.region_manager_row = RegionManager.objects.create(
        user=users["region_manager"], region=w.region
    )
    RegionManager.objects.create(user=users["other_region_manager"], region=w.other_region)
    w.manager = _dealer_staff("am_dealer_manager", w.dealer, Advisor.Role.MANAGER)
    w.dcc = _dealer_staff("am_dcc", w.dealer, Advisor.Role.DCC)
    w.advisor = _dealer_staff("am_advisor", w.dealer, Advisor.Role.ADVISOR)
    w.colleague = _dealer_staff("am_colleague", w.dealer, Advisor.Role.ADVISOR)
    w.other_manager = _dealer_staff("am_other_dealer_manager", w.other_dealer, Advisor.Role.MANAGER)
    w.other_advisor = _dealer_staff("am_other_advisor", w.other_dealer, Advisor.Role.ADVISOR)
    users["dealer_manager"] = w.manager.user
    users["dcc"] = w.dcc.user
    users["advisor"] = w.advisor.user
    users["other_dealer_manager"] = w.other_manager.user
    users["other_advisor"] = w.other_advisor.user
    users["api_user"] = UserFactory(username="am_api_user")
    users["api_user"].groups.add(groups[roles.ROLE_API_CLIENT])
    users["api_c1"] = None  # a channel token, not a login
    users["api_c2"] = None
    roles.roles_ensure()
    w.users = users
    w.group = Group.objects.get(name=roles.ROLE_HQ_OPS)
    w.some_user = w.colleague.user

    # --- leads: the sample one at D1 owned by the advisor, a colleague's, one in D1's pool,
    # one at D2, one in HQ cleansing, one nurturing
    w.customer = CustomerFactory(mobile=SAMPLE_MOBILE, name=SAMPLE_NAME)
    w.lead = lead_at_dealer(
        Status.FOLLOWING, advisor=w.advisor, customer=w.customer, channel=w.channel
    )
    w.colleague_lead = lead_at_dealer(Status.FOLLOWING, advisor=w.colleague, channel=w.channel)
    w.pool_lead = lead_at_dealer(Status.DISPATCHED, dealer=w.dealer, channel=w.channel)
    w.other_lead = lead_at_dealer(
        Status.FOLLOWING, advisor=w.other_advisor, channel=w.other_channel
    )
    w.cleansing_lead = LeadFactory(status=Status.CLEANSING, channel=w.channel)
    w.nurturing_lead = LeadFactory(
        status=Status.NURTURING, channel=w.channel, nurture_due_at=now + datetime.timedelta(days=3)
    )

    # --- records around the sample lead
    w.raw_lead = RawLead.objects.create(
        channel=w.channel,
        external_id="AM-C1-0001",
        source=RawLead.Source.API,
        payload={"mobile": "139 8765 4321", "name": SAMPLE_NAME, "remark": "139-8765-4321"},
        mobile=SAMPLE_MOBILE,
        outcome=RawLead.Outcome.NEW,
        customer=w.customer,
        lead=w.lead,
    )
    w.other_raw_lead = RawLead.objects.create(
        channel=w.other_channel,
        external_id="AM-C2-0001",
        source=RawLead.Source.API,
        payload={"mobile": w.other_lead.customer.mobile},
        mobile=w.other_lead.customer.mobile,
        outcome=RawLead.Outcome.NEW,
        customer=w.other_lead.customer,
        lead=w.other_lead,
    )
    w.follow_up = FollowUp.objects.create(
        lead=w.lead,
        advisor=w.advisor,
        author=w.advisor.user,
        method=FollowUp.Method.PHONE,
        result=FollowUp.Result.REACHED,
        notes="客户 139 8765 4321 下周到店",  # advisors do type numbers into their notes
    )
    w.event = LeadEvent.objects.create(
        lead=w.lead, kind=LeadEvent.Kind.NOTE, action="note", reason="矩阵"
    )
    w.state_log = StateLog.objects.create(
        content_type=ContentType.objects.get_for_model(w.lead),
        object_id=str(w.lead.pk),
        transition="assign",
        source_state=Status.DISPATCHED,
        state=Status.FOLLOWING,
        by=users["hq_admin"],
    )
    w.notification = Notification.objects.create(
        recipient=w.advisor.user,
        dealer=w.dealer,
        lead=w.lead,
        kind=Notification.Kind.ASSIGNED,
        message="新分配线索",
    )
    w.notice = CustomerNotice.objects.create(
        customer=w.customer,
        lead=w.lead,
        kind=CustomerNotice.Kind.TRANSFER,
        from_dealer=w.other_dealer,
        to_dealer=w.dealer,
        message="转派通知",
    )
    w.sample = SupervisionSample.objects.create(
        kind=SupervisionSample.Kind.DISPATCHED,
        period_start=today,
        period_end=today,
        lead=w.lead,
        dealer=w.dealer,
    )
    lead_call_record(lead_id=w.cleansing_lead.pk, agent=users["hq_agent"], reached=False)
    w.call_record = CallRecord.objects.get(lead=w.cleansing_lead)
    lead_nurture_touch_record(
        lead_id=w.nurturing_lead.pk, agent=users["hq_agent"], medium="sms", content="你好"
    )
    w.nurture_touch = NurtureTouch.objects.get(lead=w.nurturing_lead)
    w.reveal = MobileReveal.objects.create(
        user=users["hq_admin"],
        lead=w.lead,
        customer=w.customer,
        reason=MobileReveal.Reason.CALL,
        source=MobileReveal.Source.ADMIN,
    )
    w.privacy_request = PrivacyRequest.objects.create(
        kind=PrivacyRequest.Kind.ACCESS,
        customer=w.customer,
        reference="AM-工单-1",
        handled_by=users["hq_admin"],
    )
    w.login_failure = LoginFailure.objects.create(username="am_nobody", ip="10.0.0.1")

    # --- rules and policies (reference data from the migrations, or one made here)
    w.grade_cycle = GradeCycle.objects.order_by("pk").first()
    w.scoring_rule = ScoringRule.objects.order_by("pk").first()
    w.invalid_reason = InvalidReason.objects.order_by("pk").first()
    w.lifecycle_rule = LifecycleRule.objects.order_by("pk").first()
    w.dispatch_policy = DispatchPolicy.current()
    w.cleansing_policy = CleansingPolicy.current()

    # --- uploads, exports, reports, the task queue, DRF tokens
    w.import_job = lead_import_upload(
        fileobj=_csv_upload("13700000001"),
        name="access-matrix.csv",
        channel=w.channel,
        user=users["hq_ops"],
    )
    w.dealer_import_job = lead_import_upload(
        fileobj=_csv_upload("13700000002"),
        name="access-matrix-dealer.csv",
        dealer=w.dealer,
        user=w.manager.user,
    )
    w.import_job.refresh_from_db()
    w.dealer_import_job.refresh_from_db()
    w.export_log = export_log_record(user=users["hq_admin"], model="leads.lead", row_count=1)
    w.rollup_run = RollupRun.objects.create(
        mode=RollupRun.Mode.MANUAL, finished_at=now, day_from=today, day_to=today
    )
    w.schedule = Schedule.objects.create(func="math.floor", args="1", name="am-demo")
    w.task_ok = Task.objects.create(
        id="am-task-ok", name="am-ok", func="math.floor", started=now, stopped=now, success=True
    )
    w.task_failed = Task.objects.create(
        id="am-task-failed",
        name="am-bad",
        func="math.floor",
        started=now,
        stopped=now,
        success=False,
    )
    w.ormq = OrmQ.objects.create(key="leadcentre", payload="x")
    w.drf_token = Token.objects.create(user=users["api_user"])
    return w
