"""AlphaVantageProvider asks for full or compact history by plan; learns a free key."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ingestion.providers.alpha_vantage import FREE_KEY_NOTE
from ingestion.providers.errors import RateLimited
from tests.fakes.alphavantage import FakeAlphaVantage
from tests.ingestion.provider_helpers import NOW, PREMIUM_KEY, Build, RecordingHooks


def test_full_success_on_a_premium_key_records_the_plan(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    fake_av.generate_series("MSFT", days=300, end=date(2024, 6, 7), seed=3)
    hooks = RecordingHooks()

    result = build(PREMIUM_KEY, hooks=hooks).fetch_daily("MSFT")

    assert result.output_size == "full"
    assert len(result.bars) == 300
    assert result.bars["date"].is_monotonic_increasing
    assert result.bars["date"].iloc[-1] == date(2024, 6, 7)
    assert result.notes == ()
    assert [r["outputsize"] for r in fake_av.requests] == ["full"]
    assert hooks.detected == ["premium"]
    assert hooks.calls == 1


def test_auto_on_a_free_key_falls_back_to_compact_once_and_remembers(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    fake_av.generate_series("MSFT", days=150, end=date(2024, 6, 7))
    hooks = RecordingHooks()
    provider = build(hooks=hooks)

    first = provider.fetch_daily("MSFT")
    second = provider.fetch_daily("MSFT")

    assert [r["outputsize"] for r in fake_av.requests] == ["full", "compact", "compact"]
    assert hooks.detected == ["free"]
    assert hooks.calls == 3
    for result in (first, second):
        assert result.output_size == "compact"
        assert len(result.bars) == 100
        assert FREE_KEY_NOTE in result.notes
    assert "latest 100 trading days" in FREE_KEY_NOTE


def test_auto_with_a_known_premium_key_asks_for_full(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    build(PREMIUM_KEY, hooks=RecordingHooks(plan="premium")).fetch_daily("IBM")

    assert [r["outputsize"] for r in fake_av.requests] == ["full"]


def test_plan_free_asks_only_for_compact(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    hooks = RecordingHooks()

    result = build(plan="free", hooks=hooks).fetch_daily("IBM")

    assert [r["outputsize"] for r in fake_av.requests] == ["compact"]
    assert result.notes == (FREE_KEY_NOTE,)
    assert hooks.detected == []


def test_plan_premium_with_a_free_key_still_falls_back(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    hooks = RecordingHooks()

    result = build(plan="premium", hooks=hooks).fetch_daily("IBM")

    assert [r["outputsize"] for r in fake_av.requests] == ["full", "compact"]
    assert hooks.detected == ["free"]
    assert result.output_size == "compact"


@pytest.mark.parametrize(
    ("days_back", "expected"), [(0, "compact"), (140, "compact"), (141, "full")]
)
def test_since_within_140_days_asks_for_compact_even_on_premium(
    fake_av: FakeAlphaVantage, build: Build, days_back: int, expected: str
) -> None:
    since = NOW.date() - timedelta(days=days_back)

    build(PREMIUM_KEY, plan="premium").fetch_daily("IBM", since=since)

    assert [r["outputsize"] for r in fake_av.requests] == [expected]


def test_a_rate_limited_fallback_is_reported_as_rate_limited(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    fake_av.daily_limit = 1

    with pytest.raises(RateLimited):
        build().fetch_daily("IBM")

    assert [r["outputsize"] for r in fake_av.requests] == ["full", "compact"]
