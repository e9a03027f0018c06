"""Settings shared by every environment. Configuration comes from the environment."""

import os
from pathlib import Path

import dj_database_url
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "dev-insecure-key-change-me")
DEBUG = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.import_export",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_fsm",
    "django_fsm_log",
    "import_export",
    "django_q",
    "django_filters",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels.apps.ChannelsConfig",
    "dealers.apps.DealersConfig",
    "leads.apps.LeadsConfig",
    "reports.apps.ReportsConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# The embedded default is an SQLite file under var/; DATABASE_URL points elsewhere (PostgreSQL).
DEFAULT_SQLITE_URL = f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or DEFAULT_SQLITE_URL, conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # WAL lets the web server and the task cluster read while the other writes.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": 20,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "leads.security.passwords.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login lockout (leads/security/lockout.py): LOGIN_LOCKOUT_FAILURES failed logins of one
# username within LOGIN_LOCKOUT_MINUTES lock it until LOGIN_LOCKOUT_MINUTES after the last one;
# LOGIN_LOCKOUT_IP_FAILURES from one address in the window lock the address. The backend
# refuses a locked login even with the right password.
AUTHENTICATION_BACKENDS = ["leads.security.lockout.LockoutBackend"]
LOGIN_LOCKOUT_FAILURES = int(os.environ.get("LOGIN_LOCKOUT_FAILURES", "5"))
LOGIN_LOCKOUT_MINUTES = int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15"))
LOGIN_LOCKOUT_IP_FAILURES = int(os.environ.get("LOGIN_LOCKOUT_IP_FAILURES", "20"))
# Behind a reverse proxy every request comes from the proxy's address: name the header it
# sets with the client's address (e.g. HTTP_X_FORWARDED_FOR; its last entry is used), or the
# address rule would lock everybody out at once. Empty: REMOTE_ADDR.
CLIENT_IP_HEADER = os.environ.get("CLIENT_IP_HEADER", "")
# Failed-login rows (usernames, addresses) are deleted after this many days (nightly task).
LOGIN_FAILURES_KEEP_DAYS = int(os.environ.get("LOGIN_FAILURES_KEEP_DAYS", "30"))

# Sessions end after 8 hours without a request (each request renews the cookie) and when the
# browser closes. No page script reads the CSRF cookie (forms carry the token; the API docs
# page renders it into the page), so it is HttpOnly too.
SESSION_COOKIE_AGE = 8 * 60 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"

# Error reports (the admins' e-mails, the technical 500 page) with every mobile masked.
DEFAULT_EXCEPTION_REPORTER_FILTER = "leads.security.redaction.MaskingExceptionReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "leads.security.redaction.MaskingExceptionReporter"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
# locale_vendor holds translations of third-party apps that ship none (unfold, django-fsm).
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_vendor"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"

REDIS_URL = os.environ.get("REDIS_URL", "")

# django-q2: ORM broker unless REDIS_URL is set (without an explicit broker it would silently
# try Redis). No catch-up storm after downtime, bounded retries.
Q_CLUSTER = {
    "name": "leadcentre",
    "workers": int(os.environ.get("Q_WORKERS", "2")),
    "timeout": 300,
    "retry": 360,
    "max_attempts": 3,
    "catch_up": False,
    "save_limit": 10000,
    "label": _("任务队列"),
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    Q_CLUSTER["orm"] = "default"
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "config.api.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {"channel": os.environ.get("CHANNEL_RATE", "6000/min")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "线索中心 API",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# django-fsm-log would write its StateLog from inside the transition (a query in a transition).
# The lead services write the same StateLog row themselves, after the transition, in their
# transaction, with who and why: see leads/services/audit.py.
DJANGO_FSM_LOG_IGNORED_MODELS = ["leads.models.core.Lead"]


def _may(*perms):
    """A sidebar item shows only to users holding one of these permissions."""
    return lambda request: any(request.user.has_perm(p) for p in perms)


UNFOLD = {
    "SITE_TITLE": _("线索中心"),
    "SITE_HEADER": _("线索中心"),
    "SITE_SUBHEADER": _("总部管理后台"),
    "SITE_SYMBOL": "hub",
    "SHOW_LANGUAGES": True,
    "SHOW_HISTORY": True,
    "LOGIN": {"form": "leads.security.lockout.AdminLoginForm"},
    "DASHBOARD_CALLBACK": "reports.admin.dashboard_callback",
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": True,
        "navigation": [
            {
                "title": _("总部清洗"),
                "items": [
                    {
                        "title": _("清洗队列"),
                        "icon": "headset_mic",
                        "link": reverse_lazy("admin:leads_cleansingqueuelead_changelist"),
                        "permission": _may("leads.cleanse_lead", "leads.view_cleansingqueuelead"),
                    },
                    {
                        "title": _("培育池"),
                        "icon": "spa",
                        "link": reverse_lazy("admin:leads_nurturinglead_changelist"),
                        "permission": _may("leads.cleanse_lead", "leads.view_nurturinglead"),
                    },
                    {
                        "title": _("抽样监督"),
                        "icon": "fact_check",
                        "link": reverse_lazy("admin:leads_supervisionsample_changelist"),
                        "permission": _may("leads.cleanse_lead", "leads.view_supervisionsample"),
                    },
                    {
                        "title": _("外呼记录"),
                        "icon": "call_log",
                        "link": reverse_lazy("admin:leads_callrecord_changelist"),
                        "permission": _may("leads.view_callrecord"),
                    },
                ],
            },
            {
                "title": _("线索"),
                "items": [
                    {
                        "title": _("线索"),
                        "icon": "contact_phone",
                        "link": reverse_lazy("admin:leads_lead_changelist"),
                        "permission": _may("leads.view_lead"),
                    },
                    {
                        "title": _("原始线索"),
                        "icon": "inbox",
                        "link": reverse_lazy("admin:leads_rawlead_changelist"),
                        "permission": _may("leads.view_rawlead"),
                    },
                    {
                        "title": _("客户"),
                        "icon": "person",
                        "link": reverse_lazy("admin:leads_customer_changelist"),
                        "permission": _may("leads.view_customer"),
                    },
                    {
                        "title": _("跟进记录"),
                        "icon": "forum",
                        "link": reverse_lazy("admin:leads_followup_changelist"),
                        "permission": _may("leads.view_followup"),
                    },
                ],
            },
            {
                "title": _("报表"),
                "items": [
                    {
                        "title": _("KPI看板"),
                        "icon": "monitoring",
                        "link": reverse_lazy("admin:reports_dashboard_changelist"),
                        "permission": "reports.admin.can_view_reports",
                    },
                    {
                        "title": _("汇总刷新记录"),
                        "icon": "update",
                        "link": reverse_lazy("admin:reports_rolluprun_changelist"),
                        "permission": "reports.admin.can_view_reports",
                    },
                    {
                        "title": _("大区经理"),
                        "icon": "supervisor_account",
                        "link": reverse_lazy("admin:reports_regionmanager_changelist"),
                        "permission": "reports.admin.can_manage_region_managers",
                    },
                ],
            },
            {
                "title": _("渠道与经销商"),
                "items": [
                    {
                        "title": _("渠道"),
                        "icon": "hub",
                        "link": reverse_lazy("admin:channels_channel_changelist"),
                        "permission": _may("channels.view_channel"),
                    },
                    {
                        "title": _("经销商"),
                        "icon": "storefront",
                        "link": reverse_lazy("admin:dealers_dealer_changelist"),
                        "permission": _may("dealers.view_dealer"),
                    },
                    {
                        "title": _("销售顾问"),
                        "icon": "badge",
                        "link": reverse_lazy("admin:dealers_advisor_changelist"),
                        "permission": _may("dealers.view_advisor"),
                    },
                ],
            },
            {
                "title": _("个人信息保护"),
                "items": [
                    {
                        "title": _("号码查看记录"),
                        "icon": "visibility",
                        "link": reverse_lazy("admin:leads_mobilereveal_changelist"),
                        "permission": _may("leads.view_mobilereveal"),
                    },
                    {
                        "title": _("个人信息请求"),
                        "icon": "shield_person",
                        "link": reverse_lazy("admin:leads_privacyrequest_changelist"),
                        "permission": _may("leads.view_privacyrequest"),
                    },
                    {
                        "title": _("导出记录"),
                        "icon": "download",
                        "link": reverse_lazy("admin:leads_exportlog_changelist"),
                        "permission": _may("leads.view_exportlog"),
                    },
                    {
                        "title": _("登录失败记录"),
                        "icon": "lock_person",
                        "link": reverse_lazy("admin:leads_loginfailure_changelist"),
                        "permission": _may("leads.view_loginfailure"),
                    },
                ],
            },
        ],
    },
}

# Every handler masks mobiles (leads/security/redaction.py). Django's own "django" and
# "django.server" loggers are redefined here so that none of Django's default handlers, which
# would not mask, stays attached.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "mask_personal_data": {"()": "leads.security.redaction.MaskPersonalDataFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["mask_personal_data"],
        },
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["mask_personal_data"],
        },
        "mail_admins": {
            "level": "ERROR",
            "class": "django.utils.log.AdminEmailHandler",
            "filters": ["require_debug_false", "mask_personal_data"],
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": ["mail_admins"], "level": "INFO"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
    },
}

# Reveal-on-reason (leads/services/reveal.py): a user's day is flagged in the reveal log when
# they revealed at least REVEAL_FLAG_MIN numbers and REVEAL_FLAG_FACTOR times their own daily
# average of the REVEAL_BASELINE_DAYS before.
REVEAL_FLAG_MIN = int(os.environ.get("REVEAL_FLAG_MIN", "20"))
REVEAL_FLAG_FACTOR = float(os.environ.get("REVEAL_FLAG_FACTOR", "3"))
REVEAL_BASELINE_DAYS = int(os.environ.get("REVEAL_BASELINE_DAYS", "30"))
