"""Test settings: what the suite changes, set here because Django-Q2 reads it at import."""

import os
import secrets
import sys
import tempfile
from pathlib import Path

# A test run leaves the checkout as it found it. No bytecode from here on (pytest's
# assertion rewriting included); child processes inherit the variable.
sys.dont_write_bytecode = True
os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")

# What the tests write goes to one folder outside the checkout: the SQLite test
# database, MEDIA_ROOT, STATIC_ROOT, Hypothesis' files. Named once per run by the
# first process to load these settings; the processes the tests start (the Django-Q2
# cluster) inherit the variable and so see the same database and files. The test
# session makes the folder and removes it at the end (tests/conftest.py), unless
# STOCKDESK_TEST_DIR was set beforehand: a folder to keep, e.g. for --reuse-db.
TEST_DIR_IS_TEMPORARY = not os.environ.get("STOCKDESK_TEST_DIR")
if TEST_DIR_IS_TEMPORARY:
    run_name = f"stockdesk-tests-{secrets.token_hex(8)}"
    os.environ["STOCKDESK_TEST_DIR"] = str(Path(tempfile.gettempdir()) / run_name)
TEST_DIR = Path(os.environ["STOCKDESK_TEST_DIR"])

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-used-anywhere-else")
os.environ.setdefault("DJANGO_Q_SYNC", "true")
# The lockout test turns django-axes on; elsewhere it would need a request per login.
os.environ.setdefault("AXES_ENABLED", "false")
os.environ.setdefault("PRICE_PROVIDER", "alpha_vantage")
os.environ.setdefault("ALPHA_VANTAGE_API_KEY", "TESTKEY0123456789")
os.environ.setdefault("ALPHA_VANTAGE_BASE_URL", "http://127.0.0.1:9/query")
# A developer's REDIS_URL in .env must not put the tests' rate-limit counters there.
os.environ.setdefault("CACHE_BACKEND", "locmem")
# Nor may a developer's SENTRY_DSN get the suite's deliberate errors reported.
os.environ["SENTRY_DSN"] = ""
os.environ.setdefault("MEDIA_ROOT", str(TEST_DIR / "media"))
os.environ.setdefault("STATIC_ROOT", str(TEST_DIR / "static"))

from core.settings import *  # noqa: E402, F403
from core.settings import DATABASES  # noqa: E402

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
    DATABASES["default"]["TEST"] = {"NAME": str(TEST_DIR / "test-db.sqlite3")}
