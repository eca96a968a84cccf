"""The service's error and limit bodies (HTTP 200) become AlphaVantageProvider errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from core.redaction import REDACTED
from ingestion.providers.errors import (
    ProviderConfigurationError,
    ProviderError,
    RateLimited,
    SymbolNotFound,
)
from tests.fakes.alphavantage import (
    SAMPLE_KEY,
    FakeAlphaVantage,
    FakeResponse,
    load_body,
)
from tests.ingestion.provider_helpers import Build


def test_unknown_symbol(fake_av: FakeAlphaVantage, build: Build) -> None:
    with pytest.raises(SymbolNotFound) as info:
        build(plan="free").fetch_daily("ZZZZ")

    error = info.value
    assert error.message == "Alpha Vantage does not know the symbol 'ZZZZ'."
    assert error.status == 404
    assert "Invalid API call" in error.details["provider_message"]
    assert len(fake_av.requests) == 1


@pytest.mark.parametrize("key", ["BADKEY", " "])
def test_bad_or_missing_key_is_a_configuration_error(
    fake_av: FakeAlphaVantage, build: Build, key: str
) -> None:
    with pytest.raises(ProviderConfigurationError) as info:
        build(key).fetch_daily("IBM")

    assert info.value.status == 503
    if key.strip():
        assert info.value.details["reason"] == "invalid_key"
        assert "rejected the API key" in info.value.message
        assert len(fake_av.requests) == 1
    else:
        assert info.value.details["reason"] == "missing_key"
        assert fake_av.requests == []


def test_demo_key_is_a_configuration_error(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    with pytest.raises(ProviderConfigurationError) as info:
        build("demo", plan="free").fetch_daily("IBM")

    assert info.value.details["reason"] == "demo_key"
    assert "'demo' API key" in info.value.message
    assert len(fake_av.requests) == 1


@pytest.mark.parametrize(
    ("sample", "reason"),
    [
        ("error_unknown_function.json", "unknown_function"),
        ("information_premium_endpoint.json", "premium_endpoint"),
    ],
)
def test_permanent_refusals_are_configuration_errors(
    fake_av: FakeAlphaVantage, build: Build, sample: str, reason: str
) -> None:
    fake_av.script(FakeResponse.sample(sample))

    with pytest.raises(ProviderConfigurationError) as info:
        build(plan="free").fetch_daily("IBM")

    assert info.value.details["reason"] == reason
    assert len(fake_av.requests) == 1


def test_an_unrecognised_notice_is_a_provider_error_not_data(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    fake_av.script(FakeResponse.json_body({"Information": "Something new happened."}))

    with pytest.raises(ProviderError) as info:
        build(plan="free").fetch_daily("IBM")

    assert type(info.value) is ProviderError
    assert info.value.status == 502
    assert info.value.details["provider_message"] == "Something new happened."


def test_error_message_wins_over_a_notice(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    body = json.loads(load_body("error_invalid_apikey.json"))
    body["Note"] = json.loads(load_body("note_rate_limit_legacy.json"))["Note"]
    fake_av.script(FakeResponse.json_body(body))

    with pytest.raises(ProviderConfigurationError):
        build(plan="free").fetch_daily("IBM")


# --- rate limits ----------------------------------------------------------------------


DAILY_MESSAGE = (
    "Alpha Vantage rate limit reached: 25 requests per day on this key; "
    "try again after the daily reset."
)


SECONDS_TO_MIDNIGHT = 8 * 3600 + 30 * 60


@pytest.mark.parametrize(
    ("sample", "limit", "retry_after"),
    [
        ("note_rate_limit_legacy.json", "burst", 60),
        ("information_rate_limit_daily.json", "daily", SECONDS_TO_MIDNIGHT),
        ("information_rate_limit_daily_key_echo.json", "daily", SECONDS_TO_MIDNIGHT),
        ("information_burst_limit.json", "burst", 2),
    ],
)
def test_rate_limit_bodies_are_rate_limited_and_not_retried(
    fake_av: FakeAlphaVantage, build: Build, sample: str, limit: str, retry_after: int
) -> None:
    fake_av.script(FakeResponse.sample(sample))

    with pytest.raises(RateLimited) as info:
        build().fetch_daily("IBM")

    error = info.value
    assert error.status == 429
    assert error.details["limit"] == limit
    assert error.retry_after == retry_after
    assert SAMPLE_KEY not in error.details["provider_message"]
    if limit == "daily":
        assert error.message == DAILY_MESSAGE
    assert len(fake_av.requests) == 1


def test_daily_limit_from_the_fake_echoes_and_is_redacted(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    fake_av.daily_limit = 1
    provider = build(plan="free")
    provider.fetch_daily("IBM")

    with pytest.raises(RateLimited) as info:
        provider.fetch_daily("IBM")

    assert info.value.message == DAILY_MESSAGE
    assert f"API key as {REDACTED}" in info.value.details["provider_message"]
    assert len(fake_av.requests) == 2


def test_burst_limit_from_the_fake(fake_av: FakeAlphaVantage, build: Build) -> None:
    fake_av.burst_interval = 5.0
    provider = build(plan="free")
    provider.fetch_daily("IBM")

    with pytest.raises(RateLimited) as info:
        provider.fetch_daily("IBM")

    assert info.value.details["limit"] == "burst"
    assert info.value.retry_after == 2
    assert len(fake_av.requests) == 2


def test_daily_retry_after_is_at_least_a_minute(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    fake_av.script(FakeResponse.sample("information_rate_limit_daily.json"))
    late = datetime(2024, 6, 10, 23, 59, 30, tzinfo=UTC)

    with pytest.raises(RateLimited) as info:
        build(clock=lambda: late).fetch_daily("IBM")

    assert info.value.retry_after == 60
