"""The tearsheet against values worked out by hand and against empyrical.

empyrical (empyrical-reloaded, a test-only dependency) is the cross-check; where its
convention differs from ours (DESIGN/docs/backtesting.md) the test converts:
- its VaR/ES are fractions, ours are %;
- its annual return counts years as len(returns) / 252, ours in calendar days /
  365.25, so Calmar is compared with `annualization` set to the curve's own
  sessions per calendar year.
"""

from __future__ import annotations

import json
from datetime import date

import empyrical as ep
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtesting.engine import run_backtest
from backtesting.metrics import compute_metrics
from backtesting.tearsheet import (
    MIN_TAIL_RETURNS,
    ROLLING_WINDOW,
    rolling,
    tearsheet,
    value_at_risk,
)
from tests.factories import price_bars, price_closes

TIGHT = {"rel": 1e-9, "abs": 1e-12}


def days(count: int, start: str = "2024-01-01") -> np.ndarray:
    first = np.datetime64(start, "D")
    return np.arange(first, first + np.timedelta64(count, "D"))


def sessions(count: int, start: str = "2015-01-02") -> np.ndarray:
    return pd.bdate_range(start, periods=count).to_numpy(dtype="datetime64[D]")


def synthetic() -> tuple[np.ndarray, np.ndarray]:
    """Six years of a seeded normal walk on weekdays."""
    rng = np.random.default_rng(7)
    dates = sessions(6 * 252)
    returns = rng.normal(0.0004, 0.012, len(dates) - 1)
    return dates, 10_000 * np.concatenate(([1.0], np.cumprod(1.0 + returns)))


def realish() -> tuple[np.ndarray, np.ndarray]:
    """An SMA 20/100 run of the engine on four years of a drifting walk: flat days
    out of the market, whole shares, gaps at weekends."""
    closes = price_closes(1040, drift=0.0003, volatility=0.015, seed=11)
    bars = pd.DataFrame(
        [
            {"date": bar.date, "open": bar.open, "close": bar.close}
            for bar in price_bars(closes, start=date(2019, 1, 1))
        ]
    )
    result = run_backtest(bars, fast=20, slow=100, initial_investment=10_000.0)
    return result.dates, result.equity


CURVES = {"synthetic": synthetic, "realish": realish}


def returns_of(dates: np.ndarray, equity: np.ndarray) -> pd.Series:
    return pd.Series(equity[1:] / equity[:-1] - 1.0, index=pd.DatetimeIndex(dates[1:]))


@pytest.fixture(params=sorted(CURVES))
def curve(request) -> tuple[np.ndarray, np.ndarray]:
    return CURVES[request.param]()


def test_var_and_es_match_empyrical(curve):
    dates, equity = curve
    returns = returns_of(dates, equity).to_numpy()
    sheet = tearsheet(dates, equity)
    assert sheet["var_95_pct"] < 0
    assert sheet["var_95_pct"] == pytest.approx(
        ep.value_at_risk(returns, cutoff=0.05) * 100, **TIGHT
    )
    assert sheet["es_95_pct"] == pytest.approx(
        ep.conditional_value_at_risk(returns, cutoff=0.05) * 100, **TIGHT
    )
    assert sheet["es_95_pct"] < sheet["var_95_pct"]


def test_calmar_matches_empyrical_over_calendar_years(curve):
    dates, equity = curve
    returns = returns_of(dates, equity).to_numpy()
    years = int((dates[-1] - dates[0]).astype(np.int64)) / 365.25
    expected = ep.calmar_ratio(returns, annualization=len(returns) / years)
    assert tearsheet(dates, equity)["calmar"] == pytest.approx(expected, **TIGHT)


def test_calmar_is_the_metrics_cagr_over_the_max_drawdown(curve):
    dates, equity = curve
    metrics = compute_metrics(
        dates=dates,
        equity=equity,
        closes=equity,
        initial_investment=float(equity[0]),
        trade_pnls=np.array([]),
        trade_returns_pct=np.array([]),
        bars_in_market=0,
    )
    assert tearsheet(dates, equity)["calmar"] == pytest.approx(
        metrics.cagr_pct / abs(metrics.max_drawdown_pct), **TIGHT
    )


def test_the_worst_drawdown_is_empyricals_max_drawdown(curve):
    dates, equity = curve
    worst = tearsheet(dates, equity)["worst_drawdowns"]
    assert 1 <= len(worst) <= 5
    assert worst[0]["depth_pct"] == pytest.approx(
        ep.max_drawdown(returns_of(dates, equity).to_numpy()) * 100, **TIGHT
    )
    depths = [period["depth_pct"] for period in worst]
    assert depths == sorted(depths)
    for period in worst:
        assert period["start"] < period["trough"]
        assert period["recovery"] is None or period["trough"] < period["recovery"]


def test_monthly_and_yearly_returns_match_empyrical(curve):
    dates, equity = curve
    series = returns_of(dates, equity)
    monthly = ep.aggregate_returns(series, "monthly")
    yearly = ep.aggregate_returns(series, "yearly")
    rows = tearsheet(dates, equity)["monthly_returns"]["rows"]
    assert [row["year"] for row in rows] == yearly.index.tolist()
    for row in rows:
        assert row["year_pct"] == pytest.approx(yearly[row["year"]] * 100, **TIGHT)
        for month, value in enumerate(row["months"], start=1):
            if (row["year"], month) in monthly.index:
                expected = monthly[(row["year"], month)] * 100
                assert value == pytest.approx(expected, **TIGHT)
            else:
                assert value is None


def test_rolling_sharpe_and_volatility_match_empyrical(curve):
    dates, equity = curve
    returns = returns_of(dates, equity).to_numpy()
    rolling = tearsheet(dates, equity)["rolling"]
    assert rolling["window"] == ROLLING_WINDOW == 126
    assert rolling["dates"][0] == str(dates[0])
    assert len(rolling["dates"]) == len(rolling["sharpe"]) == len(dates)
    # The first full window of 126 returns ends on bar 126.
    assert rolling["sharpe"][:ROLLING_WINDOW] == [None] * ROLLING_WINDOW
    assert rolling["volatility_pct"][:ROLLING_WINDOW] == [None] * ROLLING_WINDOW
    sharpe = ep.roll_sharpe_ratio(returns, window=ROLLING_WINDOW)
    volatility = ep.roll_annual_volatility(returns, window=ROLLING_WINDOW) * 100
    ours_sharpe = rolling["sharpe"][ROLLING_WINDOW:]
    ours_vol = rolling["volatility_pct"][ROLLING_WINDOW:]
    assert len(ours_sharpe) == len(sharpe)
    for mine, theirs in zip(ours_sharpe, sharpe, strict=True):
        if mine is None:  # a window out of the market throughout
            assert not np.isfinite(theirs) or theirs == 0
        else:
            assert mine == pytest.approx(theirs, rel=1e-8, abs=1e-10)
    assert ours_vol == pytest.approx(volatility.tolist(), rel=1e-8, abs=1e-10)


def test_trailing_returns_match_empyricals_cumulative_returns(curve):
    dates, equity = curve
    series = returns_of(dates, equity)
    periods = tearsheet(dates, equity)["periods"]
    last = pd.Timestamp(dates[-1])

    def since(start: pd.Timestamp, *, inclusive: bool) -> float:
        # Returns after the base bar: the last bar on (before) `start`.
        base = dates[dates <= start] if inclusive else dates[dates < start]
        return ep.cum_returns_final(series[series.index > base[-1]]) * 100

    ytd = since(pd.Timestamp(last.year, 1, 1), inclusive=False)
    one = since(last - pd.DateOffset(years=1), inclusive=True)
    three = since(last - pd.DateOffset(years=3), inclusive=True)
    assert periods["ytd_pct"] == pytest.approx(ytd, **TIGHT)
    assert periods["one_year_pct"] == pytest.approx(one, **TIGHT)
    assert periods["three_year_pct"] == pytest.approx(three, **TIGHT)


# Hand-worked: peaks 100 120 120 120 130 130 130 140 140 150.
PATH = [100, 120, 90, 110, 130, 80, 85, 140, 126, 150]


def test_drawdown_periods_by_hand():
    sheet = tearsheet(days(len(PATH)), np.array(PATH, dtype=float))
    assert sheet["worst_drawdowns"] == [
        {
            "start": "2024-01-05",
            "trough": "2024-01-06",
            "recovery": "2024-01-08",
            "depth_pct": pytest.approx((80 / 130 - 1) * 100),
            "days": 3,
        },
        {
            "start": "2024-01-02",
            "trough": "2024-01-03",
            "recovery": "2024-01-05",
            "depth_pct": pytest.approx(-25.0),
            "days": 3,
        },
        {
            "start": "2024-01-08",
            "trough": "2024-01-09",
            "recovery": "2024-01-10",
            "depth_pct": pytest.approx(-10.0),
            "days": 2,
        },
    ]


def test_an_open_drawdown_has_no_recovery_and_counts_to_the_last_day():
    sheet = tearsheet(days(5), np.array([100, 110, 99, 88, 100], dtype=float))
    assert sheet["worst_drawdowns"] == [
        {
            "start": "2024-01-02",
            "trough": "2024-01-04",
            "recovery": None,
            "depth_pct": pytest.approx(-20.0),
            "days": 3,
        }
    ]


def test_only_the_five_deepest_drawdowns_are_kept():
    equity = np.array([100, 99, 100, 97, 100, 95, 100, 98, 100, 94, 100, 96, 100.0])
    depths = [d["depth_pct"] for d in tearsheet(days(13), equity)["worst_drawdowns"]]
    assert depths == pytest.approx([-6.0, -5.0, -4.0, -3.0, -2.0])


def test_monthly_returns_by_hand():
    dates = np.array(
        ["2023-12-29", "2024-01-31", "2024-02-29", "2024-04-30", "2025-01-02"],
        dtype="datetime64[D]",
    )
    sheet = tearsheet(dates, np.array([100, 110, 99, 108.9, 119.79]))
    assert sheet["monthly_returns"]["rows"] == [
        # The first month runs from the first bar: nothing to compound yet.
        {"year": 2023, "months": [None] * 11 + [0.0], "year_pct": 0.0},
        {
            "year": 2024,
            "months": [
                pytest.approx(10.0),
                pytest.approx(-10.0),
                None,
                pytest.approx(10.0),
                *[None] * 8,
            ],
            "year_pct": pytest.approx(8.9),
        },
        {
            "year": 2025,
            "months": [pytest.approx(10.0), *[None] * 11],
            "year_pct": pytest.approx(10.0),
        },
    ]


def test_periods_by_hand():
    dates = np.array(
        ["2021-03-01", "2023-03-01", "2023-12-29", "2024-02-29", "2024-03-01"],
        dtype="datetime64[D]",
    )
    periods = tearsheet(dates, np.array([50, 80, 100, 120, 125.0]))["periods"]
    # YTD from the 2023 close (100); one year from the bar on 2023-03-01 (80);
    # three years from the bar on or before 2021-03-01 (50).
    assert periods == {
        "ytd_pct": pytest.approx(25.0),
        "one_year_pct": pytest.approx(56.25),
        "three_year_pct": pytest.approx(150.0),
    }


def test_short_histories_say_what_does_not_exist():
    dates = np.array(["2024-03-04", "2024-03-05", "2024-03-06"], dtype="datetime64[D]")
    sheet = tearsheet(dates, np.array([100.0, 101.0, 102.0]))
    assert sheet["calmar"] is None
    assert sheet["var_95_pct"] is None and sheet["es_95_pct"] is None
    assert sheet["worst_drawdowns"] == []
    assert sheet["periods"] == {
        # YTD from the first bar: the history starts this year.
        "ytd_pct": pytest.approx(2.0),
        "one_year_pct": None,
        "three_year_pct": None,
    }
    assert sheet["rolling"]["sharpe"] == [None, None, None]
    assert set(sheet["notes"]) >= {
        "calmar",
        "var_95_pct",
        "es_95_pct",
        "one_year_pct",
        "three_year_pct",
        "rolling",
    }


def test_a_flat_window_has_zero_volatility_and_no_sharpe():
    equity = np.concatenate((np.linspace(100, 120, 60), np.full(200, 120.0)))
    rolling = tearsheet(days(len(equity)), equity)["rolling"]
    assert rolling["sharpe"][-1] is None
    assert rolling["volatility_pct"][-1] == 0.0


def test_the_tearsheet_is_plain_json(curve):
    dates, equity = curve
    sheet = tearsheet(dates, equity)
    assert json.loads(json.dumps(sheet, allow_nan=False)) == sheet


@given(
    st.lists(
        st.floats(-0.5, 0.5, allow_nan=False, allow_subnormal=False),
        min_size=MIN_TAIL_RETURNS,
        max_size=400,
    )
)
@settings(max_examples=200, deadline=None)
def test_var_is_numpys_5th_percentile_exactly(returns):
    values = np.array(returns)
    var, es = value_at_risk(values)
    assert var == float(np.percentile(values, 5.0))
    assert es == float(values[values <= var].mean())


def test_the_latest_rolling_figures_are_the_last_of_the_series(curve):
    dates, equity = curve
    returns = returns_of(dates, equity).to_numpy()

    whole = rolling(dates, returns, series=True)
    latest = rolling(dates, returns, series=False)

    assert latest["latest"] == whole["latest"]
    assert whole["latest"]["sharpe"] == whole["sharpe"][-1]
    assert whole["latest"]["volatility_pct"] == whole["volatility_pct"][-1]
    assert "sharpe" not in latest
