"""Security settings (PIPL): login lockout, sessions, password rules, no mobiles in logs or
error reports, CSRF on every page, production hardening."""

import io
import json
import logging
import os
import secrets
import subprocess
import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory, override_settings
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone
from django.views.debug import get_default_exception_reporter_filter, get_exception_reporter_class
from django.views.defaults import page_not_found, server_error

from leads.models import LoginFailure
from leads.security.lockout import LockoutFormMixin
from leads.security.redaction import MaskPersonalDataFilter
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pass12345"  # the factories' password
LOCK_MESSAGE = "登录失败次数过多，账号已临时锁定"
MOBILE = "13800138000"
MASKED = "138****8000"
START = datetime(2025, 3, 3, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
BASE_DIR = settings.BASE_DIR


def _request(ip="127.0.0.1"):
    return RequestFactory().post("/admin/login/", REMOTE_ADDR=ip)


def _fail(username, times, ip="127.0.0.1"):
    for _ in range(times):
        assert authenticate(_request(ip), username=username, password="wrong-password") is None


def _can_log_in(username, ip="127.0.0.1"):
    return authenticate(_request(ip), username=username, password=PASSWORD) is not None


# --- login lockout ---


def test_a_failed_login_is_recorded_with_its_username_and_address(hq_admin):
    _fail("hq_admin", 1, ip="10.1.2.3")

    assert list(LoginFailure.objects.values_list("username", "ip")) == [("hq_admin", "10.1.2.3")]


def test_four_failures_do_not_lock(hq_admin):
    _fail("hq_admin", 4)

    assert _can_log_in("hq_admin")


def test_five_failures_lock_the_username_even_with_the_right_password(hq_admin):
    _fail("hq_admin", 5)

    assert not _can_log_in("hq_admin")
    assert not _can_log_in("hq_admin", ip="10.9.9.9")  # the username, not only the address


def test_locked_admin_login_shows_the_chinese_message_and_does_not_log_in(client, hq_admin):
    _fail("hq_admin", 5)

    response = client.post(
        reverse("admin:login"), {"username": "hq_admin", "password": PASSWORD}, follow=True
    )

    page = response.content.decode()
    assert LOCK_MESSAGE in page and "15 分钟后再试" in page
    assert "_auth_user_id" not in client.session


def test_locked_dealer_login_shows_the_chinese_message_and_does_not_log_in(client, advisor):
    _fail(advisor.user.username, 5)

    response = client.post(
        reverse("dealer:login"), {"username": advisor.user.username, "password": PASSWORD}
    )

    assert response.status_code == 200
    assert LOCK_MESSAGE in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_failure_that_sets_the_lock_already_shows_the_lock_message(client, advisor):
    _fail(advisor.user.username, 4)

    response = client.post(
        reverse("dealer:login"), {"username": advisor.user.username, "password": "wrong"}
    )

    assert LOCK_MESSAGE in response.content.decode()


def test_the_lock_lifts_15_minutes_after_the_last_failure(hq_admin):
    with time_machine.travel(START, tick=False) as traveller:
        _fail("hq_admin", 4)
        traveller.shift(timedelta(minutes=10))
        _fail("hq_admin", 1)  # the fifth, 10 minutes after the first

        traveller.shift(timedelta(minutes=14, seconds=59))
        locked_just_before = not _can_log_in("hq_admin")
        traveller.shift(timedelta(seconds=1))
        open_at_15_minutes = _can_log_in("hq_admin")

    assert locked_just_before and open_at_15_minutes


def test_failures_spread_over_more_than_15_minutes_do_not_lock(hq_admin):
    with time_machine.travel(START, tick=False) as traveller:
        for _ in range(5):
            _fail("hq_admin", 1)
            traveller.shift(timedelta(minutes=4))

        assert _can_log_in("hq_admin")


def test_attempts_refused_by_the_lock_do_not_extend_it(client, hq_admin):
    with time_machine.travel(START, tick=False) as traveller:
        _fail("hq_admin", 5)
        traveller.shift(timedelta(minutes=10))
        _fail("hq_admin", 3)  # refused while locked: not counted
        client.post(reverse("admin:login"), {"username": "hq_admin", "password": "wrong"})
        traveller.shift(timedelta(minutes=5))

        assert LoginFailure.objects.count() == 5
        assert _can_log_in("hq_admin")


def test_a_successful_login_clears_the_usernames_failures(client, hq_admin):
    _fail("hq_admin", 4)
    _fail("someone_else", 2)

    response = client.post(reverse("admin:login"), {"username": "hq_admin", "password": PASSWORD})

    assert response.status_code == 302
    assert list(LoginFailure.objects.values_list("username", flat=True)) == ["someone_else"] * 2


def test_twenty_failures_from_one_address_lock_the_address_for_every_username(hq_admin):
    for n in range(20):
        _fail(f"guess{n}", 1, ip="10.0.0.9")  # one try per account: password spraying

    assert not _can_log_in("hq_admin", ip="10.0.0.9")
    assert _can_log_in("hq_admin", ip="10.0.0.10")


def test_locked_address_shows_its_own_message_on_the_login_page(client, hq_admin):
    for n in range(20):
        _fail(f"guess{n}", 1, ip="127.0.0.1")

    response = client.post(reverse("admin:login"), {"username": "hq_admin", "password": PASSWORD})

    assert "该网络地址登录失败次数过多" in response.content.decode()


@override_settings(CLIENT_IP_HEADER="HTTP_X_FORWARDED_FOR")
def test_behind_a_proxy_the_address_is_the_one_the_proxy_appended(hq_admin):
    request = RequestFactory().post(
        "/admin/login/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.7"
    )

    authenticate(request, username="hq_admin", password="wrong")

    assert LoginFailure.objects.get().ip == "203.0.113.7"


def test_the_admin_login_checks_the_lock_on_unfolds_form():
    from unfold.forms import AuthenticationForm as UnfoldAuthenticationForm

    assert issubclass(admin.site.login_form, LockoutFormMixin)
    assert issubclass(admin.site.login_form, UnfoldAuthenticationForm)  # unfold's styling


# --- the failures' admin ---


def test_unlock_action_deletes_the_failures_of_the_selected_usernames(client, hq_admin):
    _fail("zhangsan", 5)
    _fail("lisi", 2)
    one_of_zhangsan = LoginFailure.objects.filter(username="zhangsan").first()
    client.force_login(hq_admin)

    response = client.post(
        reverse("admin:leads_loginfailure_changelist"),
        {"action": "unlock", "_selected_action": [one_of_zhangsan.pk]},
        follow=True,
    )

    assert "已解锁 1 个账号" in response.content.decode()
    assert set(LoginFailure.objects.values_list("username", flat=True)) == {"lisi"}


def test_unlock_action_needs_the_delete_permission(db):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_loginfailure"))
    request = RequestFactory().get("/")
    request.user = get_user_model().objects.get(pk=viewer.pk)

    actions = admin.site._registry[LoginFailure].get_actions(request)

    assert "unlock" not in actions


def test_login_failures_cannot_be_added_or_edited_in_the_admin(client, hq_admin):
    _fail("zhangsan", 1)
    failure = LoginFailure.objects.get()
    client.force_login(hq_admin)

    changelist = client.get(reverse("admin:leads_loginfailure_changelist"), {"q": "zhang"})
    add = client.get(reverse("admin:leads_loginfailure_add"))
    change = client.post(
        reverse("admin:leads_loginfailure_change", args=[failure.pk]), {"username": "x"}
    )

    assert changelist.status_code == 200 and "zhangsan" in changelist.content.decode()
    assert add.status_code == 403
    assert change.status_code == 403
    assert LoginFailure.objects.get().username == "zhangsan"


# --- sessions ---


def test_session_cookie_is_httponly_lax_and_ends_when_the_browser_closes(client, hq_admin):
    response = client.post(reverse("admin:login"), {"username": "hq_admin", "password": PASSWORD})

    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == "" and cookie["expires"] == ""


def test_csrf_cookie_is_httponly(client):
    response = client.get(reverse("dealer:login"))

    assert response.cookies[settings.CSRF_COOKIE_NAME]["httponly"] is True


def test_session_ends_after_8_idle_hours(client, hq_admin):
    page = reverse("admin:leads_loginfailure_changelist")
    with time_machine.travel(START, tick=False) as traveller:
        client.force_login(hq_admin)
        traveller.shift(timedelta(hours=8, minutes=1))

        response = client.get(page)

    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_each_request_renews_the_session(client, hq_admin):
    page = reverse("admin:leads_loginfailure_changelist")
    with time_machine.travel(START, tick=False) as traveller:
        client.force_login(hq_admin)
        answers = []
        for _ in range(5):  # 10 hours of work, a request every 2 hours
            traveller.shift(timedelta(hours=2))
            answers.append(client.get(page).status_code)

    assert answers == [200] * 5


# --- passwords ---


def test_a_password_shorter_than_10_characters_is_refused():
    with pytest.raises(ValidationError) as refused:
        validate_password("Zq7#kP2!x")

    assert [e.code for e in refused.value.error_list] == ["password_too_short"]
    assert "至少需要 10 个字符" in refused.value.messages[0]


def test_an_all_numeric_password_is_refused():
    with pytest.raises(ValidationError) as refused:
        validate_password("4829301756")

    assert "password_entirely_numeric" in [e.code for e in refused.value.error_list]


def test_a_common_password_is_refused():
    with pytest.raises(ValidationError) as refused:
        validate_password("password123")

    assert "password_too_common" in [e.code for e in refused.value.error_list]


def test_a_password_like_the_username_is_refused():
    user = get_user_model()(username="wangxiaoming2025")

    with pytest.raises(ValidationError) as refused:
        validate_password("wangxiaoming2025!", user)

    assert "password_too_similar" in [e.code for e in refused.value.error_list]


def test_a_long_mixed_password_is_accepted():
    assert validate_password("Zq7#kP2!xW9") is None


# --- no mobiles in logs ---


def _all_handlers():
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            pytest_own = type(handler).__module__.startswith("_pytest")
            if not pytest_own and not isinstance(handler, logging.NullHandler):
                yield handler


def test_every_log_handler_masks_mobiles():
    handlers = list(_all_handlers())

    assert handlers
    for handler in handlers:
        assert any(isinstance(f, MaskPersonalDataFilter) for f in handler.filters), handler


def test_a_mobile_in_a_log_message_is_masked_on_the_console():
    console = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, MaskPersonalDataFilter) for f in h.filters)
    )
    stream = io.StringIO()
    previous = console.setStream(stream)
    try:
        logging.getLogger("leads.intake").warning("重复线索 %s，来自 %s", MOBILE, "138 0013 8001")
    finally:
        console.setStream(previous)

    line = stream.getvalue()
    assert "重复线索 138****8000，来自 138****8001" in line
    assert MOBILE not in line and "0013" not in line


def test_a_mobile_in_a_logged_traceback_is_masked():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "失败", None, None)
    try:
        raise ValueError(f"duplicate key (mobile)=({MOBILE})")
    except ValueError:
        record.exc_info = sys.exc_info()

    MaskPersonalDataFilter().filter(record)
    text = logging.Formatter().format(record)

    assert MASKED in text and MOBILE not in text


# --- no mobiles in error reports ---


def test_error_report_masks_mobiles_in_post_data():
    request = RequestFactory().post("/x/", {"mobile": MOBILE, "note": "打 138-0013-8000"})

    shown = get_default_exception_reporter_filter().get_post_parameters(request)

    assert shown["mobile"] == MASKED
    assert shown["note"] == "打 138****8000"


def test_error_report_masks_mobiles_in_the_url_the_query_and_the_exception():
    request = RequestFactory().get("/admin/leads/lead/", {"q": MOBILE})
    try:
        raise RuntimeError(f"customer {MOBILE}")
    except RuntimeError:
        reporter = get_exception_reporter_class(request)(request, *sys.exc_info(), is_email=True)

    text, html = reporter.get_traceback_text(), reporter.get_traceback_html()

    assert MASKED in text and MASKED in html
    assert MOBILE not in text and MOBILE not in html


@override_settings(ADMINS=[("运维", "ops@example.com")])
def test_admins_error_email_carries_no_mobile(mailoutbox):
    request = RequestFactory().post(f"/dealer/?mobile={MOBILE}", {"mobile": MOBILE})
    try:
        raise RuntimeError(f"customer {MOBILE}")
    except RuntimeError:
        logging.getLogger("django.request").error(
            "Internal Server Error: %s",
            request.get_full_path(),
            exc_info=True,
            extra={"status_code": 500, "request": request},
        )

    [email] = mailoutbox
    assert MASKED in email.body
    assert MOBILE not in email.subject and MOBILE not in email.body


def test_404_page_is_chinese_and_shows_no_details():
    response = page_not_found(RequestFactory().get(f"/x/{MOBILE}/"), Exception("secret detail"))

    page = response.content.decode()
    assert response.status_code == 404 and "页面不存在" in page
    assert MOBILE not in page and "secret detail" not in page


def test_500_page_is_chinese_and_shows_no_details():
    response = server_error(RequestFactory().get("/"))

    page = response.content.decode()
    assert response.status_code == 500 and "系统错误" in page
    assert "Traceback" not in page and "http" not in page


# --- CSRF ---


def test_dealer_login_post_without_csrf_token_is_refused(hq_admin):
    strict = Client(enforce_csrf_checks=True)

    response = strict.post(reverse("dealer:login"), {"username": "hq_admin", "password": PASSWORD})

    assert response.status_code == 403
    assert "_auth_user_id" not in strict.session


def test_admin_change_form_post_without_csrf_token_is_refused(hq_admin):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(hq_admin)

    response = strict.post(
        reverse("admin:auth_user_change", args=[hq_admin.pk]), {"username": "renamed"}
    )

    hq_admin.refresh_from_db()
    assert response.status_code == 403 and hq_admin.username == "hq_admin"


def test_only_the_token_api_is_csrf_exempt():
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern), pattern.callback

    exempt = [
        route
        for route, view in walk(get_resolver().url_patterns)
        if getattr(view, "csrf_exempt", False)
    ]

    assert exempt and all(route.startswith("api/") for route in exempt)
    assert (
        "rest_framework.authentication.SessionAuthentication"
        in (settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"])
    )  # DRF enforces CSRF on session-authenticated API calls


# --- production ---


def _production_env():
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="leads.example.com",
    )
    return env


def test_production_settings_pass_check_deploy():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_production_has_secure_cookies_hsts_and_no_debug():
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({k: getattr(s, k) for k in ['DEBUG', 'SESSION_COOKIE_SECURE', "
        "'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY', 'CSRF_COOKIE_HTTPONLY', "
        "'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_SSL_REDIRECT']}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )

    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == {
        "DEBUG": False,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_HTTPONLY": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_SSL_REDIRECT": True,
    }


def test_failed_logins_older_than_the_keep_period_are_purged(db):
    from leads.models import LoginFailure
    from leads.security.lockout import login_failures_purge

    now = timezone.now()
    LoginFailure.objects.create(username="old", created_at=now - timedelta(days=31))
    LoginFailure.objects.create(username="recent", created_at=now - timedelta(days=29))

    assert login_failures_purge(now=now) == 1
    assert list(LoginFailure.objects.values_list("username", flat=True)) == ["recent"]
    assert login_failures_purge(now=now) == 0


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:leads_cleansingqueuelead_claim_next",
        "admin:leads_lifecyclerule_run_now",
        "admin:reports_rolluprun_refresh_now",
    ],
)
def test_actions_that_change_data_on_a_get_refuse_requests_from_another_site(client, url_name):
    client.force_login(UserFactory(username="boss", is_staff=True, is_superuser=True))

    cross = client.get(reverse(url_name), HTTP_SEC_FETCH_SITE="cross-site")
    same = client.get(reverse(url_name), HTTP_SEC_FETCH_SITE="same-origin")

    assert cross.status_code == 403 and same.status_code == 302


def test_opening_the_workbench_from_another_site_claims_nothing(client):
    from leads.models import Lead, Status
    from tests.factories import LeadFactory

    lead = LeadFactory(status=Status.CLEANSING)
    client.force_login(UserFactory(username="boss", is_staff=True, is_superuser=True))
    url = reverse("admin:leads_cleansingqueuelead_work", args=[lead.pk])

    response = client.get(url, HTTP_SEC_FETCH_SITE="cross-site")

    assert response.status_code == 403
    assert Lead.objects.get(pk=lead.pk).claimed_by_id is None
