"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.test import Client

from core.services import api_token_create

# Playwright and live servers run an event loop in the test thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = ["tests.fakes.pytest_plugin"]


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
    return django_user_model.objects.create_user(
        username="analyst", password="analyst-pass-123", is_staff=True
    )


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
