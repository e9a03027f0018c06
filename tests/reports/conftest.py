"""A small network and a hand-made October 2026 whose KPIs are worked out by hand below.

Local days (Asia/Shanghai). 2026-10-05 is a Monday.

lead created      channel  dealer adv model grade status     timings (each from the step before)
L1   10-05 10:00  汽车之家 A      a1  M1    O     ordered    dispatch 1h, assign 30m, follow 2h;
                                                             arrived; a test drive
L2   10-05 11:00  汽车之家 A      a2  M2    F     defeated   dispatch 2h, assign 2h, follow 30h;
                                                             reason 价格
L3   10-06 00:30  懂车帝   B      b1  M1    H     following  dispatch 10m, assign 10m, follow 40m
L4   10-06 09:00  到店     C      c1  —     A     arrived    dispatch 0, assign 5m, follow 5m
L5   10-07 09:00  懂车帝   —      —   —     ''    invalid    reason 空号/停机
L6   10-07 10:00  汽车之家 —      —   —     ''    cleansing
L7   10-08 10:00  汽车之家 A      —   M2    B     dispatched dispatch 3h
L8   10-12 15:00  到店     C      c1  M2    C     assigned   dispatch 0, assign 1h
L9   09-30 23:00  汽车之家 A      a1  M1    A     following  (September)
L10  11-01 00:10  汽车之家 A      —   M1    B     dispatched (November)

Raw leads: one "new" per lead at its creation, plus
- 10-06 12:00 懂车帝 merged into L1; 10-08 12:00 汽车之家 reactivated L3;
- 10-09 08:00 汽车之家 invalid "手机号无效"; 10-09 09:00 到店 invalid "未提供手机号".

Regions: 北区 = A + B, 南区 = C. Channels: 厂商渠道 › 垂直媒体 › 汽车之家 / 懂车帝,
经销商渠道 › 展厅 › 到店.
"""

import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from channels.models import Channel
from dealers.models import Advisor, Region
from leads.models import FollowUp, RawLead, Status, VehicleModel, VehicleSeries
from tests.factories import AdvisorFactory, CustomerFactory, DealerFactory, LeadFactory

SH = ZoneInfo("Asia/Shanghai")
OCTOBER = (datetime.date(2026, 10, 1), datetime.date(2026, 10, 31))


def at(month, day, hour, minute=0):
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=SH)


H = datetime.timedelta(hours=1)
M = datetime.timedelta(minutes=1)


def _channels():
    oem = Channel.objects.create(code="T_OEM", name="厂商渠道", level=1)
    vertical = Channel.objects.create(code="T_VERT", name="垂直媒体", level=2, parent=oem)
    dealer_ch = Channel.objects.create(code="T_DLR", name="经销商渠道", level=1)
    showroom = Channel.objects.create(code="T_SHOW", name="展厅", level=2, parent=dealer_ch)
    return SimpleNamespace(
        oem=oem,
        vertical=vertical,
        dealer=dealer_ch,
        showroom=showroom,
        autohome=Channel.objects.create(code="T_AH", name="汽车之家", level=3, parent=vertical),
        dcd=Channel.objects.create(code="T_DCD", name="懂车帝", level=3, parent=vertical),
        walkin=Channel.objects.create(code="T_WALK", name="到店", level=3, parent=showroom),
    )


@pytest.fixture
def october(db):
    """The network and the ten leads of the table above (no rollup yet)."""
    return build_october()


def build_october():
    north = Region.objects.create(code="T_N", name="北区")
    south = Region.objects.create(code="T_S", name="南区")
    a = DealerFactory(code="TA", name="A店", region=north)
    b = DealerFactory(code="TB", name="B店", region=north)
    c = DealerFactory(code="TC", name="C店", region=south)
    a1 = AdvisorFactory(dealer=a, name="a1")
    a2 = AdvisorFactory(dealer=a, name="a2")
    b1 = AdvisorFactory(dealer=b, name="b1")
    c1 = AdvisorFactory(dealer=c, name="c1")
    manager_a = AdvisorFactory(dealer=a, name="经理A", role=Advisor.Role.MANAGER)
    dcc_c = AdvisorFactory(dealer=c, name="DCC-C", role=Advisor.Role.DCC)
    ch = _channels()
    series = VehicleSeries.objects.create(code="T_S1", name="测试车系")
    m1 = VehicleModel.objects.create(series=series, code="T_M1", name="远航")
    m2 = VehicleModel.objects.create(series=series, code="T_M2", name="星河")

    def lead(created, channel, status, *, dealer=None, advisor=None, model=None, grade="", **kw):
        return LeadFactory(
            customer=CustomerFactory(),
            created_at=created,
            channel=channel,
            status=status,
            dealer=dealer,
            advisor=advisor,
            intended_model=model,
            grade=grade,
            consent_dealer=dealer,
            **kw,
        )

    t1 = at(10, 5, 10)
    l1 = lead(
        t1, ch.autohome, Status.ORDERED, dealer=a, advisor=a1, model=m1, grade="O",
        dispatched_at=t1 + H, assigned_at=t1 + 90 * M, first_followed_at=t1 + 210 * M,
        arrived_at=at(10, 7, 15), ordered_at=at(10, 10, 16),
    )  # fmt: skip
    t2 = at(10, 5, 11)
    l2 = lead(
        t2, ch.autohome, Status.DEFEATED, dealer=a, advisor=a2, model=m2, grade="F",
        dispatched_at=t2 + 2 * H, assigned_at=t2 + 4 * H, first_followed_at=t2 + 34 * H,
        defeated_at=at(10, 20, 10), defeat_reason="价格",
    )  # fmt: skip
    t3 = at(10, 6, 0, 30)
    l3 = lead(
        t3, ch.dcd, Status.FOLLOWING, dealer=b, advisor=b1, model=m1, grade="H",
        dispatched_at=t3 + 10 * M, assigned_at=t3 + 20 * M, first_followed_at=t3 + 60 * M,
    )  # fmt: skip
    t4 = at(10, 6, 9)
    l4 = lead(
        t4, ch.walkin, Status.ARRIVED, dealer=c, advisor=c1, grade="A",
        dispatched_at=t4, assigned_at=t4 + 5 * M, first_followed_at=t4 + 10 * M,
        arrived_at=t4 + 2 * H,
    )  # fmt: skip
    l5 = lead(at(10, 7, 9), ch.dcd, Status.INVALID, invalid_reason="空号/停机")
    l6 = lead(at(10, 7, 10), ch.autohome, Status.CLEANSING)
    t7 = at(10, 8, 10)
    l7 = lead(t7, ch.autohome, Status.DISPATCHED, dealer=a, model=m2, grade="B",
              dispatched_at=t7 + 3 * H)  # fmt: skip
    t8 = at(10, 12, 15)
    l8 = lead(
        t8, ch.walkin, Status.ASSIGNED, dealer=c, advisor=c1, model=m2, grade="C",
        dispatched_at=t8, assigned_at=t8 + H,
    )  # fmt: skip
    t9 = at(9, 30, 23)
    l9 = lead(
        t9, ch.autohome, Status.FOLLOWING, dealer=a, advisor=a1, model=m1, grade="A",
        dispatched_at=t9 + H, assigned_at=t9 + 2 * H, first_followed_at=t9 + 3 * H,
    )  # fmt: skip
    t10 = at(11, 1, 0, 10)
    l10 = lead(t10, ch.autohome, Status.DISPATCHED, dealer=a, model=m1, grade="B",
               dispatched_at=t10 + H)  # fmt: skip
    leads = [l1, l2, l3, l4, l5, l6, l7, l8, l9, l10]

    def raw(when, channel, outcome, lead=None, detail=""):
        return RawLead.objects.create(
            channel=channel,
            source=RawLead.Source.API,
            payload={"mobile": lead.customer.mobile if lead else "12"},
            received_at=when,
            mobile=lead.customer.mobile if lead else "",
            outcome=outcome,
            outcome_detail=detail,
            lead=lead,
            customer=lead.customer if lead else None,
        )

    for item in leads:
        raw(item.created_at, item.channel, RawLead.Outcome.NEW, item)
    raw(at(10, 6, 12), ch.dcd, RawLead.Outcome.MERGED, l1)
    raw(at(10, 8, 12), ch.autohome, RawLead.Outcome.REACTIVATED, l3)
    raw(at(10, 9, 8), ch.autohome, RawLead.Outcome.INVALID, detail="手机号无效")
    raw(at(10, 9, 9), ch.walkin, RawLead.Outcome.INVALID, detail="未提供手机号")
    FollowUp.objects.create(
        lead=l1,
        advisor=a1,
        method=FollowUp.Method.STORE,
        result=FollowUp.Result.TEST_DRIVE,
        created_at=at(10, 7, 16),
    )
    return SimpleNamespace(
        north=north,
        south=south,
        a=a,
        b=b,
        c=c,
        a1=a1,
        a2=a2,
        b1=b1,
        c1=c1,
        manager_a=manager_a,
        dcc_c=dcc_c,
        ch=ch,
        m1=m1,
        m2=m2,
        leads=leads,
        l1=l1,
        l2=l2,
        l3=l3,
        l4=l4,
        l5=l5,
        l6=l6,
        l7=l7,
        l8=l8,
    )


# The refresh of the fixture ran at this moment; the tests move time on from it.
REFRESHED_AT = datetime.datetime(2026, 11, 25, 11, 0, tzinfo=SH)


def refresh_october() -> None:
    import time_machine

    from reports.services import rollups_refresh_range

    with time_machine.travel(REFRESHED_AT):
        rollups_refresh_range(first=datetime.date(2026, 9, 1), last=datetime.date(2026, 11, 30))


@pytest.fixture
def refreshed(october):
    """October's data with its rollups built (September to November)."""
    refresh_october()
    return october


@pytest.fixture
def network_query():
    from reports.scope import ALL, ReportScope
    from reports.selectors import ReportQuery

    def make(**kwargs):
        kwargs.setdefault("start", OCTOBER[0])
        kwargs.setdefault("end", OCTOBER[1])
        return ReportQuery(scope=ReportScope(ALL, label="全网"), **kwargs)

    return make
