"""Fetch-and-store: one transaction, idempotent upserts, history window, metering."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import pairwise

import pytest
from django.db import connection

from core.models import PriceBar, Symbol
from ingestion.models import ProviderAccount, ProviderDailyUsage
from ingestion.providers.errors import (
    MalformedResponse,
    NoData,
    ProviderConfigurationError,
    ProviderUnavailable,
    RateLimited,
    SymbolNotFound,
)
from ingestion.services.fetch import prices_fetch
from ingestion.services.metering import key_fingerprint, provider_call_reserve
from tests.concurrency import run_concurrently
from tests.fakes.alphavantage import FakeResponse, generate_rows

pytestmark = pytest.mark.django_db

END = date(2024, 6, 7)
# A re-fetch that really asks the provider again, not answered from the fetch that
# just stored the symbol (prices_fetch reuses a fetch of the last minute).
NO_REUSE = timedelta(0)


def bar_snapshot(ticker: str) -> list[tuple]:
    return list(
        PriceBar.objects.filter(symbol__ticker=ticker)
        .order_by("date")
        .values_list("date", "open", "high", "low", "close", "volume", "source")
    )


def test_first_fetch_stores_every_bar_of_the_compact_answer(provider_settings, fake_av):
    result = prices_fetch(ticker="ibm")

    assert result.symbol == "IBM"
    assert (result.received, result.inserted, result.updated) == (5, 5, 0)
    assert (result.first_date, result.last_date) == (date(2024, 6, 3), date(2024, 6, 7))
    bars = bar_snapshot("IBM")
    assert len(bars) == 5
    assert str(bars[-1][4]) == "170.0100"
    assert bars[-1][5] == 3421987
    assert {b[6] for b in bars} == {"alpha_vantage"}
    assert Symbol.objects.get(ticker="IBM").last_fetched_at is not None


def test_fetching_the_same_data_again_inserts_nothing(provider_settings, fake_av):
    prices_fetch(ticker="IBM")
    before = bar_snapshot("IBM")

    again = prices_fetch(ticker="IBM", reuse_within=NO_REUSE)

    assert (again.inserted, again.updated) == (0, 0)
    assert bar_snapshot("IBM") == before


def test_a_provider_correction_updates_exactly_that_row(provider_settings, fake_av):
    fake_av.generate_series("CORR", days=30, end=END, seed=3)
    prices_fetch(ticker="CORR")
    before = {row[0]: row for row in bar_snapshot("CORR")}
    corrected_day = END - timedelta(days=2)
    rows = fake_av.series_rows("CORR")
    day_key = corrected_day.isoformat()
    rows[day_key] = {**rows[day_key], "5. volume": "123"}
    fake_av.set_series("CORR", rows)

    result = prices_fetch(ticker="CORR", reuse_within=NO_REUSE)

    assert (result.inserted, result.updated) == (0, 1)
    after = {row[0]: row for row in bar_snapshot("CORR")}
    changed = [d for d in after if after[d] != before[d]]
    assert changed == [corrected_day]
    assert after[corrected_day][5] == 123


def test_only_the_configured_years_of_history_are_kept(provider_settings, fake_av):
    provider_settings.ALPHA_VANTAGE_PLAN = "premium"
    provider_settings.ALPHA_VANTAGE_API_KEY = "PREMIUMKEY42"
    fake_av.generate_series("LONG", days=5 * 261, end=END, seed=5)

    result = prices_fetch(ticker="LONG")

    cutoff = date(2022, 6, 7)
    assert result.first_date >= cutoff
    assert result.first_date <= cutoff + timedelta(days=4)
    assert PriceBar.objects.filter(symbol__ticker="LONG", date__lt=cutoff).count() == 0


def test_a_wider_history_setting_keeps_more(provider_settings, fake_av):
    provider_settings.ALPHA_VANTAGE_PLAN = "premium"
    provider_settings.ALPHA_VANTAGE_API_KEY = "PREMIUMKEY42"
    provider_settings.PRICE_HISTORY_YEARS = 4
    fake_av.generate_series("LONG", days=5 * 261, end=END, seed=5)

    result = prices_fetch(ticker="LONG")

    assert date(2020, 6, 7) <= result.first_date <= date(2020, 6, 12)


def test_auto_plan_learns_a_free_key_and_never_asks_for_full_again(
    provider_settings, fake_av
):
    fake_av.generate_series("AAA", days=150, end=END, seed=1)
    fake_av.generate_series("BBB", days=150, end=END, seed=2)

    first = prices_fetch(ticker="AAA")
    prices_fetch(ticker="BBB")

    sizes = [
        (r["symbol"], r.get("outputsize", "compact")) for r in fake_av.price_requests
    ]
    assert sizes == [("AAA", "full"), ("AAA", "compact"), ("BBB", "compact")]
    assert first.received == 100
    assert any("free" in note.lower() for note in first.notes)
    account = ProviderAccount.objects.get()
    assert account.detected_plan == "free"


FAILURES = [
    (
        "unknown symbol",
        FakeResponse.sample("error_invalid_symbol.json"),
        SymbolNotFound,
    ),
    (
        "bad key",
        FakeResponse.sample("error_invalid_apikey.json"),
        ProviderConfigurationError,
    ),
    (
        "daily limit",
        FakeResponse.sample("information_rate_limit_daily.json"),
        RateLimited,
    ),
    ("burst", FakeResponse.sample("information_burst_limit.json"), RateLimited),
    ("empty object", FakeResponse(body="{}"), NoData),
    (
        "not json",
        FakeResponse(body="<html>oops</html>", content_type="text/html"),
        MalformedResponse,
    ),
    (
        "bad number",
        FakeResponse(
            body='{"Meta Data": {}, "Time Series (Daily)": {"2024-06-07": {"1. open": "1",'
            ' "2. high": "abc", "3. low": "1", "4. close": "1", "5. volume": "1"}}}'
        ),
        MalformedResponse,
    ),
    (
        "server errors",
        FakeResponse(status=503, body="down", content_type="text/html"),
        ProviderUnavailable,
    ),
]


@pytest.mark.parametrize(
    ("case", "response", "error"), FAILURES, ids=[f[0] for f in FAILURES]
)
def test_a_failed_fetch_writes_nothing(
    provider_settings, fake_av, case, response, error
):
    provider_settings.ALPHA_VANTAGE_PLAN = "free"
    fake_av.script(*([response] * 3))

    with pytest.raises(error):
        prices_fetch(ticker="IBM")

    assert not Symbol.objects.filter(ticker="IBM").exists()
    assert not PriceBar.objects.exists()


def test_a_failed_refetch_keeps_the_bars_already_stored(provider_settings, fake_av):
    prices_fetch(ticker="IBM")
    before = bar_snapshot("IBM")
    fake_av.script(FakeResponse.sample("information_burst_limit.json"))

    with pytest.raises(RateLimited):
        prices_fetch(ticker="IBM", reuse_within=NO_REUSE)

    assert bar_snapshot("IBM") == before


def test_every_provider_call_is_counted_per_day(provider_settings, fake_av, av_key):
    provider_settings.ALPHA_VANTAGE_PLAN = "free"
    prices_fetch(ticker="IBM")
    fake_av.script(FakeResponse.sample("error_invalid_symbol.json"))
    with pytest.raises(SymbolNotFound):
        prices_fetch(ticker="NOPE")

    usage = ProviderDailyUsage.objects.get(
        account__key_fingerprint=key_fingerprint(av_key)
    )
    # IBM: its prices, then its splits and dividends (due on a first fetch); NOPE: 1.
    assert usage.calls == 4 == len(fake_av.requests)
    assert av_key not in ProviderAccount.objects.get().key_fingerprint


def test_the_daily_budget_refuses_a_fetch_before_anything_is_sent(
    provider_settings, fake_av
):
    provider_settings.ALPHA_VANTAGE_PLAN = "free"
    provider_settings.ALPHA_VANTAGE_DAILY_LIMIT = 2
    prices_fetch(ticker="IBM")
    prices_fetch(ticker="IBM", reuse_within=NO_REUSE)
    sent = len(fake_av.requests)

    with pytest.raises(RateLimited) as excinfo:
        prices_fetch(ticker="IBM", reuse_within=NO_REUSE)

    assert len(fake_av.requests) == sent == 2
    assert excinfo.value.code == "daily_budget_exhausted"
    assert excinfo.value.retry_after >= 60


def test_calls_are_spaced_by_the_minimum_interval():
    cleared = [
        provider_call_reserve(
            provider="alpha_vantage",
            fingerprint="f" * 16,
            daily_limit=25,
            min_interval=0.25,
        )
        for _ in range(3)
    ]
    gaps = [(b - a).total_seconds() for a, b in pairwise(cleared)]
    assert min(gaps) >= 0.25


@pytest.mark.django_db(transaction=True)
def test_calls_from_concurrent_workers_are_spaced_and_counted():
    def reserve() -> datetime:
        return provider_call_reserve(
            provider="alpha_vantage",
            fingerprint="c" * 16,
            daily_limit=25,
            min_interval=0.3,
        )

    cleared = sorted(run_concurrently(reserve, 3))

    assert min((b - a).total_seconds() for a, b in pairwise(cleared)) >= 0.3
    assert ProviderDailyUsage.objects.get().calls == 3


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_fetches_of_one_symbol_store_each_day_once(
    provider_settings, fake_av
):
    if connection.vendor != "postgresql":
        pytest.skip("fetch serialisation uses a PostgreSQL advisory lock")
    provider_settings.ALPHA_VANTAGE_PLAN = "premium"
    rows = generate_rows(days=120, end=END, seed=9)
    # The first fetch is still waiting for this slow answer when the second starts.
    fake_av.script(FakeResponse.slow(0.5, FakeResponse.series(rows, symbol="RACE")))

    results = run_concurrently(lambda: prices_fetch(ticker="RACE"), 2)

    assert len(results) == 2
    assert sorted(r.deduplicated for r in results) == [False, True]
    dates = list(
        PriceBar.objects.filter(symbol__ticker="RACE").values_list("date", flat=True)
    )
    assert len(dates) == len(set(dates)) == 120
    assert len(fake_av.price_requests) == 1
