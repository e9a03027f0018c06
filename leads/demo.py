"""Demo data: a realistic dealer network and leads with a consistent history, plus demo logins.

`demo_seed` builds, deterministically from a seed: the three-level channel taxonomy, 8 regions,
the dealers with their dispatch windows, the dealer staff and HQ agents with their logins, the
vehicle range, and N leads spread over every status and grade, each with its customer, raw
submissions and everything the services write along the way. `manage.py seed_demo` is a thin
wrapper around it.

The lead history is written in bulk and bypasses the services (leads/services/) on purpose: a
service locks one row, runs one transition and writes its rows, which is right for real traffic
and far too slow for 100,000 demo leads. Instead each lead's life is simulated in Python, step by
step as the services take it (intake, cleansing calls, dispatch, assignment, follow-ups, the
lifecycle rules), appending the rows each service writes: LeadEvent, the StateLog row of each
transition, CallRecord, NurtureTouch, FollowUp, Notification and the RawLead of each
submission. The result keeps every database constraint and the rules the services enforce (one
lead per customer per dealer, consent before dispatch, an advisor of the same dealer for owned
statuses, grade O/F for ordered/defeated, ...), and it is a steady state: the dispatch sweep and
the default lifecycle rules find nothing overdue in it.

The network goes through `bulk_create`. The lead tables (about 25 rows per lead) go through
`_append` with ids assigned here, COPY on PostgreSQL and `executemany` on SQLite, inside one
transaction set up for bulk loading (`_bulk_load`): the ORM spends ~40 µs per row preparing
values, which for 2.5M rows alone would blow the one-minute budget for 100,000 leads.
"""

from __future__ import annotations

import bisect
import itertools
import json
import random
import time
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm_log.models import StateLog

from channels.models import Channel
from dealers.calendar import HORIZON_DAYS, CalendarMissing, WorkCalendar, window_weekday
from dealers.models import Advisor, Dealer, DispatchWindow, Region
from leads.models import (
    HQ_STATUSES,
    REACTIVATABLE_STATUSES,
    WORKING_STATUSES,
    CallRecord,
    CleansingPolicy,
    Customer,
    DispatchPolicy,
    FollowUp,
    Grade,
    GradeCycle,
    Intent,
    InvalidReason,
    Lead,
    LeadEvent,
    LifecycleRule,
    MobileReveal,
    Notification,
    NurtureTouch,
    PurchaseTimeframe,
    RawLead,
    ScoringRule,
    Status,
    VehicleModel,
    VehicleSeries,
)
from leads.nurture import next_nurture_due
from leads.scoring import ScoreInput, active_rules, score
from leads.services.follow_up import DEFAULT_CYCLE_DAYS
from leads.services.intake import reason_text
from leads.services.lifecycle import STAGE_ORDER
from leads.services.roles import (
    ROLE_ADVISOR,
    ROLE_DCC,
    ROLE_DEALER_MANAGER,
    ROLE_HQ_ADMIN,
    ROLE_HQ_AGENT,
    ROLE_HQ_AUDITOR,
    ROLE_HQ_OPS,
    ROLE_REGION_MANAGER,
    role_of_advisor,
    roles_ensure,
)

User = get_user_model()

# Plain-string aliases of the choices: the DB drivers receive str, not enum members.
S = SimpleNamespace(**{member.name: member.value for member in Status})
G = SimpleNamespace(**{member.name: member.value for member in Grade})
K = SimpleNamespace(**{member.name: member.value for member in LeadEvent.Kind})
R = SimpleNamespace(**{member.name: member.value for member in FollowUp.Result})
M = SimpleNamespace(**{member.name: member.value for member in FollowUp.Method})
OUT = SimpleNamespace(**{member.name: member.value for member in RawLead.Outcome})
SRC = SimpleNamespace(**{member.name: member.value for member in RawLead.Source})

BATCH = 5000
ADMIN_URL = "http://127.0.0.1:8000/admin/"
DEALER_URL = "http://127.0.0.1:8000/dealer/"
DEMO_DEALER_CODE = "D0001"
# The generated dealer staff and HQ agents share this password (hashed once).
STAFF_PASSWORD = "demo12345"


# --- demo logins: the one list both `seed_demo` and `demo_logins` use -------------------------


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    group: str
    full_name: str
    is_superuser: bool = False
    advisor_role: str = ""  # set for dealer users: they get an Advisor row at D0001
    region_manager: bool = False  # manages the region of D0001

    @property
    def is_staff(self) -> bool:
        return not self.advisor_role

    @property
    def url(self) -> str:
        return ADMIN_URL if self.is_staff else DEALER_URL


# Dealer users are not admin staff: the admin shows every dealer's leads, and a dealer may
# see only its own (SPEC.md, personal information). They use the dealer pages.
DEMO_LOGINS = (
    DemoLogin("admin", "admin12345", "总部管理员（超级用户）", ROLE_HQ_ADMIN, "系统管理员", True),
    DemoLogin("agent", "agent12345", "总部清洗坐席", ROLE_HQ_AGENT, "陈静"),
    DemoLogin("ops", "ops12345678", "总部运营", ROLE_HQ_OPS, "刘洋"),
    DemoLogin("auditor", "auditor12345", "总部审计（只读）", ROLE_HQ_AUDITOR, "孙丽"),
    DemoLogin(
        "region",
        "region12345",
        f"大区经理（{DEMO_DEALER_CODE} 所在大区）",
        ROLE_REGION_MANAGER,
        "周海",
        region_manager=True,
    ),
    DemoLogin(
        "manager",
        "manager12345",
        f"经销商销售经理（{DEMO_DEALER_CODE}）",
        ROLE_DEALER_MANAGER,
        "赵建国",
        advisor_role=Advisor.Role.MANAGER.value,
    ),
    DemoLogin(
        "dcc",
        "dcc12345678",
        f"经销商 DCC（{DEMO_DEALER_CODE}）",
        ROLE_DCC,
        "吴敏",
        advisor_role=Advisor.Role.DCC.value,
    ),
    DemoLogin(
        "advisor",
        "advisor12345",
        f"销售顾问（{DEMO_DEALER_CODE}）",
        ROLE_ADVISOR,
        "王小明",
        advisor_role=Advisor.Role.ADVISOR.value,
    ),
)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(_width(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(row: list[str]) -> str:
        cells = [cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row)]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def demo_logins_table() -> str:
    """The demo logins as a printable table, marking the ones missing from the database."""
    existing = set(
        User.objects.filter(username__in=[login.username for login in DEMO_LOGINS]).values_list(
            "username", flat=True
        )
    )
    rows = []
    for login in DEMO_LOGINS:
        role = login.role if login.username in existing else f"{login.role} {_('（未创建）')}"
        rows.append([login.username, login.password, role, login.url])
    header = [_("用户名"), _("密码"), _("角色"), _("登录地址")]
    note = _("其余经销商员工与总部坐席账号的密码均为 %(password)s。") % {"password": STAFF_PASSWORD}
    return f"{_('演示账号')}\n{_table(header, rows)}\n{note}"


def demo_logins_ensure(*, dealer: Dealer, groups: dict) -> dict[str, tuple]:
    """Create or update the demo logins (safe to re-run); dealer users get an Advisor row.

    Returns username -> (user, advisor or None).
    """
    result = {}
    today = timezone.localdate()
    for login in DEMO_LOGINS:
        user, _created = User.objects.update_or_create(
            username=login.username,
            defaults={
                "password": make_password(login.password),
                "first_name": login.full_name,
                "last_name": "",
                "is_staff": login.is_staff,
                "is_superuser": login.is_superuser,
                "is_active": True,
            },
        )
        user.groups.set([groups[login.group]])
        advisor = None
        if login.advisor_role:
            is_manager = login.advisor_role == Advisor.Role.MANAGER
            advisor, _created = Advisor.objects.update_or_create(
                user=user,
                defaults={
                    "dealer": dealer,
                    "name": login.full_name,
                    "role": login.advisor_role,
                    "level": Advisor.Level.SENIOR if is_manager else Advisor.Level.INTERMEDIATE,
                    "hire_date": today - timedelta(days=2900 if is_manager else 800),
                    "years_experience": 12 if is_manager else 3,
                    "is_active": True,
                },
            )
        if login.region_manager:
            from reports.models import RegionManager

            RegionManager.objects.get_or_create(user=user, region_id=dealer.region_id)
        result[login.username] = (user, advisor)
    return result


# --- static data --------------------------------------------------------------------------------
# Tables read better one row per line.
# fmt: off

# (code, name, [(category code, name, how its raw leads arrive, [(code, name,
#   needs_cleansing, score_weight, share of the lead volume)])])
CHANNEL_TREE = [
    ("OEM", "厂商渠道", [
        ("OEM_VERTICAL", "垂直媒体", SRC.API, [
            ("AUTOHOME", "汽车之家", True, 70, 18),
            ("DONGCHEDI", "懂车帝", True, 66, 16),
            ("BITAUTO", "易车", True, 62, 10),
            ("PCAUTO", "太平洋汽车", True, 58, 5),
            ("XCAR", "爱卡汽车", True, 55, 3),
            ("QCDP", "汽车点评", True, 52, 2),
            ("YOUCHE", "有驾", True, 50, 1.5),
            ("SOHU_AUTO", "搜狐汽车", True, 48, 1.5),
            ("SINA_AUTO", "新浪汽车", True, 47, 1.2),
            ("NETEASE_AUTO", "网易汽车", True, 46, 1.0),
        ]),
        ("OEM_SOCIAL", "新媒体/社交", SRC.API, [
            ("DOUYIN", "抖音", True, 50, 10),
            ("KUAISHOU", "快手", True, 42, 4),
            ("XIAOHONGSHU", "小红书", True, 48, 3),
            ("TOUTIAO", "今日头条", True, 42, 3),
            ("BAIDU_SEM", "百度搜索推广", True, 45, 3),
            ("WEIBO", "微博", True, 38, 1.5),
            ("BILIBILI", "哔哩哔哩", True, 40, 1.0),
            ("ZHIHU", "知乎", True, 40, 0.6),
        ]),
        ("OEM_WECHAT", "微信生态", SRC.API, [
            ("WX_MP", "微信公众号", True, 68, 3),
            ("WX_MINIAPP", "官方小程序", False, 78, 4),
            ("WECOM", "企业微信", False, 82, 2),
            ("WX_CHANNELS", "视频号", True, 50, 2),
            ("WX_MOMENTS_AD", "朋友圈广告", True, 45, 2),
        ]),
        ("OEM_CALLCENTER", "呼叫中心", SRC.ADMIN, [
            ("HOTLINE_400", "400热线", False, 88, 3),
            ("ONLINE_CS", "在线客服", True, 72, 1.5),
            ("OUTBOUND_CALL", "外呼营销", True, 60, 1.5),
            ("SMS_CAMPAIGN", "短信营销", True, 40, 1.0),
        ]),
        ("OEM_OWNED", "官方自有", SRC.API, [
            ("OFFICIAL_WEB", "官网", False, 80, 4),
            ("OFFICIAL_APP", "官方APP", False, 82, 3),
            ("TMALL_STORE", "天猫旗舰店", True, 60, 1.2),
            ("JD_STORE", "京东旗舰店", True, 58, 0.8),
            ("OWNER_REFERRAL", "车主推荐", False, 90, 1.5),
        ]),
        ("OEM_AUTOSHOW", "车展活动", SRC.EXCEL, [
            ("AUTOSHOW_BJ", "北京车展", True, 62, 0.8),
            ("AUTOSHOW_SH", "上海车展", True, 62, 0.9),
            ("AUTOSHOW_GZ", "广州车展", True, 62, 0.9),
            ("AUTOSHOW_CD", "成都车展", True, 60, 0.6),
            ("AUTOSHOW_SZ", "深圳车展", True, 60, 0.5),
            ("AUTOSHOW_WH", "武汉车展", True, 58, 0.4),
            ("ROADSHOW", "城市巡展", True, 55, 0.6),
            ("TEST_DRIVE_EVENT", "品牌试驾会", False, 75, 0.6),
        ]),
        ("OEM_PARTNER", "异业合作", SRC.EXCEL, [
            ("PARTNER_PINGAN", "平安好车主", True, 45, 0.8),
            ("PARTNER_CMB", "招商银行信用卡", True, 42, 0.5),
            ("PARTNER_ALIPAY", "支付宝", True, 38, 0.6),
            ("PARTNER_AMAP", "高德地图", True, 40, 0.5),
            ("PARTNER_DIDI", "滴滴出行", True, 36, 0.4),
            ("PARTNER_CHINA_MOBILE", "中国移动", True, 35, 0.3),
        ]),
    ]),
    ("DEALER", "经销商渠道", [
        ("DLR_SHOWROOM", "展厅", SRC.DEALER, [
            ("WALK_IN", "展厅到店", False, 95, 6),
            ("SHOWROOM_CALL", "展厅来电", False, 88, 2),
            ("CUSTOMER_REFERRAL", "老客户转介绍", False, 92, 1.5),
            ("TRADE_IN", "置换客户", False, 85, 1.0),
        ]),
        ("DLR_OWNED", "经销商自有", SRC.DEALER, [
            ("DEALER_CARD", "经销商名片", False, 85, 2),
            ("DEALER_WECOM", "顾问企业微信", False, 85, 1.0),
            ("DEALER_DOUYIN", "经销商抖音号", False, 60, 1.5),
            ("DEALER_AUTOHOME", "经销商汽车之家店铺", False, 65, 1.5),
            ("DEALER_OUTREACH", "经销商外拓", False, 70, 1.0),
            ("DEALER_LOCAL_SHOW", "经销商本地车展", False, 68, 0.8),
        ]),
    ]),
]

# (region code, name, [(province, weight, [(city, area code, weight)])])
REGIONS = [
    ("NORTH", "华北大区", [
        ("北京", 9, [("北京", "010", 1)]),
        ("天津", 4, [("天津", "022", 1)]),
        ("河北", 6, [("石家庄", "0311", 3), ("唐山", "0315", 2), ("保定", "0312", 2),
                     ("邯郸", "0310", 1), ("沧州", "0317", 1)]),
        ("山西", 3, [("太原", "0351", 3), ("大同", "0352", 1), ("临汾", "0357", 1)]),
        ("内蒙古", 2, [("呼和浩特", "0471", 2), ("包头", "0472", 2), ("鄂尔多斯", "0477", 1)]),
    ]),
    ("NORTHEAST", "东北大区", [
        ("辽宁", 5, [("沈阳", "024", 3), ("大连", "0411", 3), ("鞍山", "0412", 1)]),
        ("吉林", 3, [("长春", "0431", 3), ("吉林", "0432", 1)]),
        ("黑龙江", 3, [("哈尔滨", "0451", 3), ("大庆", "0459", 1), ("齐齐哈尔", "0452", 1)]),
    ]),
    ("EAST1", "华东一区", [
        ("上海", 9, [("上海", "021", 1)]),
        ("江苏", 13, [("南京", "025", 3), ("苏州", "0512", 3), ("无锡", "0510", 2),
                      ("常州", "0519", 1), ("南通", "0513", 1), ("徐州", "0516", 1)]),
        ("浙江", 12, [("杭州", "0571", 3), ("宁波", "0574", 2), ("温州", "0577", 2),
                      ("绍兴", "0575", 1), ("金华", "0579", 1), ("嘉兴", "0573", 1)]),
    ]),
    ("EAST2", "华东二区", [
        ("山东", 11, [("济南", "0531", 3), ("青岛", "0532", 3), ("烟台", "0535", 1),
                      ("潍坊", "0536", 1), ("临沂", "0539", 1)]),
        ("安徽", 5, [("合肥", "0551", 3), ("芜湖", "0553", 1)]),
        ("福建", 6, [("福州", "0591", 2), ("厦门", "0592", 2), ("泉州", "0595", 2)]),
        ("江西", 4, [("南昌", "0791", 3), ("赣州", "0797", 1)]),
    ]),
    ("CENTRAL", "华中大区", [
        ("河南", 8, [("郑州", "0371", 4), ("洛阳", "0379", 1), ("南阳", "0377", 1)]),
        ("湖北", 6, [("武汉", "027", 4), ("宜昌", "0717", 1), ("襄阳", "0710", 1)]),
        ("湖南", 6, [("长沙", "0731", 4), ("株洲", "0731", 1), ("衡阳", "0734", 1)]),
    ]),
    ("SOUTH", "华南大区", [
        ("广东", 16, [("广州", "020", 4), ("深圳", "0755", 4), ("东莞", "0769", 2),
                      ("佛山", "0757", 2), ("惠州", "0752", 1), ("中山", "0760", 1)]),
        ("广西", 4, [("南宁", "0771", 2), ("柳州", "0772", 1), ("桂林", "0773", 1)]),
        ("海南", 1.5, [("海口", "0898", 2), ("三亚", "0898", 1)]),
    ]),
    ("SOUTHWEST", "西南大区", [
        ("重庆", 5, [("重庆", "023", 1)]),
        ("四川", 8, [("成都", "028", 5), ("绵阳", "0816", 1), ("宜宾", "0831", 1)]),
        ("贵州", 3, [("贵阳", "0851", 2), ("遵义", "0851", 1)]),
        ("云南", 3.5, [("昆明", "0871", 3), ("曲靖", "0874", 1)]),
        ("西藏", 0.3, [("拉萨", "0891", 1)]),
    ]),
    ("NORTHWEST", "西北大区", [
        ("陕西", 5, [("西安", "029", 4), ("宝鸡", "0917", 1)]),
        ("甘肃", 2, [("兰州", "0931", 1)]),
        ("新疆", 2, [("乌鲁木齐", "0991", 1)]),
        ("宁夏", 0.8, [("银川", "0951", 1)]),
        ("青海", 0.7, [("西宁", "0971", 1)]),
    ]),
]
_PROVINCE_NAMES = {"内蒙古": "内蒙古自治区", "广西": "广西壮族自治区", "西藏": "西藏自治区",
                   "宁夏": "宁夏回族自治区", "新疆": "新疆维吾尔自治区"}

# (code, name, popularity, [(model code, model name)])
VEHICLES = [
    ("LY", "凌云", 14, [
        ("LY-15T-CS", "凌云 1.5T 舒适版"), ("LY-15T-HH", "凌云 1.5T 豪华版"),
        ("LY-20T-ZX", "凌云 2.0T 尊享版"), ("LY-20T-QJ", "凌云 2.0T 旗舰版"),
    ]),
    ("LYEV", "凌云EV", 10, [
        ("LYEV-520", "凌云EV 520km 标准续航版"), ("LYEV-650", "凌云EV 650km 长续航版"),
        ("LYEV-AWD", "凌云EV 双电机四驱性能版"),
    ]),
    ("YH3", "远航X3", 20, [
        ("YH3-15T-JY", "远航X3 1.5T 精英版"), ("YH3-15T-HH", "远航X3 1.5T 豪华版"),
        ("YH3-15T-ZG", "远航X3 1.5T 尊贵版"), ("YH3-15T-ZJ", "远航X3 1.5T 智驾版"),
    ]),
    ("YH5", "远航X5", 18, [
        ("YH5-20T-2JY", "远航X5 2.0T 两驱精英版"), ("YH5-20T-2HH", "远航X5 2.0T 两驱豪华版"),
        ("YH5-20T-4HH", "远航X5 2.0T 四驱豪华版"), ("YH5-20T-4QJ", "远航X5 2.0T 四驱旗舰版"),
    ]),
    ("YH7", "远航X7", 9, [
        ("YH7-20T-7HH", "远航X7 2.0T 七座豪华版"), ("YH7-20T-7QJ", "远航X7 2.0T 七座旗舰版"),
        ("YH7-20T-4LH", "远航X7 2.0T 四驱领航版"), ("YH7-20T-6XZ", "远航X7 2.0T 六座行政版"),
    ]),
    ("QC", "青川", 5, [
        ("QC-20T-SW", "青川 2.0T 商务版"), ("QC-20T-HH", "青川 2.0T 豪华版"),
        ("QC-20T-QJ", "青川 2.0T 旗舰版"),
    ]),
    ("XH", "星河", 16, [
        ("XH-DM110-LX", "星河 DM 110km 领先版"), ("XH-DM110-ZY", "星河 DM 110km 卓越版"),
        ("XH-DM200-QJ", "星河 DM 200km 旗舰版"), ("XH-DM200-4WD", "星河 DM 200km 四驱版"),
    ]),
    ("CY", "驰野", 4, [
        ("CY-20TD-2BZ", "驰野 2.0T 柴油两驱标准版"), ("CY-20TD-4JY", "驰野 2.0T 柴油四驱精英版"),
        ("CY-24T-4HH", "驰野 2.4T 汽油四驱豪华版"), ("CY-24T-YY", "驰野 2.4T 越野版"),
    ]),
]

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺"
    "顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_COMPOUND_SURNAMES = ("欧阳", "上官", "司马", "诸葛")
_GIVEN_MALE = (
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林欢阳建国峰亮成东文博志晨昊"
    "然轩睿宏海洋"
)
_GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀玲燕婷雪琳颖倩佳悦欣怡晶慧璐露瑶萍红梅丹妍蕾雯婧菲琪思雨月"
_MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "147", "150", "151",
    "152", "153", "155", "156", "157", "158", "159", "166", "173", "175", "176", "177", "178",
    "180", "181", "182", "183", "184", "185", "186", "187", "188", "189", "191", "193", "195",
    "198", "199",
)
_TRADE_NAMES = (
    "东华", "华通", "中升", "广汇", "永达", "利星", "宝利", "恒信", "润华", "冠骏", "中达",
    "正通", "鹏龙", "庞大", "元通", "申湘", "和谐", "美东", "运通", "亚飞", "华胜", "九州",
    "远通", "联拓", "新丰", "鸿运", "瑞通", "金阳", "博越", "骏达", "众和", "嘉诚", "泰和",
    "天成", "盛世", "安吉", "顺达", "万通", "星驰", "宏图",
)
_COMPANY_SUFFIXES = (("汽车销售服务有限公司", 6), ("汽车贸易有限公司", 2),
                     ("汽车服务有限公司", 1), ("汽车销售有限公司", 1))
_AREAS = ("经济技术开发区", "高新区", "汽车产业园", "城南新区", "城北区", "城东区", "滨江新区")
_ROADS = (
    "人民路", "建设路", "解放路", "中山路", "长江路", "黄河路", "世纪大道", "汽车城路",
    "工业大道", "迎宾大道", "滨河路", "开发区大道", "南环路", "北环路", "东风路", "金桥路",
    "汽配城路",
)
# Submissions per hour of the day: evenings after work are the busiest.
_HOUR_WEIGHTS = (1, 0.5, 0.3, 0.2, 0.2, 0.3, 0.8, 1.5, 3, 4, 5, 5,
                 4, 4, 5, 5, 5, 4, 4, 5, 6, 6, 4, 2)

# Share of each status in a snapshot of the funnel, and the age range (hours) of such leads:
# recent leads sit early in the funnel, old ones are closed.
STATUS_SHARE = {
    S.NEW: (0.5, 0.0, 0.02),
    S.CLEANSING: (5.0, 0.5, 72),
    S.QUALIFIED: (1.0, 0.1, 10),
    S.INVALID: (8.0, 2, 2880),
    S.NURTURING: (6.0, 72, 2400),
    S.ARCHIVED: (3.0, 1500, 2880),
    S.DISPATCHED: (3.5, 0.2, 30),
    S.ASSIGNED: (3.0, 0.3, 20),  # the no-first-follow-up rule recalls after 24 h
    S.FOLLOWING: (14.0, 24, 1440),  # working leads end within their validity: build()
    S.INVITED: (4.5, 48, 1200),
    S.ARRIVED: (3.5, 72, 1600),
    S.TEST_DRIVE: (3.0, 72, 1800),
    S.ORDERED: (9.0, 120, 2880),
    S.DEFEAT_REQUESTED: (1.5, 24, 400),
    S.DEFEATED: (13.0, 168, 2880),
    S.SILENCED: (1.0, 240, 1800),  # silenced within the last day: build()
    S.RELEASED: (7.0, 300, 2880),
    S.RECALLED: (3.0, 24, 2880),
}
assert set(STATUS_SHARE) == set(Status.values)

# The demo advisor of D0001 gets leads in these statuses, and the dealer's inbox these.
DEMO_ADVISOR_STATUSES = (
    S.ASSIGNED, S.ASSIGNED, S.FOLLOWING, S.FOLLOWING, S.FOLLOWING, S.INVITED, S.ARRIVED,
    S.TEST_DRIVE, S.DEFEAT_REQUESTED, S.SILENCED, S.ORDERED, S.DEFEATED,
)
DEMO_INBOX_STATUSES = (S.DISPATCHED, S.DISPATCHED, S.RELEASED, S.RECALLED)

_TIMEFRAME = {G.H: PurchaseTimeframe.WEEKS_2.value, G.A: PurchaseTimeframe.MONTH_1.value,
              G.B: PurchaseTimeframe.MONTHS_3.value, G.C: PurchaseTimeframe.MONTHS_6.value,
              G.N: PurchaseTimeframe.LATER.value}
_INTENT = {G.H: Intent.HIGH.value, G.A: Intent.HIGH.value, G.B: Intent.NORMAL.value,
           G.C: Intent.NORMAL.value, G.N: Intent.LOW.value}
_TIMEFRAME_POINTS = {"2w": 25, "1m": 20, "3m": 12, "6m": 6, "later": 2}
# Days between two follow-ups, by grade.
_FOLLOW_GAP = {G.H: (0.5, 4), G.A: (1, 8), G.B: (2, 15), G.C: (4, 30), G.UNRATED: (1, 5),
               G.N: (7, 30)}

INVALID_REASONS = ("空号", "停机", "号码错误，非本人留资", "无购车意向，误点广告", "同行调研",
                   "多次未接通（3次以上）", "重复测试数据")
DEFEAT_REASONS = ("已购竞品（比亚迪）", "已购竞品（丰田）", "已购竞品（大众）",
                  "预算不足，暂缓购车", "价格未谈拢", "异地购车", "家人意见不一致，放弃购买",
                  "长期联系不上", "已在其他经销商购买")
RECALL_REASONS = ("顾问离职，召回重新分配", "跟进不及时，经理召回", "客户投诉，经理召回")
CALL_RESULTS = ("未接通", "占线", "关机", "客户要求稍后回电")
NURTURE_TOUCHES = (("sms", "新车型上市，欢迎到店品鉴"), ("sms", "本月金融政策：首付两成起"),
                   ("email", "周末试驾活动邀请"), ("call", "回访：暂无购车计划，下月再联系"))
NOTES = {
    R.REACHED: ("客户询问落地价，已发报价", "已加微信，发送车型配置表",
                "客户在对比竞品，约周末再联系", "介绍当月金融政策，客户考虑中",
                "客户关注置换补贴，已预约评估旧车", "客户询问提车周期和颜色"),
    R.NOT_REACHED: ("电话未接通，已发短信", "客户在开会，约稍后回电", "关机", "占线，稍后再拨"),
    R.INVITED: ("邀约客户本周六到店试驾", "客户答应周末带家人到店看车", "邀约参加店内团购会"),
    R.ARRIVED: ("客户到店看车，重点关注空间和油耗", "客户到店，已讲解配置与金融方案"),
    R.TEST_DRIVE: ("完成试驾，客户对动力满意", "试驾后客户较满意，正在谈价格"),
    R.ORDERED: ("客户签订购车合同，已交定金", "全款成交，预计下周提车",
                "分期成交，已提交金融审批"),
}
_PLAIN = (R.REACHED,) * 7 + (R.NOT_REACHED,) * 3
# fmt: on


class _Picker:
    """Weighted choice with precomputed cumulative weights (random.choices rebuilds them)."""

    __slots__ = ("items", "cum", "total")

    def __init__(self, items, weights):
        self.items = list(items)
        self.cum = list(itertools.accumulate(weights))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random):
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]


_SURNAME_PICKER = _Picker(
    [*_SURNAMES, *_COMPOUND_SURNAMES],
    [1 / (rank + 4) for rank in range(len(_SURNAMES))] + [0.002] * len(_COMPOUND_SURNAMES),
)
_HOUR_PICKER = _Picker(range(24), _HOUR_WEIGHTS)
_GRADE_PICKER = _Picker([G.H, G.A, G.B, G.C], [15, 35, 35, 15])
_SUFFIX_PICKER = _Picker([s for s, _w in _COMPANY_SUFFIXES], [w for _s, w in _COMPANY_SUFFIXES])
_LEVEL_PICKER = _Picker((1, 2, 3), (45, 35, 20))


def _person_name(rng: random.Random) -> str:
    chars = _GIVEN_MALE if rng.random() < 0.55 else _GIVEN_FEMALE
    given = rng.choice(chars) if rng.random() < 0.3 else rng.choice(chars) + rng.choice(chars)
    return _SURNAME_PICKER.pick(rng) + given


def _customer_name(rng: random.Random) -> str:
    """Media leads often carry only a surname and a title, some no name at all."""
    roll = rng.random()
    if roll < 0.05:
        return ""
    if roll < 0.27:
        return _SURNAME_PICKER.pick(rng) + ("先生" if rng.random() < 0.6 else "女士")
    return _person_name(rng)


def _mobile(rng: random.Random, used: set[str]) -> str:
    while True:
        mobile = rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(100_000_000):08d}"
        if mobile not in used:
            used.add(mobile)
            return mobile


def _as_sent(rng: random.Random, mobile: str) -> str:
    """The mobile as a channel sends it: spaces, dashes, +86, sometimes full-width digits."""
    roll = rng.random()
    if roll < 0.7:
        return mobile
    if roll < 0.8:
        return f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}"
    if roll < 0.9:
        return f"+86 {mobile}"
    if roll < 0.97:
        return f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}"
    return mobile.translate(str.maketrans("0123456789", "０１２３４５６７８９"))


def _largest_remainder(total: int, weights: list[float], minimum: int = 0) -> list[int]:
    """Split `total` into integer parts proportional to `weights` (each at least `minimum`)."""
    counts = [minimum] * len(weights)
    rest = total - minimum * len(weights)
    if rest <= 0:
        return counts
    wsum = sum(weights)
    shares = [rest * w / wsum for w in weights]
    floors = [int(share) for share in shares]
    left = rest - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: shares[i] - floors[i], reverse=True)
    for i in order[:left]:
        floors[i] += 1
    return [c + f for c, f in zip(counts, floors, strict=True)]


# --- bulk writing -------------------------------------------------------------------------------


def _create(model: type[models.Model], objs: list) -> list:
    """bulk_create in batches; the primary keys come back (PostgreSQL, and SQLite 3.35+)."""
    model.objects.bulk_create(objs, batch_size=BATCH)
    if objs and objs[0].pk is None:
        raise RuntimeError(f"{model.__name__}.bulk_create returned no primary keys")
    return objs


def _default(field: models.Field):
    """What Django would store for a field left unset ("" for text, None, its default)."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return timezone.now()
    return field.get_default()


class _LocalTime:
    """The lead history is simulated in naive local time (cheap to compute with, and business
    hours and dispatch windows are local) and converted to UTC once, when written. China keeps
    one UTC offset all year; a zone with daylight saving falls back to converting exactly."""

    def __init__(self, now: datetime, oldest: datetime):
        self.zone = now.tzinfo
        fixed = now.utcoffset() == oldest.utcoffset()
        self.offset = now.utcoffset() if fixed else None

    def naive(self, value: datetime) -> datetime:
        return timezone.localtime(value, self.zone).replace(tzinfo=None)

    def utc(self, value: datetime) -> datetime:
        """Naive local -> naive UTC."""
        if self.offset is not None:
            return value - self.offset
        return value.replace(tzinfo=self.zone).astimezone(UTC).replace(tzinfo=None)

    def converter(self, vendor: str):
        """Naive local -> what the database takes: text on SQLite, UTC elsewhere (Django keeps
        the PostgreSQL session in UTC)."""
        offset, utc = self.offset, self.utc
        if vendor == "sqlite" and offset is not None:
            return lambda value: None if value is None else str(value - offset)
        if vendor == "sqlite":
            return lambda value: None if value is None else str(utc(value))
        if vendor == "postgresql":
            return lambda value: None if value is None else utc(value)
        return lambda value: None if value is None else utc(value).replace(tzinfo=UTC)


def _append(
    model: type[models.Model], columns: tuple[str, ...], rows: list, clock: _LocalTime
) -> None:
    """Insert plain rows (lists of values in `columns` order, Python types, naive local
    datetimes) without building model instances. The rows are consumed.

    Columns missing from `columns` get their field default, so a field added later with a
    default does not break the demo. COPY on PostgreSQL, executemany on SQLite, bulk_create
    elsewhere.
    """
    if not rows:
        return
    vendor = connection.vendor
    opts = model._meta
    given = [opts.get_field(name) for name in columns]
    given_names = {f.attname for f in given}
    extra = [
        f
        for f in opts.concrete_fields
        if f.attname not in given_names
        and not f.primary_key
        and (f.has_default() or f.db_default is models.NOT_PROVIDED)  # else the database fills it
    ]
    fields = given + extra
    extra_values = tuple(_prepared_default(f, vendor) for f in extra)
    convert = []
    for index, f in enumerate(given):
        kind = f.get_internal_type()
        if kind == "JSONField" and vendor in ("postgresql", "sqlite"):
            convert.append((index, _json))
        elif kind == "DateTimeField":
            convert.append((index, clock.converter(vendor)))

    def prepared():  # rows are lists, converted in place
        for row in rows:
            for index, fn in convert:
                row[index] = fn(row[index])
            row.extend(extra_values)
            yield row

    if vendor not in ("postgresql", "sqlite"):
        names = [f.attname for f in fields]
        json_names = {f.attname for f in fields if f.get_internal_type() == "JSONField"}
        objs = [
            model(
                **{
                    name: json.loads(value)
                    if name in json_names and isinstance(value, str)
                    else value
                    for name, value in zip(names, values, strict=True)
                }
            )
            for values in prepared()
        ]
        model.objects.bulk_create(objs, batch_size=BATCH)
        return
    table = connection.ops.quote_name(opts.db_table)
    column_sql = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({column_sql}) FROM STDIN") as copy:
                for values in prepared():
                    copy.write_row(values)
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            cursor.executemany(
                f"INSERT INTO {table} ({column_sql}) VALUES ({placeholders})", prepared()
            )


def _prepared_default(field: models.Field, vendor: str):
    value = _default(field)
    if vendor not in ("postgresql", "sqlite"):
        return value
    kind = field.get_internal_type()
    if kind == "JSONField":
        return _json(value)
    if vendor == "sqlite" and value is not None:
        if kind == "DateTimeField":
            return connection.ops.adapt_datetimefield_value(value)
        if kind == "DateField":
            return connection.ops.adapt_datefield_value(value)
    return value


def _json(value):
    if value is None or isinstance(value, str):  # None, or already JSON text
        return value
    return "{}" if value == {} else json.dumps(value, ensure_ascii=False)


_REASON_TEXTS: dict[str, str] = {}


def _reason_text(code: str) -> str:
    if code not in _REASON_TEXTS:
        _REASON_TEXTS[code] = reason_text(code)
    return _REASON_TEXTS[code]


def _next_id(model: type[models.Model]) -> int:
    return (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1


# --- the network --------------------------------------------------------------------------------


@dataclass
class _Staff:
    """One dealer's people, as (advisor id, user id, name) tuples."""

    manager: tuple
    workers: _Picker  # active advisors and DCC who own leads
    everyone: list  # including those who left, for closed leads
    front_desk: list  # who registers walk-ins and calls


@dataclass
class _Network:
    sources: list  # level-3 channels
    source: dict  # channel id -> how its raw leads arrive (RawLead.Source)
    oem_any: _Picker
    oem_cleansing: _Picker
    oem_direct: _Picker
    dealer_sources: _Picker
    dealers: list
    active_dealers: _Picker
    any_dealers: _Picker
    dealers_by_city: dict
    cities_by_province: dict
    hours: _Hours
    staff: dict = field(default_factory=dict)
    models: _Picker | None = None
    agents: list = field(default_factory=list)  # (user id, name)
    demo_dealer: Dealer | None = None
    demo_advisor: tuple = ()
    dealer_by_id: dict = field(default_factory=dict)
    thresholds: dict = field(default_factory=dict)  # channel id -> dispatch score line
    suspended: list = field(default_factory=list)
    advisor_users: dict = field(default_factory=dict)  # advisor id -> user id


def _build_channels(net_counts: dict) -> list[Channel]:
    roots, categories, sources = [], [], []
    for order, (code, name, _cats) in enumerate(CHANNEL_TREE, start=1):
        roots.append(
            Channel(
                code=code,
                name=name,
                level=1,
                sort_order=order * 10,
                needs_cleansing=False,
                score_weight=50,
            )
        )
    _create(Channel, roots)
    for root, (_code, _name, cats) in zip(roots, CHANNEL_TREE, strict=True):
        for order, (code, name, _source, _leaves) in enumerate(cats, start=1):
            categories.append(
                Channel(
                    code=code,
                    name=name,
                    level=2,
                    parent=root,
                    sort_order=order * 10,
                    needs_cleansing=False,
                    score_weight=50,
                )
            )
    _create(Channel, categories)
    by_code = {c.code: c for c in categories}
    for _code, _name, cats in CHANNEL_TREE:
        for cat_code, _cat_name, _source, leaves in cats:
            for order, (code, name, cleansing, weight, _share) in enumerate(leaves, start=1):
                sources.append(
                    Channel(
                        code=code,
                        name=name,
                        level=3,
                        parent=by_code[cat_code],
                        sort_order=order * 10,
                        needs_cleansing=cleansing,
                        score_weight=weight,
                    )
                )
    _create(Channel, sources)
    net_counts["channels"] = len(roots) + len(categories) + len(sources)
    return sources


def _channel_pickers(sources: list[Channel]):
    share = {}
    for root_code, _name, cats in CHANNEL_TREE:
        for _cat_code, _cat_name, source, leaves in cats:
            for code, _leaf, _cleansing, _weight, volume in leaves:
                share[code] = (root_code, source, volume)
    oem = [c for c in sources if share[c.code][0] == "OEM"]
    dealer = [c for c in sources if share[c.code][0] == "DEALER"]

    def picker(channels):
        return _Picker(channels, [share[c.code][2] for c in channels])

    return (
        {c.id: share[c.code][1] for c in sources},
        picker(oem),
        picker([c for c in oem if c.needs_cleansing]),
        picker([c for c in oem if not c.needs_cleansing]),
        picker(dealer),
    )


def _build_vehicles(counts: dict) -> _Picker:
    series = _create(VehicleSeries, [VehicleSeries(code=c, name=n) for c, n, _p, _m in VEHICLES])
    items, weights = [], []
    objs = []
    for s, (_code, _name, popularity, variants) in zip(series, VEHICLES, strict=True):
        for rank, (code, name) in enumerate(variants):
            objs.append(VehicleModel(series=s, code=code, name=name, is_active=True))
            weights.append(popularity / (rank + 1.5))
    _create(VehicleModel, objs)
    items.extend(objs)
    counts["vehicle_series"], counts["vehicle_models"] = len(series), len(objs)
    return _Picker(items, weights)


_WINDOW_PROFILES = (
    # (share, {weekday: [(opens, closes)]}) in minutes since midnight
    (60, {d: [(510, 1200)] for d in range(7)}),  # 08:30–20:00 every day
    (15, {d: [(480, 1260)] for d in range(7)}),  # 08:00–21:00
    (10, {**{d: [(510, 1200)] for d in range(5)}, 5: [(540, 1080)], 6: [(540, 1080)]}),
    (10, {d: [(510, 1140)] for d in range(6)}),  # closed on Sunday
    (5, {d: [(510, 720), (810, 1200)] for d in range(7)}),  # lunch break
)
_WINDOW_PICKER = _Picker([p for _s, p in _WINDOW_PROFILES], [s for s, _p in _WINDOW_PROFILES])


def _build_dealers(rng: random.Random, total: int, counts: dict):
    regions = _create(Region, [Region(code=c, name=n) for c, n, _p in REGIONS])
    provinces = [
        (region, prov, cities)
        for region, (_c, _n, provs) in zip(regions, REGIONS, strict=True)
        for prov, _w, cities in provs
    ]
    weights = [w for _c, _n, provs in REGIONS for _p, w, _cities in provs]
    if total >= len(provinces):
        per_province = _largest_remainder(total, weights, minimum=1)
    else:  # a small network for tests: the biggest provinces, in the usual order
        top = sorted(range(len(provinces)), key=lambda i: -weights[i])[:total]
        per_province = [1 if i in top else 0 for i in range(len(provinces))]

    dealers, names = [], set()
    for (region, province, cities), count in zip(provinces, per_province, strict=True):
        per_city = _largest_remainder(count, [w for _c, _a, w in cities])
        for (city, area, _w), city_count in zip(cities, per_city, strict=True):
            for _n in range(city_count):
                name = ""
                while not name or name in names:
                    suffix = _SUFFIX_PICKER.pick(rng)
                    name = f"{city}{rng.choice(_TRADE_NAMES)}{suffix}"
                names.add(name)
                digits = 8 if len(area) == 3 else 7
                phone = f"{area}-{rng.randrange(2 * 10 ** (digits - 1), 9 * 10 ** (digits - 1))}"
                prefix = (
                    f"{city}市"
                    if province == city
                    else f"{_PROVINCE_NAMES.get(province, province + '省')}{city}市"
                )
                address = f"{prefix}{rng.choice(_AREAS)}{rng.choice(_ROADS)}{rng.randint(1, 999)}号"
                dealers.append(
                    Dealer(
                        name=name,
                        region=region,
                        province=province,
                        city=city,
                        address=address,
                        phone=phone,
                    )
                )
    for number, dealer in enumerate(dealers, start=1):
        dealer.code = f"D{number:04d}"
        roll = rng.random()
        # The first dealer is the demo dealer and always active.
        if number > 1 and total >= 20 and roll < 0.08:
            dealer.status = Dealer.Status.SUSPENDED if roll < 0.05 else Dealer.Status.EXITED
        else:
            dealer.status = Dealer.Status.ACTIVE
    _create(Dealer, dealers)

    windows, rows = {}, []
    for index, dealer in enumerate(dealers):
        profile = dict(_WINDOW_PROFILES[0][1] if index == 0 else _WINDOW_PICKER.pick(rng))
        if index == 0 or rng.random() < 0.6:  # open on statutory holidays, shorter hours
            profile[DispatchWindow.Weekday.HOLIDAY] = [(540, 1080)]
        windows[dealer.id] = [sorted(profile.get(day, [])) for day in range(8)]
        for day, spans in profile.items():
            for opens, closes in spans:
                rows.append(
                    DispatchWindow(
                        dealer=dealer,
                        weekday=day,
                        opens_at=datetime.min.replace(hour=opens // 60, minute=opens % 60).time(),
                        closes_at=datetime.min.replace(
                            hour=closes // 60, minute=closes % 60
                        ).time(),
                    )
                )
    _create(DispatchWindow, rows)
    counts.update(regions=len(regions), dealers=len(dealers), dispatch_windows=len(rows))
    cities_by_province = {
        prov: [c for c, _a, _w in cities] for _c, _n, provs in REGIONS for prov, _w, cities in provs
    }
    return dealers, windows, cities_by_province


def _build_staff(rng, dealers, per_dealer: int, password: str, groups: dict, counts: dict, now):
    """Dealer staff (1 manager, 1–2 DCC, advisors) and HQ agents, with their logins."""
    existing = set(User.objects.values_list("username", flat=True))
    today = timezone.localtime(now).date()
    sizes = [max(3, per_dealer)] * len(dealers)
    if per_dealer >= 8:  # vary the team size but keep the total at dealers × per_dealer
        for i in range(0, len(sizes) - 1, 2):
            delta = rng.randint(-3, 3)
            sizes[i] += delta
            sizes[i + 1] -= delta

    users, specs = [], []
    for dealer, size in zip(dealers, sizes, strict=True):
        dcc = 2 if size >= 10 and rng.random() < 0.5 else 1
        for n in range(size):
            role = "manager" if n == 0 else "dcc" if n <= dcc else "advisor"
            if role == "manager":
                level, years = 3, rng.randint(6, 15)
            elif role == "dcc":
                level, years = rng.choice((1, 2, 2)), rng.randint(1, 6)
            else:
                level = _LEVEL_PICKER.pick(rng)
                years = {1: rng.randint(0, 2), 2: rng.randint(2, 5), 3: rng.randint(5, 12)}[level]
            active = role == "manager" or rng.random() > 0.04
            hired = today - timedelta(days=rng.randint(30, max(60, min(years, 8) * 365 + 60)))
            name = _person_name(rng)
            username = f"{dealer.code.lower()}_{n + 1:02d}"
            if username in existing:
                username += "_demo"
            users.append(
                User(
                    username=username,
                    password=password,
                    first_name=name,
                    is_active=active,
                    date_joined=datetime.combine(hired, datetime.min.time(), tzinfo=now.tzinfo),
                )
            )
            specs.append((dealer, name, role, level, hired, years, active))
    agents = []
    for n in range(1, 9):
        username = f"hq_agent{n:02d}"
        if username not in existing:
            agents.append(
                User(
                    username=username,
                    password=password,
                    first_name=_person_name(rng),
                    is_staff=True,
                )
            )
    _create(User, users + agents)

    advisors = [
        Advisor(
            user=user,
            dealer=dealer,
            name=name,
            role=role,
            level=level,
            hire_date=hired,
            years_experience=years,
            is_active=active,
        )
        for user, (dealer, name, role, level, hired, years, active) in zip(
            users, specs, strict=True
        )
    ]
    _create(Advisor, advisors)

    membership = User.groups.through
    group_rows = [
        membership(
            user_id=a.user_id,
            group_id=groups[role_of_advisor(a)].pk,
        )
        for a in advisors
    ] + [membership(user_id=u.pk, group_id=groups[ROLE_HQ_AGENT].pk) for u in agents]
    membership.objects.bulk_create(group_rows, batch_size=BATCH)

    staff = {}
    by_dealer: dict[int, list[Advisor]] = {}
    for advisor in advisors:
        by_dealer.setdefault(advisor.dealer_id, []).append(advisor)
    for dealer in dealers:
        team = by_dealer[dealer.id]
        as_tuple = [(a.pk, a.user_id, a.name) for a in team]
        workers = [(a.pk, a.user_id, a.name) for a in team if a.is_active and a.role != "manager"]
        weights = [
            1 if a.role == "advisor" else 0.2 for a in team if a.is_active and a.role != "manager"
        ]
        staff[dealer.id] = _Staff(
            manager=as_tuple[0],
            workers=_Picker(workers, weights),
            everyone=as_tuple[1:],
            front_desk=[(a.pk, a.user_id, a.name) for a in team if a.role == "dcc" and a.is_active]
            or workers,
        )
    counts.update(advisors=len(advisors), users=len(users) + len(agents))
    return staff, [(u.pk, u.first_name) for u in agents]


# --- the leads ----------------------------------------------------------------------------------


class _Hours:
    """When each dealer takes leads, as dealers.calendar computes it (China's work calendar:
    holidays use the holiday windows, adjusted workdays the Monday ones), on naive local time."""

    def __init__(self, windows: dict):
        self.windows = windows  # dealer id -> 8 lists of (opens, closes) minutes
        self.calendar = WorkCalendar()
        self.days: dict = {}

    def window_day(self, day) -> int:
        if day not in self.days:
            try:
                self.days[day] = window_weekday(self.calendar.kind(day), day)
            except CalendarMissing:  # a year without calendar rows: plain weekdays
                self.days[day] = day.weekday()
        return self.days[day]

    def next_opening(self, dealer_id: int, t: datetime) -> datetime | None:
        """`t` itself when open, else the start of the next window (within three weeks)."""
        windows = self.windows[dealer_id]
        midnight = t.replace(hour=0, minute=0, second=0, microsecond=0)
        minute = (t - midnight).total_seconds() / 60
        for offset in range(HORIZON_DAYS + 1):
            day = midnight + timedelta(days=offset)
            for opens, closes in windows[self.window_day(day.date())]:
                if offset == 0 and opens <= minute < closes:
                    return t
                if offset > 0 or minute < opens:
                    return day + timedelta(minutes=opens)
        return None


class _Customer:
    """A customer row before it is written (a model instance per row costs too much)."""

    __slots__ = ("id", "mobile", "name", "province", "city", "created_at")

    def __init__(self, id, mobile, name, province, city):  # noqa: A002
        self.id, self.mobile, self.name = id, mobile, name
        self.province, self.city, self.created_at = province, city, None


@dataclass
class _Rules:
    """What the services read from the database, read once."""

    cycles: dict  # grade -> follow-up cycle days
    scoring: list  # active ScoringRule rows
    policy: CleansingPolicy
    invalid_reasons: list  # (id, name) an agent can pick, "unreachable" excluded
    unreachable: tuple  # (id, name) of the reason for leads nobody answers
    validity: _Validity | None  # the network-wide validity rule, if any
    no_first: tuple  # (hours, rule name) of the "no first follow-up" recall rule


@dataclass
class _Validity:
    name: str
    days: int
    stage_days: dict
    silence_hours: int

    def deadline(self, assigned_at: datetime, stage: str) -> datetime:
        """leads.services.lifecycle.validity_deadline, for a lead that reached `stage`."""
        days = self.days
        if stage in STAGE_ORDER:
            for reached in STAGE_ORDER[: STAGE_ORDER.index(stage) + 1]:
                days += int(self.stage_days.get(reached, 0) or 0)
        return assigned_at + timedelta(days=days)


class _LeadWriter:
    """Simulates each lead's life and collects its rows; `flush` writes a chunk in bulk.

    Every step appends exactly what the service doing it writes (see leads/services/): the
    LeadEvent (and so the StateLog row of a transition), CallRecord, NurtureTouch, FollowUp,
    Notification, and the raw lead of each submission.
    """

    def __init__(self, seed: int, net: _Network, now: datetime, rules: _Rules, used: set):
        self.seed, self.net, self.rules = seed, net, rules
        self.rng = random.Random(seed)
        self.clock = _LocalTime(now, now - timedelta(days=125))
        self.now = self.clock.naive(now)  # all times below are naive local time
        self.oldest = self.now - timedelta(days=125)
        offset = now.utcoffset()
        hours, minutes = divmod(int(offset.total_seconds()) // 60, 60)
        self.offset_text = f"{'+' if offset >= timedelta(0) else '-'}{abs(hours):02d}:{minutes:02d}"
        self.used_mobiles = used
        self.ids = {
            model: itertools.count(_next_id(model))
            for model in (Customer, Lead, RawLead, FollowUp, NurtureTouch)
        }
        self.ext_seq = itertools.count(1)
        self.scores: dict[ScoreInput, tuple[int, str]] = {}
        self.reset()

    def reset(self):
        self.customers: list[_Customer] = []
        self.reusable: list[tuple[_Customer, set]] = []  # customer, dealer ids of their leads
        self.leads: list[dict] = []
        self.tables = {model: [] for model, _columns in APPEND_ORDER}
        self.tables[_DISPATCH_NOTICES] = []

    def marks(self) -> dict:
        return {model: len(rows) for model, rows in self.tables.items()}

    def rollback(self, marks: dict):
        for model, rows in self.tables.items():
            del rows[marks[model] :]

    # --- rows ---

    def event(self, at, kind, action, frm="", to="", actor=None, reason="", data=None):
        uid, label = actor if actor else (None, "系统")
        self.tables[LeadEvent].append(
            [self.li, kind, uid, label, action, frm, to, reason, data or {}, at]
        )

    def raw(
        self,
        channel,
        at,
        outcome,
        customer,
        reasons=(),
        *,
        dealer=None,
        consent=False,
        submitted_by=None,
        lead=True,
        phone=None,
        model=None,
        timeframe="",
    ) -> int:
        source = self.net.source[channel.id]
        raw_id = next(self.ids[RawLead])
        external_id = f"{channel.code}-{next(self.ext_seq):09d}" if source == SRC.API else None
        payload = self.payload(
            channel, source, external_id, customer, at, phone, dealer, consent, model, timeframe
        )
        mobile = customer.mobile if customer else ""
        detail = "；".join(_reason_text(code) for code in reasons)
        self.tables[RawLead].append(
            [
                raw_id,
                channel.id,
                external_id,
                source,
                payload,
                at,
                mobile,
                outcome,
                ",".join(reasons),
                detail[:255],
                customer.id if customer else None,
                self.li if lead else None,
                submitted_by,
            ]
        )
        return raw_id

    def payload(
        self, channel, source, external_id, customer, at, phone, dealer, consent, model, timeframe
    ) -> dict:
        """The submission as the channel sent it: the fields lead_intake reads."""
        rng = self.rng
        if customer is not None:
            name, city, province = customer.name, customer.city, customer.province
            phone = _as_sent(rng, customer.mobile) if phone is None else phone
        else:
            name, city, province = _customer_name(rng), rng.choice(self.net.dealers).city, ""
        data = {"external_id": external_id} if external_id else {}
        data.update(mobile=phone, name=name, city=city)
        if province and rng.random() < 0.5:
            data["province"] = province
        if dealer is not None:
            data["dealer_code"] = dealer.code
            data["consent"] = consent
        if model is not None:
            data["model_code"] = model.code
        if timeframe:
            data["purchase_timeframe"] = (
                _TIMEFRAME_WORDS[timeframe] if source == SRC.EXCEL else timeframe
            )
        if source == SRC.API:
            data["submitted_at"] = at.isoformat(timespec="seconds") + self.offset_text
        elif source == SRC.EXCEL:
            data["remark"] = channel.name
        return data

    # --- one lead ---

    def build(self, index: int, status: str, pin: str = ""):
        # Each lead draws from its own stream: the same seed gives the same leads even though
        # their timestamps (relative to now) make some histories take other branches.
        rng, net = self.rng, self.net
        rng.seed((self.seed * 1_000_003 + index) * 2)
        self.li = next(self.ids[Lead])
        at_hq = status in HQ_SET
        if pin:
            dealer = net.demo_dealer
        elif status == S.QUALIFIED and net.suspended and rng.random() < 0.6:
            dealer = rng.choice(net.suspended)  # chosen while it was active
        elif status in (S.ORDERED, S.DEFEATED):
            dealer = net.any_dealers.pick(rng)
        else:
            dealer = net.active_dealers.pick(rng)

        customer = None
        if not at_hq and self.reusable and rng.random() < 0.03:
            customer, dealers_of_customer, dealer = self.reuse(dealer, pin)
        if customer is None:
            city = dealer.city
            if rng.random() < 0.15:
                city = rng.choice(net.cities_by_province[dealer.province])
            customer = _Customer(
                next(self.ids[Customer]),
                _mobile(rng, self.used_mobiles),
                _customer_name(rng),
                dealer.province,
                city,
            )
            self.customers.append(customer)
            dealers_of_customer = set()
            self.reusable.append((customer, dealers_of_customer))

        # Which channel: cleansing channels feed the HQ queue; a lead that reaches a dealer
        # straight from intake came from a channel without cleansing, with a dealer chosen.
        if status in (S.NURTURING, S.ARCHIVED, S.INVALID):
            channel = (
                net.oem_cleansing.pick(rng) if rng.random() < 0.85 else net.oem_direct.pick(rng)
            )
        elif status in (S.NEW, S.CLEANSING, S.QUALIFIED) or rng.random() < 0.78:
            channel = net.oem_any.pick(rng)
        else:
            channel = net.dealer_sources.pick(rng)

        _share, lo, hi = STATUS_SHARE[status]
        age = timedelta(hours=rng.uniform(lo, hi))
        created = self.now - age
        if age > timedelta(days=2):
            created = created.replace(
                hour=_HOUR_PICKER.pick(rng), minute=rng.randrange(60), second=rng.randrange(60)
            )
        if net.source[channel.id] == SRC.DEALER:  # walk-ins and calls come by day
            created = min(self.work(created), max(created, self.now - timedelta(minutes=5)))
        model = net.models.pick(rng) if rng.random() < 0.85 else None
        timeframe = _TIMEFRAME_GIVEN.pick(rng)

        # A history that would end in the future starts earlier instead, with the same draws.
        marks = self.marks()
        for attempt in range(4):
            rng.seed((self.seed * 1_000_003 + index) * 2 + 1)  # the same draws each attempt
            self.simulate(status, channel, dealer, customer, created, pin, model, timeframe)
            if self.anchor is not None:
                self.shift(self.lead, marks, self.anchor_shift())
            end = max(row[9] for row in self.tables[LeadEvent][marks[LeadEvent] :])
            if end <= self.now or attempt == 3:
                break
            self.rollback(marks)
            created = max(created - (end - self.now) - timedelta(hours=2), self.oldest)
        lead = self.lead
        lead.pop("_released_at", None)
        if self.silence_rows is not None:
            event, stage = self.silence_rows
            validity = self.rules.validity
            deadline = validity.deadline(lead["assigned_at"], stage)
            event[7] = _SILENCE_REASON.format(
                name=validity.name, deadline=deadline, hours=validity.silence_hours
            )[:255]
        if status in WORKING_SET and status != S.ASSIGNED:
            self.not_overdue(lead, marks)
        if self.waiting:
            # Ready and its window open: such a lead leaves within seconds, so this one was
            # qualified just now (its whole history moves forward).
            self.shift(lead, marks, self.now - timedelta(seconds=rng.uniform(5, 50)) - end)
            end = max(row[9] for row in self.tables[LeadEvent][marks[LeadEvent] :])
            opening = self.net.hours.next_opening(lead["dealer_id"], end)
            lead["dispatch_at"] = lead["eligible_at"] = opening
        self.add_duplicates(lead, channel, customer, end)
        self.renumber_merges(marks)
        if end > self.now:
            self.clamp(lead, marks)

        lead["id"], lead["customer_id"] = self.li, customer.id
        lead["intended_model_id"] = model.pk if model else None
        if lead["duplicate_count"]:  # each merge re-scores the lead
            lead["score"], lead["score_breakdown"] = self.score(lead, channel, customer)
        self.leads.append(lead)
        dealers_of_customer.add(lead["dealer_id"])
        if customer.created_at is None or lead["created_at"] < customer.created_at:
            customer.created_at = lead["created_at"]

    def reuse(self, dealer, pin):
        """A customer who already has a lead at another dealer (never two at one dealer)."""
        customer, dealers_of_customer = self.rng.choice(self.reusable)
        if pin:
            if dealer.id in dealers_of_customer:
                return None, None, dealer
            return customer, dealers_of_customer, dealer
        nearby = [
            d
            for d in self.net.dealers_by_city.get(customer.city, ())
            if d.id not in dealers_of_customer
        ]
        if not nearby:
            return None, None, dealer
        return customer, dealers_of_customer, self.rng.choice(nearby)

    def simulate(self, status, channel, dealer, customer, created, pin, model, timeframe):
        """Walk the lead from intake to `status`, writing what each service would write."""
        rng, net = self.rng, self.net
        source = net.source[channel.id]
        dealer_channel = source == SRC.DEALER
        staff = net.staff[dealer.id]
        at_dealer = status not in HQ_SET or status == S.QUALIFIED
        self.lead = lead = dict(
            _LEAD_DEFAULTS,
            channel_id=channel.id,
            created_at=created,
            last_activity_at=created,
            purchase_timeframe=timeframe,
        )
        self.closed_spans = []
        self.last_owner = None
        self.waiting = False
        self.anchor = None
        self.silence_rows = None
        agent = rng.choice(net.agents)
        desk = rng.choice(staff.front_desk) if dealer_channel else None
        submitted_by = {SRC.ADMIN: agent[0], SRC.DEALER: desk[1] if desk else None}.get(source)

        # Intake: the dealer is known and consented to when the customer picked it on a
        # channel without cleansing (or walked into the showroom); otherwise HQ cleanses.
        direct = at_dealer and not channel.needs_cleansing
        if direct:
            lead.update(
                dealer_id=dealer.id,
                consent_dealer_id=dealer.id,
                consent_at=created,
                consent_note=f"渠道提交时客户同意（{channel.name}）"[:100],
            )
            reasons = []
        elif status == S.NEW:
            reasons = []
        else:
            reasons = ["needs_cleansing" if channel.needs_cleansing else "no_dealer"]
        intake_score, breakdown = self.score(lead, channel, customer, model=model)
        lead["score"], lead["score_breakdown"] = intake_score, breakdown
        raw_id = self.raw(
            channel,
            created,
            OUT.NEW,
            customer,
            reasons,
            dealer=dealer if direct else None,
            consent=direct,
            submitted_by=submitted_by,
            model=model,
            timeframe=timeframe,
        )
        self.event(
            created,
            K.CREATED,
            "create",
            to=S.NEW,
            actor=(None, channel.name),
            data=(  # JSON text
                f'{{"raw_lead_id": {raw_id}, "channel": "{channel.code}", "score": {intake_score}}}'
            ),
        )
        t = created
        if status == S.NEW:  # routing still to come: the intake routes in the same breath
            return
        if direct:
            self.move(t, "qualify", S.QUALIFIED)
            lead["qualified_at"] = t
        else:
            why = _reason_text(reasons[0])
            self.move(t, "send_to_cleansing", S.CLEANSING, reason=why)
            lead["hq_reason"] = why
            t = self.cleanse(status, t, agent, dealer, customer, channel, pin)
            if status in HQ_SET and status != S.QUALIFIED:
                return

        t = self.dispatch(status, t, dealer, channel, agent)
        if status == S.QUALIFIED:
            return
        if status == S.DISPATCHED:
            if not pin and rng.random() < 0.05:
                self.defeated_then_reactivated(t, customer, dealer, staff)
            return
        # Not for ASSIGNED: reactivate() keeps first_followed_at, which only the next first
        # follow-up overwrites; an assigned lead would show the old round's follow-up time.
        reactivatable = (S.FOLLOWING, S.INVITED, S.ARRIVED, S.TEST_DRIVE, S.ORDERED)
        if status in reactivatable and not pin and rng.random() < 0.04:
            t = self.defeated_then_reactivated(t, customer, dealer, staff)
        own = pin == "own"
        if own:
            advisor = net.demo_advisor
        elif status in (S.ORDERED, S.DEFEATED) and rng.random() < 0.1:
            advisor = rng.choice(staff.everyone)
        else:
            advisor = staff.workers.pick(rng)
        t = self.assign(t, advisor, staff, grabbed=not own and rng.random() < 0.06)
        if status == S.ASSIGNED:
            return
        if status == S.RECALLED and rng.random() < 0.5:
            hours, name = self.rules.no_first
            t += timedelta(hours=hours, minutes=rng.uniform(0, 60))  # the rule's next run
            detail = f"分配后 {hours} 小时未首次跟进，召回到公共池"
            self.move(t, "recall", S.RECALLED, reason=f"规则「{name}」：{detail}"[:255])
            lead["advisor_id"] = None
            return
        self.follow_through(t, status, advisor, staff)

    # --- HQ: dispatch (leads/services/dispatch.py) ---

    def dispatch(self, status, t, dealer, channel, agent) -> datetime:
        """Qualified at `t`: planned for the dealer's next opening when the score reaches the
        threshold (dispatched by the sweep/task seconds after it), else left for an HQ agent
        to dispatch by hand."""
        rng, lead = self.rng, self.lead
        threshold = self.net.thresholds[channel.id]
        opening = self.net.hours.next_opening(dealer.id, t)
        if lead["score"] >= threshold and opening is not None:
            if status == S.QUALIFIED:
                lead["dispatch_at"] = lead["eligible_at"] = opening
                if dealer.status != Dealer.Status.ACTIVE and opening <= self.now:
                    # Suspended after the customer chose it: the sweep found it so and
                    # dropped the plan.
                    reason = f"经销商状态为“{dealer.get_status_display()}”"
                    at = opening + timedelta(seconds=rng.uniform(0.2, 50))
                    self.event(at, K.NOTE, "dispatch_blocked", reason=reason)
                    lead["dispatch_at"] = lead["eligible_at"] = None
                else:
                    self.waiting = opening <= self.now  # would be gone already: see build()
                return t
            delay = rng.uniform(0.2, 50)  # the task on commit, or the next minute's sweep
            t = opening + timedelta(seconds=delay)
            self.move(t, "dispatch", S.DISPATCHED, kind=K.DISPATCHED, reason="自动派发")
            lead.update(dispatched_at=t, eligible_at=opening, dispatch_latency_ms=int(delay * 1000))
            self.tables[_DISPATCH_NOTICES].append([dealer.id, self.li, t])
            return t
        if status == S.QUALIFIED:  # held back: the admin shows why (score below the line)
            return t
        t = self.work(t + timedelta(minutes=rng.uniform(15, 480)))
        self.move(t, "dispatch", S.DISPATCHED, kind=K.DISPATCHED, actor=agent)
        lead["dispatched_at"] = t
        return t

    # --- HQ: the cleansing desk ---

    def cleanse(self, status, t, agent, dealer, customer, channel, pin) -> datetime:
        """The agent's calls (leads/services/cleansing.py) up to the lead's HQ outcome."""
        rng, lead = self.rng, self.lead
        if status == S.CLEANSING:
            if rng.random() < 0.08:
                t = self.invalid_then_reactivated(t, agent, customer, channel)
            self.unanswered(t, self.now, agent, rng.choice((0, 0, 1, 1, 2)))
            return t
        if status == S.INVALID and rng.random() < 0.35:
            unreachable = self.rules.unreachable
            t = self.unanswered(t, None, agent, self.rules.policy.max_unanswered_calls - 1)
            t = self.work(t + timedelta(hours=rng.uniform(2, 30)))
            lead["call_attempts"] += 1
            self.move(t, "invalidate", S.INVALID, actor=agent, reason=unreachable[1])
            self.call(t, agent, reached=False, outcome=CallRecord.Outcome.UNREACHABLE)
            lead["invalid_reason"] = unreachable[1]
            return t
        t = self.unanswered(t, None, agent, rng.choice((0, 0, 0, 1)))
        t = self.work(t + self.call_delay())
        if status == S.INVALID:
            reason_id, reason = rng.choice(self.rules.invalid_reasons)
            self.move(t, "invalidate", S.INVALID, actor=agent, reason=reason)
            self.call(
                t,
                agent,
                reached=True,
                intent=Intent.INVALID.value,
                invalid_reason_id=reason_id,
                outcome=CallRecord.Outcome.INVALID,
            )
            lead["invalid_reason"] = reason
            return t
        if status in (S.NURTURING, S.ARCHIVED):
            grade = G.N if rng.random() < 0.6 else rng.choice((G.C, G.B))
            intent = Intent.LOW.value if grade != G.N or rng.random() < 0.7 else Intent.NORMAL.value
            notes = rng.choice(NURTURE_NOTES)
            self.corrections(t, agent, _TIMEFRAME[grade], intent)
            self.regrade(t, grade, agent)
            self.move(t, "nurture", S.NURTURING, actor=agent, reason=notes)
            self.call(
                t,
                agent,
                reached=True,
                intent=intent,
                grade=grade,
                notes=notes,
                outcome=CallRecord.Outcome.NURTURING,
            )
            archive_at = None
            if status == S.ARCHIVED:
                days = self.rules.policy.intent_check_days
                archive_at = self.work(t + timedelta(days=days * rng.uniform(0.9, 1.3)))
            t = self.nurture(t, agent, archive_at or self.now)
            if archive_at:
                t = max(t, archive_at)
                self.move(t, "archive", S.ARCHIVED, actor=agent, reason="培育期满仍无购车意向")
            return t
        # Reached, with intent: the customer names the dealer and agrees to be contacted.
        grade = _GRADE_PICKER.pick(rng)
        intent = _INTENT[grade]
        self.corrections(t, agent, _TIMEFRAME[grade], intent)
        self.regrade(t, grade, agent)
        lead.update(
            dealer_id=dealer.id,
            consent_dealer_id=dealer.id,
            consent_at=t,
            consent_by_id=agent[0],
            consent_note="清洗外呼确认",
        )
        self.event(
            t,
            K.CONSENT,
            "confirm_dealer",
            "",
            dealer.code,
            agent,
            "清洗外呼确认",
            {"dealer_id": dealer.id, "dealer": dealer.name},
        )
        self.move(t, "qualify", S.QUALIFIED, actor=agent)
        self.call(
            t,
            agent,
            reached=True,
            intent=intent,
            grade=grade,
            dealer_id=dealer.id,
            consent=True,
            outcome=CallRecord.Outcome.QUALIFIED,
        )
        lead.update(qualified_at=t, hq_reason="")
        return t

    def call(
        self,
        t,
        agent,
        *,
        reached,
        outcome,
        intent="",
        grade="",
        invalid_reason_id=None,
        dealer_id=None,
        consent=False,
        notes="",
    ):
        self.tables[CallRecord].append(
            [
                self.li,
                agent[0],
                reached,
                intent,
                grade,
                invalid_reason_id,
                dealer_id,
                consent,
                outcome,
                notes,
                t,
            ]
        )
        self.lead["last_activity_at"] = t

    def unanswered(self, t, until, agent, count) -> datetime:
        """Calls nobody answered: a call record each and the lead's counter, no event."""
        rng = self.rng
        for _n in range(count):
            at = self.work(t + timedelta(minutes=rng.uniform(20, 600)))
            if until is not None and at >= until:
                break
            t = at
            self.lead["call_attempts"] += 1
            self.call(
                t,
                agent,
                reached=False,
                outcome=CallRecord.Outcome.NO_ANSWER,
                notes=rng.choice(CALL_RESULTS),
            )
        return t

    def corrections(self, t, agent, timeframe, intent):
        """What the agent corrects during the call (lead_update: one UPDATED event each)."""
        lead = self.lead
        for name, value in (("purchase_timeframe", timeframe), ("intent", intent)):
            if lead[name] != value:
                self.event(t, K.UPDATED, name, lead[name], value, agent, "清洗外呼")
                lead[name] = value

    def nurture(self, t, agent, until) -> datetime:
        """Nurture touches on the policy's cadence until `until` (the next one may be due)."""
        rng, lead, policy = self.rng, self.lead, self.rules.policy
        due = next_nurture_due(
            timeframe=lead["purchase_timeframe"], grade=lead["grade"], after=t, policy=policy
        )
        backlog = until == self.now and rng.random() < 0.25  # the desk is behind on this one
        while True:
            at = self.work(due + timedelta(hours=rng.uniform(0, 40)))
            if at >= until or (backlog and at > self.now - timedelta(days=20)):
                break
            medium, content = rng.choice(NURTURE_TOUCHES)
            touch_id = next(self.ids[NurtureTouch])
            self.tables[NurtureTouch].append(
                [touch_id, self.li, agent[0], medium, content, rng.random() > 0.03, at]
            )
            self.event(
                at,
                K.NOTE,
                "nurture_touch",
                to=medium,
                actor=agent,
                reason=content,
                data={"touch_id": touch_id},
            )
            t = due = at
            due = next_nurture_due(
                timeframe=lead["purchase_timeframe"], grade=lead["grade"], after=at, policy=policy
            )
            lead["last_activity_at"] = at
        lead["nurture_due_at"] = due
        return t

    def invalid_then_reactivated(self, t, agent, customer, channel) -> datetime:
        """An invalid lead the customer came back to: reactivated into the cleansing queue."""
        rng = self.rng
        t = self.work(t + self.call_delay())
        reason_id, reason = rng.choice(self.rules.invalid_reasons)
        self.move(t, "invalidate", S.INVALID, actor=agent, reason=reason)
        self.call(
            t,
            agent,
            reached=True,
            intent=Intent.INVALID.value,
            invalid_reason_id=reason_id,
            outcome=CallRecord.Outcome.INVALID,
        )
        t += timedelta(days=rng.uniform(3, 40))
        self.merge(t, rng.choice(self.net.oem_cleansing.items), customer, dealer=None)
        self.lead["invalid_reason"] = ""
        return t

    # --- the dealer ---

    def defeated_then_reactivated(self, t, customer, dealer, staff) -> datetime:
        """A first round that ended defeated, then the customer came back (flag 激)."""
        first = staff.workers.pick(self.rng)
        t = self.assign(t, first, staff, grabbed=False)
        t = self.follow_through(t, S.DEFEATED, first, staff)
        t += timedelta(days=self.rng.uniform(7, 40))
        self.merge(t, self.net.oem_any.pick(self.rng), customer, dealer=dealer)
        return t

    def assign(self, t, advisor, staff, *, grabbed) -> datetime:
        rng = self.rng
        roll = rng.random()
        delay = (
            rng.uniform(5, 90)
            if roll < 0.7
            else rng.uniform(90, 480)
            if roll < 0.95
            else rng.uniform(480, 1800)
        )
        t = self.work(t + timedelta(minutes=delay))
        data = {"advisor_id": advisor[0], "advisor": advisor[2]}
        if grabbed:  # taken from the public pool by the advisor (flag 抢)
            data["grabbed"] = True
            self.move(
                t,
                "assign",
                S.ASSIGNED,
                kind=K.ASSIGNED,
                actor=(advisor[1], advisor[2]),
                data=data,
                action="grab",
            )
        else:
            manager = staff.manager
            self.move(
                t, "assign", S.ASSIGNED, kind=K.ASSIGNED, actor=(manager[1], manager[2]), data=data
            )
        self.lead.update(
            advisor_id=advisor[0], assigned_at=t, is_grabbed=self.lead["is_grabbed"] or grabbed
        )
        self.last_owner = advisor[0]
        return t

    def follow_through(self, t, status, advisor, staff) -> datetime:
        """The advisor's follow-ups up to `status`, then the manager's or the system's step."""
        rng, lead, now = self.rng, self.lead, self.now
        plain = {
            S.FOLLOWING: (1, 4),
            S.DEFEAT_REQUESTED: (1, 3),
            S.DEFEATED: (1, 3),
            S.RECALLED: (1, 2),
        }.get(status, (0, 2))
        results = [rng.choice(_PLAIN) for _n in range(rng.randint(*plain))]
        if status in (S.INVITED, S.ARRIVED, S.TEST_DRIVE, S.ORDERED):
            if status == S.INVITED or rng.random() < 0.65:
                results.append(R.INVITED)
            if status != S.INVITED:
                results.append(R.ARRIVED)
            if status == S.TEST_DRIVE or (status == S.ORDERED and rng.random() < 0.7):
                results.append(R.TEST_DRIVE)
            if status == S.ORDERED:
                results.append(R.ORDERED)
        elif status in (S.DEFEAT_REQUESTED, S.DEFEATED):
            if rng.random() < 0.2:
                results.append(R.INVITED)
            results.append(R.DEFEAT)
        elif status in (S.SILENCED, S.RELEASED, S.RECALLED) and rng.random() < 0.25:
            results.append(R.INVITED)
        if not results:
            results.append(rng.choice(_PLAIN))

        # The validity rule silences a working lead at assigned + N days (+ days per stage
        # reached), so what the advisor does fits before that deadline.
        validity = self.rules.validity
        stage = S.FOLLOWING
        for result in results:
            stage = _STAGE_OF.get(result, stage)
        deadline = validity.deadline(lead["assigned_at"], stage) if validity else None
        limit = now if deadline is None else min(now, deadline)
        if status in WORKING_SET:
            # A lead still being worked: its history is moved to end within the last day (see
            # build()), so the follow-ups fill a span that leaves the deadline ahead.
            room = (deadline - lead["assigned_at"]) if deadline else timedelta(days=12)
            span = (room - timedelta(hours=27)) * rng.uniform(0.1, 1.0)
            limit = t + max(span, timedelta(hours=2))
            self.anchor = limit

        # Gaps before each follow-up, then the closing step, squeezed in before the limit.
        first = (rng.uniform(0.1, 20) if rng.random() < 0.8 else rng.uniform(20, 96)) / 24
        grade = lead["grade"] or G.B
        gaps = [first]
        for result in results[1:]:
            if result == R.TEST_DRIVE and rng.random() < 0.7:
                gaps.append(rng.uniform(0.2, 1.5) / 24)  # on the same visit
            else:
                lo, hi = _FOLLOW_GAP[grade]
                gaps.append(rng.uniform(lo, hi))
        tail = {S.DEFEATED: rng.uniform(0.1, 3), S.RECALLED: rng.uniform(0.1, 5)}.get(status, 0)
        if status == S.RECALLED:
            limit -= timedelta(days=tail)  # the manager recalls it before the deadline
        budget = (limit - t).total_seconds() / 86400 - 0.02
        total = sum(gaps)
        if budget > 0 and total > budget:
            gaps = [g * budget / total for g in gaps]

        actor = (advisor[1], advisor[2])
        for gap, result in zip(gaps, results, strict=True):
            at = t + timedelta(days=gap)
            hour = rng.randint(9, 20)
            if at.hour < 8 or at.hour >= 22:
                at = at.replace(hour=hour)
            t = max(at, t + timedelta(minutes=1))
            self.follow_up(t, result, advisor, actor)

        manager = (staff.manager[1], staff.manager[2])
        if status == S.DEFEATED:
            t = self.work(t + timedelta(days=tail))
            self.move(t, "approve_defeat", S.DEFEATED, actor=manager)
            self.regrade(t, G.F, manager, transition="grade_defeated")
            lead.update(defeated_at=t, next_follow_up_at=None)
        elif status in (S.SILENCED, S.RELEASED):
            self.silence(t, deadline, status, advisor)
            t = self.lead["silenced_at"] if status == S.SILENCED else self.lead["_released_at"]
        elif status == S.RECALLED:
            t = self.work(t + timedelta(days=tail))
            self.move(t, "recall", S.RECALLED, actor=manager, reason=rng.choice(RECALL_REASONS))
            lead.update(advisor_id=None, status_before_silence="")
        return t

    def silence(self, t, deadline, status, advisor):
        """The validity rule's run: silence at the deadline, release when the silence ends."""
        rng, lead, validity = self.rng, self.lead, self.rules.validity
        before = lead["status"]
        if validity is None:  # no rule in the database: a manager-like pace
            at = t + timedelta(days=rng.uniform(5, 12))
            hours, name = 24, ""
            reason = "有效期内未推进，线索静默"
        else:
            at = max(deadline, t) + timedelta(minutes=rng.uniform(0, 60))  # the rule's run
            hours, name = validity.silence_hours, validity.name
            reason = _SILENCE_REASON.format(name=name, deadline=deadline, hours=hours)[:255]
        self.move(at, "silence", S.SILENCED, reason=reason)
        if validity is not None and status == S.SILENCED:  # see build(): moved, then named
            self.silence_rows = (self.tables[LeadEvent][-1], before)
        until = at + timedelta(hours=hours)
        lead.update(status_before_silence=before, silenced_at=at, silence_until=until)
        if status == S.SILENCED:
            self.anchor = at  # silenced within the last day: its silence is still running
            return
        released = until + timedelta(minutes=rng.uniform(0, 60))
        why = f"规则「{name}」：静默期满，释放到公共池" if name else "静默期满，释放到公共池"
        self.move(released, "release", S.RELEASED, reason=why[:255])
        lead.update(
            advisor_id=None,
            status_before_silence="",
            silence_until=None,
            released_from_id=advisor[0],
            _released_at=released,
        )

    def follow_up(self, t, result, advisor, actor):
        """One follow-up as lead_follow_up_record writes it (leads/services/follow_up.py)."""
        rng, lead = self.rng, self.lead
        if lead["status"] == S.ASSIGNED:
            self.move(t, "start_following", S.FOLLOWING, actor=actor)
            lead["first_followed_at"] = t
        grade = lead["grade"]
        if not grade:
            grade = _GRADE_PICKER.pick(rng)
        elif result in (R.ARRIVED, R.TEST_DRIVE) and grade in (G.B, G.C) and rng.random() < 0.5:
            grade = G.A
        elif result == R.REACHED and rng.random() < 0.1:
            grade = rng.choice((G.H, G.A, G.B, G.C))
        self.regrade(t, grade, actor)
        notes = rng.choice(DEFEAT_REASONS if result == R.DEFEAT else NOTES[result])
        if result == R.INVITED:
            self.move(t, "invite", S.INVITED, actor=actor, reason=notes)
        elif result == R.ARRIVED:
            self.move(t, "arrive", S.ARRIVED, actor=actor, reason=notes)
            lead["arrived_at"] = t
        elif result == R.TEST_DRIVE:
            self.move(t, "test_drive", S.TEST_DRIVE, actor=actor, reason=notes)
        elif result == R.ORDERED:
            self.move(t, "order", S.ORDERED, actor=actor, reason=notes)
            self.regrade(t, G.O, actor, transition="grade_ordered")
            lead.update(ordered_at=t, next_follow_up_at=None)
        elif result == R.DEFEAT:
            self.move(t, "request_defeat", S.DEFEAT_REQUESTED, actor=actor, reason=notes)
            lead["defeat_reason"] = notes
        if result in (R.ARRIVED, R.TEST_DRIVE) or (result == R.ORDERED and rng.random() < 0.7):
            method = M.STORE
        else:
            roll = rng.random()
            method = (
                M.PHONE
                if roll < 0.65
                else M.WECHAT
                if roll < 0.9
                else M.SMS
                if roll < 0.95
                else M.OTHER
            )
        cycle = self.rules.cycles.get(lead["grade"])
        next_at = t + timedelta(days=cycle) if lead["status"] in WORKING_SET and cycle else None
        follow_up_id = next(self.ids[FollowUp])
        self.tables[FollowUp].append(
            [
                follow_up_id,
                self.li,
                advisor[0],
                advisor[1],
                method,
                result,
                lead["grade"],
                next_at,
                notes,
                t,
            ]
        )
        self.event(
            t,
            K.FOLLOW_UP,
            "follow_up",
            to=result,
            actor=actor,
            reason=notes,
            data=f'{{"follow_up_id": {follow_up_id}, "method": "{method}"}}',  # JSON text
        )
        lead.update(next_follow_up_at=next_at, last_activity_at=t)

    # --- transitions, submissions, merges ---

    def move(
        self, at, transition, to, *, actor=None, reason="", kind=K.STATUS, data=None, action=None
    ):
        """One status transition: its LeadEvent (its StateLog row comes from it, see
        _state_logs_derive)."""
        frm = self.lead["status"]
        self.event(at, kind, action or transition, frm, to, actor, reason, data)
        self.lead["status"] = to
        if to in REACTIVATABLE_SET:
            self.closed_spans.append([at, None])
        elif frm in REACTIVATABLE_SET:
            self.closed_spans[-1][1] = at

    def regrade(self, at, grade, actor, transition="set_grade", reason=""):
        lead = self.lead
        if lead["grade"] == grade:
            return
        self.event(at, K.GRADE, transition, lead["grade"], grade, actor, reason)
        lead["grade"] = grade

    def merge(self, at, channel, customer, *, dealer, owner=None, reactivating=None):
        """A new submission of the customer merged into this lead (lead_intake's _merge),
        reactivating it when it was closed. `dealer` and `owner` (advisor id) as they were."""
        lead = self.lead
        if reactivating is None:
            reactivating = lead["status"] in REACTIVATABLE_SET
        reasons = ("duplicate", "reactivated") if reactivating else ("duplicate",)
        outcome = OUT.REACTIVATED if reactivating else OUT.MERGED
        raw_id = self.raw(
            channel, at, outcome, customer, reasons, dealer=dealer, consent=dealer is not None
        )
        lead["duplicate_count"] += 1
        lead["last_activity_at"] = max(lead["last_activity_at"], at)
        self.event(
            at,
            K.MERGED,
            "merge",
            actor=(None, channel.name),
            reason=f"{channel.name} 重复留资",
            data={"raw_lead_id": raw_id, "channel": channel.code},
        )
        if reactivating:
            why = f"客户再次留资（{channel.name}）"
            target = S.DISPATCHED if lead["dealer_id"] else S.CLEANSING
            self.move(at, "reactivate", target, kind=K.REACTIVATED, reason=why)
            if lead["grade"] == G.F:
                self.regrade(at, G.UNRATED, None, transition="grade_reactivated", reason=why)
            lead.update(is_reactivated=True, advisor_id=None, invalid_reason="", defeat_reason="")
            owner = None
        self.notify(at, channel, reactivating, dealer, owner)

    def notify(self, at, channel, reactivated, dealer, owner):
        """The owner advisor, else the dealer, hears of a repeated submission."""
        if owner is None and dealer is None:
            return
        staff_user = self.net.advisor_users[owner] if owner else None
        if reactivated:
            kind = Notification.Kind.REACTIVATED.value
            message = f"线索 #{self.li} 客户再次留资（{channel.name}），线索已激活。"
        else:
            kind = Notification.Kind.DUPLICATE.value
            message = f"线索 #{self.li} 客户再次留资（{channel.name}），请及时跟进。"
        read_at = None
        if self.now - at > timedelta(days=2) and self.rng.random() < 0.85:
            read_at = at + timedelta(hours=self.rng.uniform(0.1, 30))
        self.tables[Notification].append(
            [staff_user, None if staff_user else dealer.id, self.li, kind, message, at, read_at]
        )

    def add_duplicates(self, lead, channel, customer, end):
        """Repeated submissions merged into the lead (flag 重), never while it was closed."""
        rng = self.rng
        roll = rng.random()
        count = 0 if roll < 0.8 else 1 if roll < 0.93 else 2 if roll < 0.98 else 3
        start = lead["created_at"]
        # Not for a qualified lead: a merge re-scores it, and its dispatch plan was made with
        # the score it had when it qualified.
        if end <= start or not count or lead["status"] == S.QUALIFIED:
            return
        times = []
        for _n in range(count):
            at = start + (end - start) * rng.random()
            if not any(a <= at and (b is None or at < b) for a, b in self.closed_spans):
                times.append(at)
        owner = lead["advisor_id"] or self.last_owner
        for at in sorted(times):
            again = channel if rng.random() < 0.55 else self.net.oem_any.pick(rng)
            known = lead["consent_at"] is not None and at >= lead["consent_at"]
            dealer = self.net.dealer_by_id[lead["dealer_id"]] if known else None
            # The advisor hears of it once the lead was assigned, the dealer before that.
            assigned = lead["assigned_at"] is not None and at >= lead["assigned_at"]
            self.merge(
                at,
                again,
                customer,
                dealer=dealer,
                owner=owner if assigned else None,
                reactivating=False,
            )

    def renumber_merges(self, marks):
        """The merge events say which repeat they were (第 n 次), in time order."""
        events = self.tables[LeadEvent]
        merges = sorted(
            (row for row in events[marks[LeadEvent] :] if row[1] == K.MERGED),
            key=lambda row: row[9],
        )
        for n, row in enumerate(merges, start=1):
            row[7] = f"{row[7]}，第 {n} 次"

    def score(self, lead, channel, customer, model=None) -> tuple[int, str]:
        facts = ScoreInput(
            channel_weight=channel.score_weight,
            has_name=bool(customer.name),
            has_city=bool(customer.city),
            model_named=model is not None or lead.get("intended_model_id") is not None,
            dealer_named=lead["dealer_id"] is not None,
            consent=lead["dealer_id"] is not None
            and lead["consent_dealer_id"] == lead["dealer_id"],
            timeframe=lead["purchase_timeframe"],
            duplicate_count=lead["duplicate_count"],
        )
        # The same facts give the same score; leads.scoring translates each rule's label per
        # call, far too slow to repeat 100,000 times. The breakdown is kept as JSON text.
        if facts not in self.scores:
            points, breakdown = score(facts, self.rules.scoring)
            self.scores[facts] = (points, json.dumps(breakdown, ensure_ascii=False))
        return self.scores[facts]

    # --- time ---

    def work(self, t: datetime) -> datetime:
        """People act between 08:30 and 21:00."""
        jitter = timedelta(minutes=self.rng.uniform(0, 90))  # drawn always: see build()
        minute = t.hour * 60 + t.minute
        if minute < 510:
            return t.replace(hour=8, minute=30) + jitter
        if minute >= 1260:
            return (t + timedelta(days=1)).replace(hour=8, minute=30) + jitter
        return t

    def call_delay(self) -> timedelta:
        rng = self.rng
        if rng.random() < 0.7:
            return timedelta(minutes=rng.uniform(5, 180))
        return timedelta(hours=rng.uniform(3, 48))

    def anchor_shift(self) -> timedelta:
        """Whole days (the times of day stay right for windows and working hours) that bring
        the anchor into the last day, and not into its first two hours: a silence must still
        be running, a validity not about to end, when the demo starts."""
        lag = self.now - self.anchor
        delta = timedelta(days=lag // timedelta(days=1))
        if lag - delta > timedelta(hours=22):
            delta += timedelta(hours=22)
        return delta

    def not_overdue(self, lead, marks):
        """The escalation rule chases a working lead whose next follow-up is past; in a calm
        demo the advisor set the next one ahead (the service lets them choose it)."""
        if lead["next_follow_up_at"] is not None and lead["next_follow_up_at"] > self.now:
            return
        at = self.now + timedelta(hours=self.rng.uniform(2, 72))
        lead["next_follow_up_at"] = at
        rows = self.tables[FollowUp]
        if len(rows) > marks[FollowUp]:
            rows[-1][7] = at

    def shift(self, lead, marks, delta: timedelta):
        for model, columns in APPEND_ORDER[2:]:
            indexes = [i for i, name in enumerate(columns) if name in _TIME_COLUMNS]
            for row in self.tables[model][marks[model] :]:
                for i in indexes:
                    if row[i] is not None:
                        row[i] += delta
        for name in _TIME_COLUMNS:
            if lead.get(name) is not None:
                lead[name] += delta

    def clamp(self, lead, marks):
        """Last resort for a history that would end in the future: stop the clock at now."""
        now = self.now
        past = _TIME_COLUMNS - _FUTURE_COLUMNS
        for model, columns in APPEND_ORDER[2:]:
            indexes = [i for i, name in enumerate(columns) if name in past]
            for row in self.tables[model][marks[model] :]:
                for i in indexes:
                    if row[i] is not None and row[i] > now:
                        row[i] = now
        for name in past:
            if lead.get(name) is not None:
                lead[name] = min(lead[name], now)

    # --- invalid submissions that never became a lead ---

    def invalid_raw(self):
        rng = self.rng
        channel = self.net.oem_any.pick(rng)
        at = self.now - timedelta(hours=rng.uniform(0.1, 2880))
        roll = rng.random()
        if roll < 0.6:
            bad, reason = (
                rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10_000_000):07d}",
                ("invalid_mobile"),
            )
        elif roll < 0.85:
            bad, reason = (
                f"1{rng.choice('012')}{rng.randrange(1_000_000_000):09d}",
                ("invalid_mobile"),
            )
        else:
            bad, reason = "", "missing_mobile"
        self.li = None
        self.raw(channel, at, OUT.INVALID, None, (reason,), lead=False, phone=bad)

    # --- writing ---

    def dispatch_notifications(self):
        """The dealer's inbox row of each sweep that dispatched to it (one per dealer and
        minute, listing up to ten leads), as _dispatch_ready writes them."""
        groups: dict[tuple, list] = {}
        for dealer_id, lead_id, at in self.tables.pop(_DISPATCH_NOTICES):
            groups.setdefault(
                (dealer_id, min(at, self.now).replace(second=0, microsecond=0)), []
            ).append((at, lead_id))
        rows = self.tables[Notification]
        for (dealer_id, _minute), items in groups.items():
            items.sort()
            ids = "、".join(f"#{lead_id}" for _at, lead_id in items[:10])
            more = f"等 {len(items)} 条" if len(items) > 10 else ""
            at = min(items[0][0], self.now)
            read_at = None
            if self.now - at > timedelta(days=1):
                read_at = at + timedelta(minutes=self.rng.uniform(5, 600))
            rows.append(
                [
                    None,
                    dealer_id,
                    items[0][1],
                    Notification.Kind.DISPATCHED.value,
                    f"总部派发新线索 {ids}{more}，请及时分配。",
                    at,
                    read_at,
                ]
            )

    def flush(self):
        self.tables[Customer] = [
            [c.id, c.mobile, c.name, c.province, c.city, c.created_at] for c in self.customers
        ]
        self.tables[Lead] = [[lead[c] for c in LEAD_COLUMNS] for lead in self.leads]
        self.dispatch_notifications()
        for model, columns in APPEND_ORDER:
            _append(model, columns, self.tables[model], self.clock)
        self.reset()


HQ_SET = frozenset(str(s) for s in HQ_STATUSES)
WORKING_SET = frozenset(str(s) for s in WORKING_STATUSES)
REACTIVATABLE_SET = frozenset(str(s) for s in REACTIVATABLE_STATUSES)
_TIMEFRAME_GIVEN = _Picker(["", "2w", "1m", "3m", "6m", "later"], [60, 6, 10, 12, 8, 4])
_TIMEFRAME_WORDS = {
    "2w": "两周内",
    "1m": "一个月内",
    "3m": "三个月内",
    "6m": "六个月内",
    "later": "半年以上",
}
NURTURE_NOTES = ("客户半年内无购车计划", "预算未定，先了解车型", "暂不考虑换车，可定期推送资讯")
_DISPATCH_NOTICES = "dispatch notices"  # (dealer id, lead id, at), grouped at flush
_FUTURE_COLUMNS = frozenset(
    ("dispatch_at", "eligible_at", "nurture_due_at", "next_follow_up_at", "silence_until")
)
_SILENCE_REASON = "规则「{name}」：有效期至 {deadline:%Y-%m-%d %H:%M} 已到，静默 {hours} 小时后释放"
_STAGE_OF = {R.INVITED: S.INVITED, R.ARRIVED: S.ARRIVED, R.TEST_DRIVE: S.TEST_DRIVE}
_TIME_COLUMNS = frozenset(
    (
        "created_at",
        "received_at",
        "timestamp",
        "read_at",
        "qualified_at",
        "dispatched_at",
        "assigned_at",
        "first_followed_at",
        "last_activity_at",
        "arrived_at",
        "ordered_at",
        "defeated_at",
        "consent_at",
        "dispatch_at",
        "eligible_at",
        "nurture_due_at",
        "next_follow_up_at",
        "silenced_at",
        "silence_until",
        "_released_at",
    )
)
_LEAD_DEFAULTS = {
    "dealer_id": None,
    "advisor_id": None,
    "status": S.NEW,
    "status_before_silence": "",
    "grade": G.UNRATED,
    "intent": "",
    "duplicate_count": 0,
    "is_grabbed": False,
    "is_reactivated": False,
    "hq_reason": "",
    "invalid_reason": "",
    "defeat_reason": "",
    "consent_dealer_id": None,
    "consent_at": None,
    "consent_by_id": None,
    "consent_note": "",
    "qualified_at": None,
    "dispatch_at": None,
    "dispatched_at": None,
    "assigned_at": None,
    "first_followed_at": None,
    "next_follow_up_at": None,
    "arrived_at": None,
    "ordered_at": None,
    "defeated_at": None,
    "call_attempts": 0,
    "nurture_due_at": None,
    "eligible_at": None,
    "dispatch_latency_ms": None,
    "silenced_at": None,
    "silence_until": None,
    "released_from_id": None,
}
LEAD_COLUMNS = (
    "id",
    "customer_id",
    "dealer_id",
    "advisor_id",
    "channel_id",
    "intended_model_id",
    "status",
    "status_before_silence",
    "grade",
    "intent",
    "purchase_timeframe",
    "score",
    "score_breakdown",
    "duplicate_count",
    "is_grabbed",
    "is_reactivated",
    "hq_reason",
    "invalid_reason",
    "defeat_reason",
    "consent_dealer_id",
    "consent_at",
    "consent_by_id",
    "consent_note",
    "created_at",
    "qualified_at",
    "dispatch_at",
    "dispatched_at",
    "assigned_at",
    "first_followed_at",
    "next_follow_up_at",
    "last_activity_at",
    "arrived_at",
    "ordered_at",
    "defeated_at",
    "call_attempts",
    "nurture_due_at",
    "eligible_at",
    "dispatch_latency_ms",
    "silenced_at",
    "silence_until",
    "released_from_id",
)
# The tables the lead history is written to, in foreign-key order, with their row layouts.
APPEND_ORDER = (
    (Customer, ("id", "mobile", "name", "province", "city", "created_at")),
    (Lead, LEAD_COLUMNS),
    (
        RawLead,
        (
            "id",
            "channel_id",
            "external_id",
            "source",
            "payload",
            "received_at",
            "mobile",
            "outcome",
            "outcome_reason",
            "outcome_detail",
            "customer_id",
            "lead_id",
            "submitted_by_id",
        ),
    ),
    (
        LeadEvent,
        (
            "lead_id",
            "kind",
            "actor_id",
            "actor_label",
            "action",
            "from_value",
            "to_value",
            "reason",
            "data",
            "created_at",
        ),
    ),
    (
        FollowUp,
        (
            "id",
            "lead_id",
            "advisor_id",
            "author_id",
            "method",
            "result",
            "grade_after",
            "next_follow_up_at",
            "notes",
            "created_at",
        ),
    ),
    (
        CallRecord,
        (
            "lead_id",
            "agent_id",
            "reached",
            "intent",
            "grade",
            "invalid_reason_id",
            "dealer_id",
            "consent",
            "outcome",
            "notes",
            "created_at",
        ),
    ),
    (NurtureTouch, ("id", "lead_id", "agent_id", "medium", "content", "sent_ok", "created_at")),
    (
        Notification,
        ("recipient_id", "dealer_id", "lead_id", "kind", "message", "created_at", "read_at"),
    ),
)


def _plan_statuses(rng: random.Random, n: int) -> list[str]:
    """Exactly proportional status counts, every status at least once when n allows it."""
    statuses = list(STATUS_SHARE)
    weights = [STATUS_SHARE[s][0] for s in statuses]
    counts = _largest_remainder(n, weights, minimum=1 if n >= len(statuses) else 0)
    plan = [s for s, c in zip(statuses, counts, strict=True) for _n in range(c)]
    rng.shuffle(plan)
    return plan


def _pins(plan: list[str]) -> dict[int, str]:
    """Put some leads of each kind with the demo advisor and in the demo dealer's inbox."""
    free: dict[str, list[int]] = {}
    for index, status in enumerate(plan):
        free.setdefault(status, []).append(index)
    pins = {}
    for kind, statuses in (("own", DEMO_ADVISOR_STATUSES), ("inbox", DEMO_INBOX_STATUSES)):
        for status in statuses:
            if free.get(status):
                pins[free[status].pop()] = kind
    return pins


# --- entry point --------------------------------------------------------------------------------


# The tables the lead history is bulk-loaded into.
@contextmanager
def _bulk_load(models_: list):
    """One transaction for the whole seed, loading the way each database loads fastest.

    Checking foreign keys and updating indexes row by row costs more than writing the rows
    (3M+ foreign-key checks for 100,000 leads). So, as PostgreSQL's manual advises for
    populating a database and as `loaddata` does on SQLite: the secondary indexes of the bulk
    tables are dropped and rebuilt at the end (one sort each); on PostgreSQL their foreign keys
    are dropped and added back, which validates every row in one join; on SQLite foreign-key
    enforcement is off during the load and `check_constraints` checks every row at the end.
    The definitions come from the database catalog, so whatever the migrations made comes
    back. A bad row fails the whole transaction, which leaves the database as it was.
    """
    tables = [model._meta.db_table for model in models_]
    if connection.vendor == "sqlite":
        # For this connection only, restored afterwards: a page cache big enough for the load.
        pragmas = {"cache_size": -262144}
        with connection.cursor() as cursor:
            previous = {}
            for name, value in pragmas.items():
                cursor.execute(f"PRAGMA {name}")
                previous[name] = int(cursor.fetchone()[0])
                cursor.execute(f"PRAGMA {name} = {value}")
        try:
            with connection.constraint_checks_disabled(), transaction.atomic():
                indexes = _indexes_drop(tables)
                yield
                _indexes_create(indexes)
                connection.check_constraints(table_names=tables)
        finally:
            with connection.cursor() as cursor:
                for name, value in previous.items():
                    cursor.execute(f"PRAGMA {name} = {value}")
    elif connection.vendor == "postgresql":
        with transaction.atomic():
            # ALTER TABLE refuses to run while deferred checks are pending: run them first.
            connection.check_constraints()
            with connection.cursor() as cursor:
                # Index builds sort in memory instead of on disk (this transaction only).
                cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
                cursor.execute(
                    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
                    " FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])",
                    [tables],
                )
                foreign_keys = cursor.fetchall()
                for table, name, _definition in foreign_keys:
                    cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {_quote(name)}")
            indexes = _indexes_drop(tables)
            yield
            _indexes_create(indexes)
            with connection.cursor() as cursor:
                for table, name, definition in foreign_keys:
                    cursor.execute(
                        f"ALTER TABLE {table} ADD CONSTRAINT {_quote(name)} {definition}"
                    )
            # No ANALYZE here: autovacuum analyzes these tables within a minute of the commit
            # (and CREATE INDEX already set their row counts).
    else:
        with transaction.atomic():
            yield


def _indexes_drop(tables: list[str]) -> list[str]:
    """Drop the indexes of `tables` that no constraint owns; return their CREATE statements."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            marks = ", ".join(["%s"] * len(tables))
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                f" AND tbl_name IN ({marks})",
                tables,
            )
            indexes = [(_quote(name), sql) for name, sql in cursor.fetchall()]
        else:
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)"
                " FROM pg_index i WHERE i.indrelid = ANY(%s::regclass[])"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
                [tables],
            )
            indexes = cursor.fetchall()  # regclass text is already quoted where needed
        for name, _sql in indexes:
            cursor.execute(f"DROP INDEX {name}")
    return [sql for _name, sql in indexes]


def _indexes_create(statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def demo_data_exists() -> bool:
    """The demo seeds an empty database only: channels are the first thing it creates."""
    return Channel.objects.exists()


@dataclass
class DemoSummary:
    counts: dict[str, int]
    statuses: dict[str, int]
    seconds: float


def demo_seed(
    *,
    leads: int = 2000,
    seed: int = 20240601,
    dealers: int = 200,
    advisors_per_dealer: int = 15,
    progress=None,
) -> DemoSummary:
    """Seed an empty database with the demo network, `leads` leads and the demo logins."""
    started = time.perf_counter()
    rng = random.Random(seed)
    now = timezone.localtime(timezone.now()).replace(microsecond=0)
    say = progress or (lambda message: None)
    with _bulk_load([*(model for model, _columns in APPEND_ORDER), StateLog]):
        groups = roles_ensure()
        counts: dict[str, int] = {}
        sources = _build_channels(counts)
        source_of, oem_any, oem_cleansing, oem_direct, dealer_sources = _channel_pickers(sources)
        vehicles = _build_vehicles(counts)
        dealer_list, windows, cities_by_province = _build_dealers(rng, dealers, counts)
        staff, agents = _build_staff(
            rng,
            dealer_list,
            advisors_per_dealer,
            make_password(STAFF_PASSWORD),
            groups,
            counts,
            now,
        )
        say(
            _("网络已生成：%(dealers)s 家经销商，%(advisors)s 名员工（%(seconds).1f 秒）")
            % {
                "dealers": len(dealer_list),
                "advisors": counts["advisors"],
                "seconds": time.perf_counter() - started,
            }
        )

        logins = demo_logins_ensure(dealer=dealer_list[0], groups=groups)
        demo_manager, demo_advisor = logins["manager"][1], logins["advisor"][1]
        demo_staff = staff[dealer_list[0].id]
        demo_staff.manager = (demo_manager.pk, demo_manager.user_id, demo_manager.name)
        advisor_tuple = (demo_advisor.pk, demo_advisor.user_id, demo_advisor.name)
        workers = demo_staff.workers
        demo_staff.workers = _Picker(
            [*workers.items, advisor_tuple], [*_weights(workers), workers.total / 4 + 1]
        )
        agents.append((logins["agent"][0].pk, logins["agent"][0].first_name))

        active = [d for d in dealer_list if d.status == Dealer.Status.ACTIVE]
        boost = [4 if d is dealer_list[0] else 1 for d in active]
        threshold = DispatchPolicy.current().score_threshold
        by_city: dict[str, list] = {}
        for d in active:
            by_city.setdefault(d.city, []).append(d)
        net = _Network(
            sources=sources,
            source=source_of,
            oem_any=oem_any,
            oem_cleansing=oem_cleansing,
            oem_direct=oem_direct,
            dealer_sources=dealer_sources,
            dealers=dealer_list,
            active_dealers=_Picker(active, boost),
            any_dealers=_Picker(
                dealer_list, [1 if d.status == "active" else 0.4 for d in dealer_list]
            ),
            dealers_by_city=by_city,
            cities_by_province=cities_by_province,
            hours=_Hours(windows),
            staff=staff,
            models=vehicles,
            agents=agents,
            demo_dealer=dealer_list[0],
            demo_advisor=advisor_tuple,
            dealer_by_id={d.id: d for d in dealer_list},
            suspended=[d for d in dealer_list if d.status == Dealer.Status.SUSPENDED],
            thresholds={
                c.id: line if (line := c.dispatch_threshold) is not None else threshold
                for c in sources
            },
            advisor_users=dict(Advisor.objects.values_list("pk", "user_id")),
        )
        writer = _LeadWriter(
            seed, net, now, _rules_load(), set(Customer.objects.values_list("mobile", flat=True))
        )
        plan = _plan_statuses(rng, leads)
        pins = _pins(plan)
        first_lead_id = _next_id(Lead)
        for start in range(0, leads, BATCH):
            for index in range(start, min(leads, start + BATCH)):
                writer.build(index, plan[index], pins.get(index, ""))
            writer.rng.seed(f"invalid:{seed}:{start}")
            for _n in range(len(writer.leads) // 25):
                writer.invalid_raw()
            writer.flush()
            say(
                _("线索 %(done)s / %(total)s（%(seconds).1f 秒）")
                % {
                    "done": min(leads, start + BATCH),
                    "total": leads,
                    "seconds": time.perf_counter() - started,
                }
            )
        _state_logs_derive(first_lead_id, ContentType.objects.get_for_model(Lead).pk)
        with connection.cursor() as cursor:
            # These rows were written with explicit ids: move the sequences past them.
            for sql in connection.ops.sequence_reset_sql(no_style(), list(writer.ids)):
                cursor.execute(sql)
        say(_("写入完成，正在重建索引、校验外键并提交……"))
    _reveals_seed(rng, now, logins)

    lead_type = ContentType.objects.get_for_model(Lead)
    summary_counts = {
        "channels": Channel.objects.count(),
        "level3_channels": Channel.objects.filter(level=Channel.Level.SOURCE).count(),
        "regions": Region.objects.count(),
        "dealers": Dealer.objects.count(),
        "dispatch_windows": DispatchWindow.objects.count(),
        "advisors": Advisor.objects.count(),
        "users": User.objects.count(),
        "vehicle_series": VehicleSeries.objects.count(),
        "vehicle_models": VehicleModel.objects.count(),
        "customers": Customer.objects.count(),
        "raw_leads": RawLead.objects.count(),
        "leads": Lead.objects.count(),
        "lead_events": LeadEvent.objects.count(),
        "state_logs": StateLog.objects.filter(content_type=lead_type).count(),
        "follow_ups": FollowUp.objects.count(),
        "call_records": CallRecord.objects.count(),
        "nurture_touches": NurtureTouch.objects.count(),
        "notifications": Notification.objects.count(),
        "mobile_reveals": MobileReveal.objects.count(),
    }
    statuses = dict(Lead.objects.order_by().values_list("status").annotate(n=Count("id")))
    return DemoSummary(summary_counts, statuses, time.perf_counter() - started)


def _reveals_seed(rng: random.Random, now, logins: dict) -> None:
    """A month of "查看号码" records (advisors calling their own leads, agents calling HQ
    leads), with one agent revealing far more than usual today so the auditor's summary has
    a flagged day to show."""
    owned = list(
        Lead.objects.filter(advisor__isnull=False)
        .order_by("pk")
        .values_list("pk", "customer_id", "advisor__user_id")[:400]
    )
    at_hq = list(
        Lead.objects.filter(status__in=[Status.CLEANSING, Status.NURTURING])
        .order_by("pk")
        .values_list("pk", "customer_id")[:200]
    )
    reasons = [MobileReveal.Reason.CALL] * 6 + [
        MobileReveal.Reason.CALLBACK,
        MobileReveal.Reason.VERIFY,
    ]
    rows = []

    def add(user_id, lead_id, customer_id, source, day, count, spread=9 * 60):
        for _n in range(count):
            at = now - timedelta(days=day, minutes=rng.randint(0, spread))
            rows.append(
                MobileReveal(
                    user_id=user_id,
                    lead_id=lead_id,
                    customer_id=customer_id,
                    reason=rng.choice(reasons),
                    source=source,
                    ip=f"10.0.{rng.randint(0, 20)}.{rng.randint(2, 250)}",
                    created_at=at,
                )
            )

    for day in range(30):
        for lead_id, customer_id, user_id in rng.sample(owned, min(len(owned), 25)):
            add(user_id, lead_id, customer_id, MobileReveal.Source.DEALER, day, rng.randint(0, 2))
        agent_id = logins["agent"][0].pk
        for lead_id, customer_id in rng.sample(at_hq, min(len(at_hq), 6)):
            add(agent_id, lead_id, customer_id, MobileReveal.Source.WORKBENCH, day, 1)
    if at_hq:  # today: the agent reveals ~8× their usual volume
        for lead_id, customer_id in (at_hq * 8)[:45]:
            agent_id = logins["agent"][0].pk
            add(agent_id, lead_id, customer_id, MobileReveal.Source.WORKBENCH, 0, 1, spread=20)
    MobileReveal.objects.bulk_create(rows, batch_size=BATCH)


class _Rule:
    """A scoring rule with its label translated once (leads.scoring asks for it per call)."""

    def __init__(self, rule: ScoringRule):
        self.kind, self.points, self.params = rule.kind, rule.points, rule.params
        self.label = str(rule.get_kind_display())

    def get_kind_display(self) -> str:
        return self.label


# The transitions a service runs write a LeadEvent and a django-fsm-log StateLog row with the
# same facts (leads/services/transitions.py run_transition); the demo writes the events and
# copies them into StateLog in one statement, inside the database.
_TRANSITION_KINDS = (K.STATUS, K.DISPATCHED, K.ASSIGNED, K.REACTIVATED, K.GRADE)


def _state_logs_derive(first_lead_id: int, lead_type_id: int) -> None:
    """One StateLog row per transition event of the demo leads (a grab is the assign
    transition)."""
    q = connection.ops.quote_name
    log = {f.name: q(f.column) for f in StateLog._meta.concrete_fields}
    event = {f.name: q(f.column) for f in LeadEvent._meta.concrete_fields}
    kinds = ", ".join(["%s"] * len(_TRANSITION_KINDS))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {q(StateLog._meta.db_table)} ({log['timestamp']}, {log['by']},"
            f" {log['source_state']}, {log['state']}, {log['transition']},"
            f" {log['content_type']}, {log['object_id']}, {log['description']})"
            f" SELECT {event['created_at']}, {event['actor']}, {event['from_value']},"
            f" {event['to_value']}, CASE WHEN {event['action']} = 'grab' THEN 'assign'"
            f" ELSE {event['action']} END, %s, {event['lead']}, NULLIF({event['reason']}, '')"
            f" FROM {q(LeadEvent._meta.db_table)}"
            f" WHERE {event['lead']} >= %s AND {event['kind']} IN ({kinds})"
            f" ORDER BY {event['id']}",
            [lead_type_id, first_lead_id, *_TRANSITION_KINDS],
        )


def _rules_load() -> _Rules:
    reasons = list(InvalidReason.objects.filter(is_active=True).values_list("id", "code", "name"))
    fallback = (None, "多次未接通，无法联系")
    unreachable = next(((i, n) for i, c, n in reasons if c == "unreachable"), fallback)
    return _Rules(
        cycles={**DEFAULT_CYCLE_DAYS, **dict(GradeCycle.objects.values_list("grade", "days"))},
        scoring=[_Rule(rule) for rule in active_rules()],
        policy=CleansingPolicy.current(),
        invalid_reasons=[(i, n) for i, c, n in reasons if c != "unreachable"]
        or [(None, "无购车意向")],
        unreachable=unreachable,
        validity=_validity_rule(),
        no_first=_no_first_rule(),
    )


def _network_rules(kind: str) -> list[LifecycleRule]:
    """Active rules of a kind that apply to every lead (no dealer, grade … scope)."""
    rules = LifecycleRule.objects.filter(is_active=True, kind=kind).order_by("priority", "pk")
    return [r for r in rules if not r.scope_q()]  # an empty Q: every lead


def _validity_rule() -> _Validity | None:
    rules = _network_rules(LifecycleRule.Kind.VALIDITY)
    if not rules:
        return None
    rule, params = rules[0], rules[0].params or {}
    return _Validity(
        rule.name,
        rule.days,
        {str(k): v for k, v in (params.get("stage_days") or {}).items()},
        int(params.get("silence_hours", 24) or 0),
    )


def _no_first_rule() -> tuple:
    rules = _network_rules(LifecycleRule.Kind.RECALL_NO_FIRST_FOLLOW_UP)
    return (
        (rules[0].hours, rules[0].name) if rules else (24, "分配后24小时未首次跟进，召回到公共池")
    )


def _weights(picker: _Picker) -> list[float]:
    return [b - a for a, b in zip([0, *picker.cum[:-1]], picker.cum, strict=True)]


def demo_summary_table(summary: DemoSummary) -> str:
    labels = {
        "channels": _("渠道（全部级别）"),
        "level3_channels": _("三级渠道"),
        "regions": _("大区"),
        "dealers": _("经销商"),
        "dispatch_windows": _("派发时段"),
        "advisors": _("经销商员工"),
        "users": _("登录账号"),
        "vehicle_series": _("车系"),
        "vehicle_models": _("车型"),
        "customers": _("客户"),
        "raw_leads": _("原始线索"),
        "leads": _("线索"),
        "lead_events": _("线索日志"),
        "state_logs": _("状态流转日志"),
        "follow_ups": _("跟进记录"),
        "call_records": _("外呼记录"),
        "nurture_touches": _("培育触达"),
        "notifications": _("通知"),
        "mobile_reveals": _("号码查看记录"),
    }
    rows = [[labels[key], f"{value:,}"] for key, value in summary.counts.items()]
    names = dict(Status.choices)
    status_rows = [[str(names[s]), f"{summary.statuses.get(s, 0):,}"] for s in Status.values]
    return "\n".join(
        [
            _table([_("对象"), _("数量")], rows),
            "",
            _table([_("线索状态"), _("数量")], status_rows),
            "",
            _("用时 %(seconds).1f 秒") % {"seconds": summary.seconds},
        ]
    )
