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
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

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

UNFOLD = {
    "SITE_TITLE": _("线索中心"),
    "SITE_HEADER": _("线索中心"),
    "SITE_SUBHEADER": _("总部管理后台"),
    "SITE_SYMBOL": "hub",
    "SHOW_LANGUAGES": True,
    "SHOW_HISTORY": True,
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
                    },
                    {
                        "title": _("培育池"),
                        "icon": "spa",
                        "link": reverse_lazy("admin:leads_nurturinglead_changelist"),
                    },
                    {
                        "title": _("抽样监督"),
                        "icon": "fact_check",
                        "link": reverse_lazy("admin:leads_supervisionsample_changelist"),
                    },
                    {
                        "title": _("外呼记录"),
                        "icon": "call_log",
                        "link": reverse_lazy("admin:leads_callrecord_changelist"),
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
                    },
                    {
                        "title": _("原始线索"),
                        "icon": "inbox",
                        "link": reverse_lazy("admin:leads_rawlead_changelist"),
                    },
                    {
                        "title": _("客户"),
                        "icon": "person",
                        "link": reverse_lazy("admin:leads_customer_changelist"),
                    },
                    {
                        "title": _("跟进记录"),
                        "icon": "forum",
                        "link": reverse_lazy("admin:leads_followup_changelist"),
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
                    },
                    {
                        "title": _("经销商"),
                        "icon": "storefront",
                        "link": reverse_lazy("admin:dealers_dealer_changelist"),
                    },
                    {
                        "title": _("销售顾问"),
                        "icon": "badge",
                        "link": reverse_lazy("admin:dealers_advisor_changelist"),
                    },
                ],
            },
        ],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
