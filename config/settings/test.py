"""The test suite: PostgreSQL when DATABASE_URL points at one, else SQLite.

django-q2 reads its sync flag at import time, so it is set here, not in a fixture.
"""

from .base import *  # noqa: F403
from .base import Q_CLUSTER

SECRET_KEY = "test-only-key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
Q_CLUSTER["sync"] = True
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
