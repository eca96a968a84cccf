"""The SMA-crossover engine: hand-worked cases, and agreement with a bar-by-bar loop."""

from __future__ import annotations

import json
import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backtesting.engine import NotEnoughBars, parameter_grid, run_backtest, sweep
from core.errors import InvalidInput
from tests.backtesting.reference import reference_backtest
from tests.factories import price_closes


def frame(closes: list[float], opens: list[float] | None = None) -> pd.DataFrame:
    """Bars on consecutive weekdays from Monday 2024-01-01."""
    dates = pd.bdate_range("2024-01-01", periods=len(closes)).date
    opens = opens if opens is not None else closes
    return pd.DataFrame({"date": dates, "open": opens, "close": closes})


# Worked by hand with fast=2, slow=3:
#   day      0   1   2   3   4     5   6     7     8   9
#   close   10  10  10  10  12    14  13    11     9  10
#   SMA2         10  10  10  11    13  13.5  12    10  9.5
#   SMA3             10  10  10.67 12  13    12.67 11  10
#   f - s             0   0  +     +   +     -     -   -
# Buy signal on day 4 (0 -> +), filled at day 5's open 13.5.
# Sell signal on day 7 (+ -> -), filled at day 8's open 10.
CLOSES = [10, 10, 10, 10, 12, 14, 13, 11, 9, 10]
OPENS = [10, 10, 10, 10, 11, 13.5, 14, 12, 10, 9.5]


def test_fills_at_the_next_open_with_whole_shares_and_cash_left_over():
    result = run_backtest(frame(CLOSES, OPENS), fast=2, slow=3, initial_investment=1000)

    (trade,) = result.trades
    assert (trade.entry_date, trade.entry_price) == (date(2024, 1, 8), 13.5)
    assert (trade.exit_date, trade.exit_price) == (date(2024, 1, 11), 10.0)
    assert trade.shares == 74  # floor(1000 / 13.5); 1.00 stays in cash
    assert trade.pnl == pytest.approx(74 * 10 - 74 * 13.5)
    assert not trade.closed_at_end
    # Equity = cash + shares * close: 1000 until day 4, then 1 + 74 * close.
    expected = [1000] * 5 + [1 + 74 * 14, 1 + 74 * 13, 1 + 74 * 11, 741, 741]
    assert result.equity.tolist() == pytest.approx(expected)
    m = result.metrics
    assert m.final_equity == pytest.approx(741)
    assert m.total_return_pct == pytest.approx(-25.9)
    assert m.buy_hold_return_pct == pytest.approx(0.0)
    assert m.max_drawdown_pct == pytest.approx((741 / 1037 - 1) * 100)
    assert m.max_drawdown_days == 4  # Mon 8 Jan peak, still under on Fri 12 Jan
    assert m.exposure_pct == pytest.approx(30.0)  # held through days 5, 6, 7
    assert m.trades == 1 and m.win_rate_pct == 0.0


def test_commission_is_paid_on_both_sides():
    result = run_backtest(
        frame(CLOSES, OPENS), fast=2, slow=3, initial_investment=1000, commission=0.01
    )

    (trade,) = result.trades
    assert trade.shares == 73  # floor(1000 / (13.5 * 1.01)) = floor(73.34)
    assert trade.entry_value == pytest.approx(73 * 13.5 * 1.01)
    assert trade.exit_value == pytest.approx(73 * 10 * 0.99)
    assert result.metrics.final_equity == pytest.approx(1000 - 73 * 13.635 + 722.7)


def test_a_signal_on_the_last_bar_is_not_filled():
    result = run_backtest(
        frame([10, 10, 10, 10, 12]), fast=2, slow=3, initial_investment=1000
    )
    assert result.trades == ()
    assert result.metrics.final_equity == 1000


def test_a_position_open_at_the_end_is_closed_at_the_last_close_and_counted():
    closes = [10, 10, 10, 10, 12, 14, 15]
    opens = [10, 10, 10, 10, 11, 13, 14.5]
    result = run_backtest(frame(closes, opens), fast=2, slow=3, initial_investment=1000)

    (trade,) = result.trades
    assert trade.closed_at_end
    assert (trade.exit_date, trade.exit_price) == (date(2024, 1, 9), 15.0)
    assert trade.shares == 76  # floor(1000 / 13)
    assert trade.bars_held == 2
    assert result.metrics.final_equity == pytest.approx(12 + 76 * 15)
    assert result.metrics.trades == 1
    assert result.metrics.exposure_pct == pytest.approx(2 / 7 * 100)


def test_no_cross_means_no_trade_no_return_no_drawdown():
    result = run_backtest(frame([10.0] * 30), fast=2, slow=5, initial_investment=5000)
    m = result.metrics
    assert (m.trades, m.total_return_pct, m.max_drawdown_pct, m.max_drawdown_days) == (
        0,
        0.0,
        0.0,
        0,
    )
    assert m.win_rate_pct is None and m.profit_factor is None
    assert m.notes["profit_factor"] == "no trades"
    assert m.sharpe is None and "never moved" in m.notes["sharpe"]
    json.dumps(m.as_dict(), allow_nan=False)


def test_too_little_cash_for_one_share_is_no_trade():
    result = run_backtest(frame(CLOSES, OPENS), fast=2, slow=3, initial_investment=10)
    assert result.trades == ()
    assert result.equity.tolist() == [10.0] * len(CLOSES)


def test_fewer_bars_than_the_slow_window_needs_is_a_clear_error():
    with pytest.raises(NotEnoughBars, match="22 daily bars are needed") as excinfo:
        run_backtest(frame([10.0] * 21), fast=5, slow=20, initial_investment=1000)
    assert (excinfo.value.needed, excinfo.value.available) == (22, 21)


@pytest.mark.parametrize(("fast", "slow"), [(1, 5), (5, 5), (6, 5), (50, 401)])
def test_the_engine_refuses_the_windows_the_endpoint_refuses(fast, slow):
    with pytest.raises(InvalidInput, match=r"2 <= fast < slow <= 400"):
        run_backtest(frame([10.0] * 500), fast=fast, slow=slow, initial_investment=1)


def test_decimal_prices_from_the_database_work():
    from decimal import Decimal

    bars = frame([Decimal(str(c)) for c in CLOSES], [Decimal(str(o)) for o in OPENS])
    result = run_backtest(bars, fast=2, slow=3, initial_investment=1000)
    assert result.trades[0].shares == 74


# --- agreement with the bar-by-bar reference ----------------------------------------


@st.composite
def markets(draw):
    fast = draw(st.integers(2, 6))
    slow = draw(st.integers(fast + 1, 12))
    n = draw(st.integers(slow + 2, 90))
    # Whole-cent moves with many zero steps make flat stretches and exactly equal
    # averages common, which is where crossover code goes wrong.
    steps = draw(
        st.lists(
            st.sampled_from([0, 0, 0, 0, 1, -1, 2, -2, 50, -50, 300, -300]),
            min_size=n,
            max_size=n,
        )
    )
    ticks = np.maximum(100, 10_000 + np.cumsum(steps) * 100)  # >= 0.01 a share
    closes = [t / 10_000 for t in ticks.tolist()]
    gaps = draw(st.lists(st.sampled_from([0, 0, 1, -1, 7, -7]), min_size=n, max_size=n))
    opens = [
        max(0.01, round(c + g / 100, 4)) for c, g in zip(closes, gaps, strict=True)
    ]
    initial = draw(st.sampled_from([1000.0, 10_000.0, 123.45, 5.0]))
    commission = draw(st.sampled_from([0.0, 0.001, 0.01, 0.05]))
    return opens, closes, fast, slow, initial, commission


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markets())
def test_the_engine_agrees_with_a_bar_by_bar_loop(market):
    opens, closes, fast, slow, initial, commission = market
    result = run_backtest(
        frame(closes, opens),
        fast=fast,
        slow=slow,
        initial_investment=initial,
        commission=commission,
    )
    trades, equity = reference_backtest(
        opens,
        closes,
        fast=fast,
        slow=slow,
        initial_investment=initial,
        commission=commission,
    )

    got = [(t.entry_index, t.exit_index, t.shares) for t in result.trades]
    assert got == [(t["entry"], t["exit"], t["shares"]) for t in trades]
    for ours, theirs in zip(result.trades, trades, strict=True):
        assert math.isclose(ours.pnl, theirs["pnl"], rel_tol=1e-9, abs_tol=1e-9)
    np.testing.assert_allclose(result.equity, equity, rtol=1e-9, atol=1e-9)
    assert result.metrics.trades == len(trades)


# --- parameter sweep -----------------------------------------------------------------


def test_a_sweep_gives_the_same_row_as_each_run_alone():
    closes = price_closes(400, volatility=0.02, seed=7, decimals=4)
    gaps = np.random.default_rng(8).normal(0, 0.003, 400)  # open vs that day's close
    opens = np.round(np.array(closes) * (1 + gaps), 4).tolist()
    bars = frame(closes, opens)
    pairs = parameter_grid(range(5, 30, 5), range(20, 120, 20))

    table = sweep(bars, pairs, initial_investment=10_000, commission=0.001)

    assert len(table) == len(pairs) == 23
    for row in table.to_dict("records"):
        alone = run_backtest(
            bars,
            fast=row["fast"],
            slow=row["slow"],
            initial_investment=10_000,
            commission=0.001,
        ).metrics.as_dict()
        for name, value in alone.items():
            assert row[name] == value, (row["fast"], row["slow"], name)


def test_a_sweep_reports_pairs_that_need_more_bars():
    table = sweep(frame([10.0] * 30), [(2, 5), (5, 40)], initial_investment=1000)
    assert pd.isna(table.loc[0, "error"])
    assert "42 daily bars are needed" in table.loc[1, "error"]


def test_parameter_grid_keeps_only_fast_below_slow():
    assert len(parameter_grid(range(5, 71, 5), range(20, 241, 20))) == 147
    assert parameter_grid([10, 30], [20]) == [(10, 20)]
