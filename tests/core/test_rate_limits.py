"""Per-user request rates on the endpoints that do work: 429 JSON with Retry-After."""

from __future__ import annotations

import os
import uuid
from datetime import date
from types import SimpleNamespace

import pytest
import redis
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.test import Client, RequestFactory

from core.api.ratelimits import TooManyRequests, rate_limited
from core.services import api_token_create
from tests.concurrency import run_concurrently
from tests.factories import make_bars, make_symbol, price_closes

# CI's job container reaches its Redis service by name, not on 127.0.0.1.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def wavy(db):
    symbol = make_symbol("WAVE", name="Wave Corp")
    make_bars(symbol, start=date(2023, 1, 2), closes=price_closes(300, wave=20))
    return symbol


@pytest.fixture
def second_analyst(django_user_model):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(username="second", is_staff=True)
    user.groups.add(Group.objects.get(name="Analyst"))
    key = api_token_create(user=user, name="second").raw_key
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


BACKTEST = "/backtest/WAVE/10000/?fast=20&slow=50"


@pytest.mark.django_db
def test_the_call_over_the_limit_is_429_json_with_retry_after(
    settings, token_client, second_analyst, wavy
):
    settings.RATELIMIT_WORK = "3/m"
    assert [token_client.get(BACKTEST).status_code for _ in range(3)] == [200] * 3

    refused = token_client.get(BACKTEST)

    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/json"
    error = refused.json()["error"]
    assert error["code"] == "rate_limited"
    assert error["details"] == {"limit": "3/m", "scope": "backtest"}
    assert "3/m" in error["message"]
    assert 1 <= int(refused["Retry-After"]) <= 60
    # Another user has a counter of their own.
    assert second_analyst.get(BACKTEST).status_code == 200


@pytest.mark.django_db
def test_a_users_token_and_session_share_one_counter(
    settings, token_client, staff_client, wavy
):
    settings.RATELIMIT_WORK = "3/m"
    assert token_client.get(BACKTEST).status_code == 200
    assert token_client.get(BACKTEST).status_code == 200
    assert staff_client.get(BACKTEST).status_code == 200

    assert staff_client.get(BACKTEST).status_code == 429
    assert token_client.get(BACKTEST).status_code == 429


WORK = {
    "fetch": "/fetch/WAVE/?async=1",
    "backtest": BACKTEST,
    "predict": "/predict/WAVE/",
    "report": "/report/WAVE/",
}


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", list(WORK))
def test_every_work_endpoint_has_its_own_counter(
    settings, token_client, wavy, endpoint
):
    """A call counts whatever its outcome (a forecast without a model is a 4xx)."""
    settings.RATELIMIT_WORK = "1/m"
    assert token_client.get(WORK[endpoint]).status_code != 429

    assert token_client.get(WORK[endpoint]).status_code == 429
    for other in set(WORK) - {endpoint}:
        assert token_client.get(WORK[other]).status_code != 429, other


@pytest.mark.django_db
def test_calls_count_once_authenticated_and_allowed_whatever_their_outcome(
    settings, token_client, wavy
):
    settings.RATELIMIT_WORK = "1/m"
    assert Client().get(BACKTEST).status_code == 401  # not counted
    bad_windows = "/backtest/WAVE/10000/?fast=60&slow=50"
    assert token_client.get(bad_windows).status_code == 400  # counted

    assert token_client.get(BACKTEST).status_code == 429


def _probe_view():
    return rate_limited("probe")(lambda request: HttpResponse("ok"))


def test_placed_above_the_authentication_it_fails_loudly(settings):
    request = RequestFactory().get("/probe/")
    request.user = SimpleNamespace(is_authenticated=False, pk=None)

    with pytest.raises(ImproperlyConfigured, match="below api_endpoint"):
        _probe_view()(request)


def _redis_reachable() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.mark.parametrize("backend", ["locmem", "redis"])
def test_twenty_concurrent_calls_against_ten_allowed_give_ten(settings, backend):
    """The counter is incremented atomically in the cache (R10): Redis across
    processes in production, memory within the local demo's one process."""
    if backend == "redis":
        if not _redis_reachable():
            pytest.skip(f"no Redis at {REDIS_URL}")
        location = REDIS_URL
        cache_backend = "core.redis_cache.OneTripIncrRedisCache"
    else:
        location = f"probe-{uuid.uuid4().hex}"
        cache_backend = "django.core.cache.backends.locmem.LocMemCache"
    settings.CACHES = {
        **settings.CACHES,
        "probe": {
            "BACKEND": cache_backend,
            "LOCATION": location,
            "KEY_PREFIX": uuid.uuid4().hex,
        },
    }
    settings.RATELIMIT_USE_CACHE = "probe"
    settings.RATELIMIT_WORK = "10/m"
    view = _probe_view()
    user = SimpleNamespace(is_authenticated=True, pk=7)

    def call() -> int:
        request = RequestFactory().get("/probe/")
        request.user = user
        try:
            return view(request).status_code
        except TooManyRequests as exc:
            return exc.status

    statuses = run_concurrently(call, 20)

    assert sorted(statuses) == [200] * 10 + [429] * 10
