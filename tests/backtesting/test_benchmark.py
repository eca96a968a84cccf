"""Benchmark figures against empyrical and by hand; the selector that finds the
benchmark's bars.

empyrical's conventions converted here: its excess_sharpe is not annualised (ours is,
by sqrt(252)), and it has no tracking error, which is annual_volatility of the active
returns (std with ddof 1, times sqrt(252)).
"""

from __future__ import annotations

import json
import math
from datetime import date
from decimal import Decimal

import empyrical as ep
import numpy as np
import pandas as pd
import pytest

from backtesting.benchmark import benchmark_stats
from backtesting.engine import run_backtest
from backtesting.params import BacktestParams
from backtesting.selectors import backtest_benchmark, benchmark_for
from backtesting.services import backtest_run_create
from core.errors import UnknownSymbol
from tests.factories import make_bars, make_symbol, price_bars, price_closes

TIGHT = {"rel": 1e-9, "abs": 1e-12}


def sessions(count: int, start: str = "2016-01-04") -> np.ndarray:
    return pd.bdate_range(start, periods=count).to_numpy(dtype="datetime64[D]")


def synthetic():
    """A strategy that moves 0.8 times the benchmark's daily move plus noise."""
    rng = np.random.default_rng(3)
    dates = sessions(1500)
    market = rng.normal(0.0003, 0.011, len(dates) - 1)
    own = 0.8 * market + rng.normal(0.0001, 0.006, len(dates) - 1)
    equity = 10_000 * np.concatenate(([1.0], np.cumprod(1 + own)))
    closes = 200 * np.concatenate(([1.0], np.cumprod(1 + market)))
    return dates, equity, dates, closes


def realish():
    """An engine run on one walk against another walk that starts 30 bars later
    and stops 20 bars early, with bars of its own on days the run has none."""
    closes = price_closes(900, drift=0.0003, volatility=0.014, seed=21)
    bars = pd.DataFrame(
        [
            {"date": bar.date, "open": bar.open, "close": bar.close}
            for bar in price_bars(closes, start=date(2020, 1, 1))
        ]
    )
    result = run_backtest(bars, fast=10, slow=60, initial_investment=5_000.0)
    market = price_bars(
        price_closes(900, drift=0.0002, volatility=0.01, seed=4),
        start=date(2020, 1, 1),
    )[30:-20]
    bench_dates = np.array([bar.date for bar in market], dtype="datetime64[D]")
    bench_closes = np.array([float(bar.close) for bar in market])
    # A Saturday bar of the benchmark's, which the run has not: not a common date.
    bench_dates = np.append(bench_dates, np.datetime64("2030-01-05"))
    bench_closes = np.append(bench_closes, 1.0)
    return result.dates, result.equity, bench_dates, bench_closes


CURVES = {"synthetic": synthetic, "realish": realish}


@pytest.fixture(params=sorted(CURVES))
def pair(request):
    return CURVES[request.param]()


def aligned(dates, equity, bench_dates, bench_closes):
    common = np.intersect1d(dates, bench_dates)
    own = equity[np.isin(dates, common)]
    theirs = bench_closes[np.isin(bench_dates, common)]
    return common, own[1:] / own[:-1] - 1, theirs[1:] / theirs[:-1] - 1, own, theirs


def test_figures_match_empyrical(pair):
    dates, equity, bench_dates, bench_closes = pair
    common, ours, theirs, *_ = aligned(*pair)
    stats = benchmark_stats(dates, equity, bench_dates, bench_closes, 10_000.0)

    assert stats["common_days"] == len(common)
    assert stats["start"] == str(common[0]) and stats["end"] == str(common[-1])
    assert stats["beta"] == pytest.approx(ep.beta(ours, theirs), **TIGHT)
    assert stats["information_ratio"] == pytest.approx(
        ep.excess_sharpe(ours, theirs) * math.sqrt(252), **TIGHT
    )
    assert stats["tracking_error_pct"] == pytest.approx(
        ep.annual_volatility(ours - theirs) * 100, **TIGHT
    )
    assert stats["correlation"] == pytest.approx(
        pd.Series(ours).corr(pd.Series(theirs)), **TIGHT
    )
    bench_return = (ep.cum_returns_final(theirs)) * 100
    own_return = (ep.cum_returns_final(ours)) * 100
    assert stats["return_pct"] == pytest.approx(bench_return, **TIGHT)
    assert stats["strategy_return_pct"] == pytest.approx(own_return, **TIGHT)
    assert stats["excess_return_pct"] == pytest.approx(
        own_return - bench_return, **TIGHT
    )
    assert stats["notes"] == {}


def test_the_synthetic_strategy_has_the_beta_it_was_built_with():
    stats = benchmark_stats(*synthetic(), 10_000.0)
    assert stats["beta"] == pytest.approx(0.8, abs=0.03)
    assert 0.7 < stats["correlation"] < 1


def test_the_benchmark_curve_is_rebased_to_the_investment_on_common_dates(pair):
    dates, equity, bench_dates, bench_closes = pair
    common, *_, closes = aligned(*pair)
    stats = benchmark_stats(dates, equity, bench_dates, bench_closes, 2_500.0)
    assert [day for day, _ in stats["equity"]] == [str(day) for day in common]
    assert stats["equity"][0][1] == 2_500.0
    assert stats["equity"][-1][1] == pytest.approx(
        2_500 * closes[-1] / closes[0], abs=0.005
    )
    assert json.loads(json.dumps(stats, allow_nan=False)) == stats


def test_no_common_dates_gives_no_figures():
    dates = sessions(10, "2020-01-06")
    stats = benchmark_stats(
        dates, np.linspace(100, 110, 10), sessions(10, "2021-01-04"), np.ones(10), 1.0
    )
    assert stats["common_days"] == 0
    assert stats["equity"] == []
    assert stats["beta"] is None and stats["return_pct"] is None
    assert stats["notes"]["beta"] == "fewer than two common dates"


def test_a_flat_benchmark_has_no_beta_or_correlation():
    dates = sessions(30)
    equity = 100 * np.cumprod(np.full(30, 1.001))
    stats = benchmark_stats(dates, equity, dates, np.full(30, 50.0), 100.0)
    assert stats["return_pct"] == 0.0
    assert stats["beta"] is None and stats["correlation"] is None
    assert "never moved" in stats["notes"]["beta"]
    # Tracking the strategy's own moves against a still benchmark.
    assert stats["information_ratio"] is not None


def test_the_same_curve_tracks_itself_exactly():
    dates = sessions(50)
    closes = np.array(price_closes(50, volatility=0.01, seed=2, decimals=None))
    stats = benchmark_stats(dates, closes * 3, dates, closes, 100.0)
    assert stats["beta"] == pytest.approx(1.0) and stats["correlation"] == (
        pytest.approx(1.0)
    )
    assert stats["excess_return_pct"] == pytest.approx(0.0, abs=1e-9)
    assert stats["tracking_error_pct"] == pytest.approx(0.0, abs=1e-9)


# --- The selector: which benchmark, on which bars ------------------------------------


@pytest.fixture
def wave(db):
    symbol = make_symbol("WAVE", name="Wave Corp")
    make_bars(
        symbol, start=date(2023, 1, 2), closes=price_closes(300, wave=15, trend=0.05)
    )
    return symbol


@pytest.fixture
def spy(db):
    symbol = make_symbol("SPY", name="SPDR S&P 500")
    closes = price_closes(400, start_price=400, drift=0.0003, volatility=0.01, seed=9)
    make_bars(symbol, start=date(2022, 10, 3), closes=closes)
    return symbol


def wave_run(**params):
    return backtest_run_create(
        ticker="WAVE",
        params=BacktestParams(
            initial_investment=Decimal(10_000), fast=10, slow=30, **params
        ),
    )


def test_the_default_benchmark_is_spy_when_stored(wave, spy):
    compared = backtest_benchmark(wave_run())
    assert compared["available"] is True
    assert compared["ticker"] == "SPY"
    assert compared["common_days"] == 300
    assert compared["beta"] is not None


def test_without_spy_the_default_says_so(wave):
    compared = backtest_benchmark(wave_run())
    assert compared == {
        "available": False,
        "ticker": "SPY",
        "note": "SPY is not stored; fetch its prices to compare.",
    }


def test_spy_is_not_its_own_default_benchmark(spy):
    run = backtest_run_create(
        ticker="SPY",
        params=BacktestParams(initial_investment=Decimal(1000), fast=10, slow=30),
    )
    compared = backtest_benchmark(run)
    assert compared["available"] is False
    assert "SPY itself" in compared["note"]
    # Named, it is allowed: the curve against its own prices.
    assert backtest_benchmark(run, "SPY")["available"] is True


def test_none_turns_the_benchmark_off(wave, spy):
    compared = backtest_benchmark(wave_run(), None)
    assert compared["available"] is False and compared["ticker"] is None


def test_an_unknown_benchmark_is_a_404(wave):
    with pytest.raises(UnknownSymbol):
        backtest_benchmark(wave_run(), "NOPE")


def test_a_benchmark_without_overlapping_bars_is_unavailable(wave):
    late = make_symbol("LATE")
    make_bars(late, start=date(2030, 1, 1), closes=price_closes(50))
    compared = backtest_benchmark(wave_run(), "LATE")
    assert compared["available"] is False
    assert compared["ticker"] == "LATE"
    assert "no bars" in compared["note"]


def test_benchmark_for_takes_any_curve_on_the_symbols_dates(wave, spy):
    dates = sessions(120, "2023-03-01")
    compared = benchmark_for(
        wave,
        start=date(2023, 3, 1),
        end=date(2023, 12, 31),
        adjust="none",
        dates=dates,
        equity=np.linspace(1000, 1200, len(dates)),
        initial_investment=1000.0,
    )
    assert compared["available"] is True
    assert compared["common_days"] == 120
    assert compared["equity"][0] == [str(dates[0]), 1000.0]
