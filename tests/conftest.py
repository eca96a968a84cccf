"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from importlib import import_module
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import DEFAULT_DB_ALIAS
from django.test import Client
from hypothesis.configuration import set_hypothesis_home_dir

from core.models import Symbol
from core.services import api_token_create
from tests.factories import make_acme

# Playwright and live servers run an event loop in the test thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# Hypothesis keeps its example database and caches outside the checkout too.
set_hypothesis_home_dir(settings.TEST_DIR / "hypothesis")

pytest_plugins = ["tests.fakes.pytest_plugin"]


def pytest_configure(config: pytest.Config) -> None:
    """Make the run's folder for what tests write (named in core/settings_test.py)."""
    if settings.TEST_DIR_IS_TEMPORARY:
        settings.TEST_DIR.mkdir(mode=0o700)
    else:
        settings.TEST_DIR.mkdir(parents=True, exist_ok=True)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the run's folder, the test database in it dropped by then."""
    if settings.TEST_DIR_IS_TEMPORARY:
        shutil.rmtree(settings.TEST_DIR, ignore_errors=True)


@pytest.fixture
def media_root(tmp_path: Path) -> Path:
    """Where this test's uploads and archived reports go (a module-wide folder in the
    browser tests, whose worker process reads the same files)."""
    return tmp_path / "media"


@pytest.fixture(autouse=True)
def media_in_tmp(settings, media_root: Path) -> Path:
    """No test writes media into the checkout."""
    settings.MEDIA_ROOT = media_root
    return media_root


@pytest.fixture(autouse=True)
def own_rate_limit_counters(settings) -> None:
    """Each test counts its API calls afresh: the counters live in the cache, which
    outlives a test's transaction, and user ids repeat from test to test on SQLite.
    A prefix of its own rather than cache.clear(), which on Redis empties the database."""
    settings.RATELIMIT_CACHE_PREFIX = f"rl:{uuid.uuid4().hex}:"


@pytest.fixture
def acme(db) -> Symbol:
    """ACME, Acme Corp: 520 weekday bars of a seeded walk from 2024-01-01."""
    return make_acme()


@pytest.fixture
def provider_settings(settings, fake_av, av_key):
    """Point the app at the fake Alpha Vantage server with the test key."""
    settings.PRICE_PROVIDER = "alpha_vantage"
    settings.ALPHA_VANTAGE_BASE_URL = fake_av.base_url
    settings.ALPHA_VANTAGE_API_KEY = av_key
    settings.ALPHA_VANTAGE_PLAN = "auto"
    settings.ALPHA_VANTAGE_MIN_INTERVAL = 0.0
    settings.ALPHA_VANTAGE_DAILY_LIMIT = 25
    return settings


@pytest.fixture
def staff_user(django_user_model):
    """Staff in the Analyst group, as the desk's analysts are (docs/roles.md)."""
    if not Group.objects.filter(name="Analyst").exists():
        # The migration made the groups; a transactional test before this one
        # emptied the database, groups too. Make them again as the migration does.
        import_module("admin_ui.migrations.0003_research_roles").roles_sync(
            django_apps, using=DEFAULT_DB_ALIAS
        )
    user = django_user_model.objects.create_user(
        username="analyst", password="analyst-pass-123", is_staff=True
    )
    user.groups.add(Group.objects.get(name="Analyst"))
    return user


@pytest.fixture
def api_key(staff_user) -> str:
    return api_token_create(user=staff_user, name="tests").raw_key


@pytest.fixture
def token_client(api_key) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {api_key}")


@pytest.fixture
def staff_client(staff_user) -> Iterator[Client]:
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    yield client
