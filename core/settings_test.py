"""Test settings: what the suite changes, set here because Django-Q2 reads it at import."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-used-anywhere-else")
os.environ.setdefault("DJANGO_Q_SYNC", "true")
# The lockout test turns django-axes on; elsewhere it would need a request per login.
os.environ.setdefault("AXES_ENABLED", "false")
os.environ.setdefault("PRICE_PROVIDER", "alpha_vantage")
os.environ.setdefault("ALPHA_VANTAGE_API_KEY", "TESTKEY0123456789")
os.environ.setdefault("ALPHA_VANTAGE_BASE_URL", "http://127.0.0.1:9/query")

from core.settings import *  # noqa: F403
from core.settings import BASE_DIR, DATABASES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALPHA_VANTAGE_MIN_INTERVAL = 0.0
ALPHA_VANTAGE_BACKOFF = 0.0
ALPHA_VANTAGE_TIMEOUT = 2.0
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so a Django-Q2 cluster in another process sees the data.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / ".test-db.sqlite3")}
