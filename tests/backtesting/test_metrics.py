"""Metrics against values worked out by hand."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from backtesting.metrics import compute_metrics, drawdown, max_drawdown_days


def days(count: int, start: str = "2024-01-01") -> np.ndarray:
    first = np.datetime64(start, "D")
    return np.arange(first, first + np.timedelta64(count, "D"))


def metrics_for(equity, *, pnls=(), returns=(), start="2024-01-01", dates=None):
    equity = np.asarray(equity, dtype=float)
    return compute_metrics(
        dates=dates if dates is not None else days(len(equity), start),
        equity=equity,
        closes=equity,
        initial_investment=float(equity[0]),
        trade_pnls=np.asarray(pnls, dtype=float),
        trade_returns_pct=np.asarray(returns, dtype=float),
        bars_in_market=0,
    )


# Peaks: 100 120 120 120 130 130 130
PATH = [100, 120, 90, 110, 130, 80, 85]


def test_max_drawdown_is_the_largest_fall_from_a_running_peak():
    assert drawdown(np.array(PATH, dtype=float)).tolist() == pytest.approx(
        [0, 0, 90 / 120 - 1, 110 / 120 - 1, 0, 80 / 130 - 1, 85 / 130 - 1]
    )
    assert metrics_for(PATH).max_drawdown_pct == pytest.approx(-38.461538, abs=1e-6)


def test_drawdown_duration_runs_from_the_peak_to_recovery_or_the_end():
    # Under water on days 2-3 (peak day 1, back on day 4: 3 days) and on days 5-6
    # (peak day 4, never back: 2 days to the last day).
    assert max_drawdown_days(days(7), np.array(PATH, dtype=float)) == 3
    # Calendar days, not bars: the same path over a weekend gap.
    dated = np.array(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04",
                      "2024-01-05", "2024-01-08", "2024-01-09"], dtype="datetime64[D]")  # fmt: skip
    assert max_drawdown_days(dated, np.array(PATH, dtype=float)) == 4


def test_cagr_over_two_years():
    dates = np.array(["2020-01-01", "2022-01-01"], dtype="datetime64[D]")
    m = metrics_for([100.0, 121.0], dates=dates)
    years = 731 / 365.25
    assert m.cagr_pct == pytest.approx((1.21 ** (1 / years) - 1) * 100)
    assert m.cagr_pct == pytest.approx(9.993, abs=1e-3)


def test_sharpe_sortino_and_volatility_on_known_daily_returns():
    returns = [0.01, -0.02, 0.03, 0.0]
    equity = [100.0]
    for r in returns:
        equity.append(equity[-1] * (1 + r))
    m = metrics_for(equity)
    # mean 0.005; sample std sqrt((0.005² + 0.025² + 0.025² + 0.005²) / 3)
    std = math.sqrt((0.005**2 + 0.025**2 + 0.025**2 + 0.005**2) / 3)
    assert m.sharpe == pytest.approx(0.005 / std * math.sqrt(252))
    assert m.sharpe == pytest.approx(3.8129, abs=1e-4)
    # downside deviation sqrt(mean(min(r, 0)²)) = sqrt(0.0004 / 4) = 0.01
    assert m.sortino == pytest.approx(0.005 / 0.01 * math.sqrt(252))
    assert m.volatility_pct == pytest.approx(std * math.sqrt(252) * 100)


def test_win_rate_and_profit_factor():
    m = metrics_for(PATH, pnls=[100, -50, 30, -20], returns=[10, -5, 3, -2])
    assert m.win_rate_pct == 50.0
    assert m.profit_factor == pytest.approx(130 / 70)
    assert (m.best_trade_pct, m.worst_trade_pct, m.avg_trade_pct) == (10, -5, 1.5)


def test_no_losing_trade_gives_a_null_profit_factor_with_the_reason():
    m = metrics_for(PATH, pnls=[10, 20], returns=[1, 2])
    assert m.profit_factor is None
    assert m.notes["profit_factor"] == "no losing trade, so profit factor is unbounded"
    text = json.dumps(m.as_dict(), allow_nan=False)
    assert "Infinity" not in text and '"profit_factor": null' in text


def test_a_steady_rise_has_no_sortino_and_says_why():
    m = metrics_for([100.0, 101.0, 102.5, 104.0])
    assert m.sortino is None
    assert "no losing day" in m.notes["sortino"]
    assert m.sharpe > 0
