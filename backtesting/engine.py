"""SMA-crossover backtest: exact signals, next-open fills, whole shares; numpy only."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import pandas as pd

from backtesting.metrics import Metrics, compute_metrics
from backtesting.params import check_windows

# Prices are compared in integer ten-thousandths (the 4 decimals bars are stored
# with), so equal averages are equal and never one float rounding apart.
PRICE_SCALE = 10_000
# Below this, fast_sum * slow fits a float64 mantissa exactly and the fast path
# gives the same signs as the integer one.
_EXACT_FLOAT_LIMIT = 2**53


class NotEnoughBars(ValueError):
    """Fewer bars than the strategy needs to produce a single signal."""

    def __init__(self, needed: int, available: int) -> None:
        super().__init__(
            f"{needed} daily bars are needed (slow window + 2), {available} available."
        )
        self.needed = needed
        self.available = available


@dataclass(frozen=True)
class PriceArrays:
    """Bars as plain arrays, prepared once and shared by every run of a sweep."""

    dates: np.ndarray  # datetime64[D]
    opens: np.ndarray  # float64
    closes: np.ndarray  # float64
    close_ticks: npt.NDArray[np.int64]  # close * PRICE_SCALE
    tick_sums: npt.NDArray[np.int64]  # running sum of close_ticks, with a leading 0

    @property
    def size(self) -> int:
        return len(self.closes)


@dataclass(frozen=True)
class Trade:
    entry_index: int
    exit_index: int
    entry_date: date
    exit_date: date
    entry_price: float
    exit_price: float
    shares: int
    entry_value: float  # cash paid, commission included
    exit_value: float  # cash received, commission deducted
    pnl: float
    return_pct: float
    bars_held: int
    closed_at_end: bool


@dataclass(frozen=True)
class BacktestResult:
    fast: int
    slow: int
    initial_investment: float
    commission: float
    dates: np.ndarray
    equity: np.ndarray
    buy_hold_equity: np.ndarray
    trades: tuple[Trade, ...]
    metrics: Metrics


def prepare_bars(bars: pd.DataFrame) -> PriceArrays:
    """Arrays from a frame with date, open, close columns (Decimal or float), by date."""
    # pandas parses date objects about ten times faster than numpy does.
    dates = pd.to_datetime(bars["date"]).to_numpy(dtype="datetime64[D]")
    closes = bars["close"].to_numpy(dtype=np.float64)
    opens = bars["open"].to_numpy(dtype=np.float64)
    # Stored bars arrive sorted; sorting only when needed keeps a 20-year run fast.
    if len(dates) > 1 and not (dates[1:] > dates[:-1]).all():
        order = np.argsort(dates, kind="stable")
        dates, closes, opens = dates[order], closes[order], opens[order]
    close_ticks = np.rint(closes * PRICE_SCALE).astype(np.int64)
    tick_sums = np.concatenate(([0], np.cumsum(close_ticks)))
    return PriceArrays(dates, opens, closes, close_ticks, tick_sums)


def bars_needed(slow: int) -> int:
    """One cross needs both averages on two days, and its fill needs a day after."""
    return slow + 2


def _window_sums(prices: PriceArrays, window: int) -> np.ndarray:
    """Sum of the last `window` close ticks, for days window-1 .. n-1."""
    sums = prices.tick_sums
    return sums[window:] - sums[:-window]


def crossover_events(
    prices: PriceArrays, fast: int, slow: int
) -> tuple[np.ndarray, np.ndarray]:
    """(signal day indices, +1 buy / -1 sell) for the days whose fill is possible."""
    fast_sums = _window_sums(prices, fast)[slow - fast :]
    slow_sums = _window_sums(prices, slow)
    # fast_mean > slow_mean  <=>  fast_sum * slow > slow_sum * fast, exactly.
    largest = max(int(fast_sums.max(initial=0)), int(slow_sums.max(initial=0)))
    if largest * slow < _EXACT_FLOAT_LIMIT:
        left = fast_sums.astype(np.float64) * slow
        right = slow_sums.astype(np.float64) * fast
    else:
        left, right = fast_sums * slow, slow_sums * fast
    state = np.sign(left - right).astype(np.int8)  # day slow-1 onwards
    previous, current = state[:-1], state[1:]  # current is day slow onwards
    buy = (current > 0) & (previous <= 0)
    sell = (current < 0) & (previous >= 0)
    # The last bar's signal has no next open to fill at.
    buy, sell = buy[:-1], sell[:-1]
    days = np.flatnonzero(buy | sell)
    kinds = np.where(buy[days], 1, -1).astype(np.int8)
    return days + slow, kinds


def simulate(
    prices: PriceArrays,
    signal_days: np.ndarray,
    signal_kinds: np.ndarray,
    initial_investment: float,
    commission: float,
) -> tuple[list[Trade], np.ndarray]:
    """Fill signals at the next open, all cash in, whole shares; equity per day.

    The loop runs over signals (a few per year), never over bars: cash after each
    trade decides the next trade's share count, so the trades are sequential.
    """
    n = prices.size
    opens, closes, dates = prices.opens, prices.closes, prices.dates
    buy_cost, sell_keep = 1.0 + commission, 1.0 - commission
    cash = float(initial_investment)
    cash_steps = np.zeros(n)
    cash_steps[0] = cash
    share_steps = np.zeros(n, dtype=np.int64)
    trades: list[Trade] = []
    shares = entry = 0
    entry_value = 0.0

    def sell(day: int, price: float, *, at_end: bool) -> float:
        """Sell every share held at `price` on `day`; returns the cash received."""
        exit_value = shares * price * sell_keep
        cash_steps[day] += exit_value
        share_steps[day] -= shares
        trades.append(
            _trade(
                dates,
                entry,
                day,
                opens[entry],
                price,
                shares,
                entry_value,
                exit_value,
                at_end,
            )
        )
        return exit_value

    for day, kind in zip(signal_days.tolist(), signal_kinds.tolist(), strict=True):
        fill = day + 1
        if kind > 0 and shares == 0:
            price = opens[fill]
            affordable = math.floor(cash / (price * buy_cost))
            if affordable <= 0:
                continue
            shares, entry = affordable, fill
            entry_value = shares * price * buy_cost
            cash_steps[fill] -= entry_value
            share_steps[fill] += shares
            cash -= entry_value
        elif kind < 0 and shares > 0:
            cash += sell(fill, opens[fill], at_end=False)
            shares = 0
    if shares > 0:
        # Still open on the last bar: sold at its close, so the curve ends in cash.
        sell(n - 1, closes[n - 1], at_end=True)
    equity = np.cumsum(cash_steps) + np.cumsum(share_steps) * closes
    return trades, equity


def _trade(
    dates: np.ndarray,
    entry: int,
    exit_: int,
    entry_price: float,
    exit_price: float,
    shares: int,
    entry_value: float,
    exit_value: float,
    at_end: bool,
) -> Trade:
    pnl = exit_value - entry_value
    return Trade(
        entry_index=entry,
        exit_index=exit_,
        entry_date=dates[entry].item(),
        exit_date=dates[exit_].item(),
        entry_price=float(entry_price),
        exit_price=float(exit_price),
        shares=int(shares),
        entry_value=float(entry_value),
        exit_value=float(exit_value),
        pnl=float(pnl),
        return_pct=float(pnl / entry_value * 100.0),
        # Bought at the open of entry; sold at the open of exit_ (not held that
        # day), or at the last close (held that day too).
        bars_held=exit_ - entry + (1 if at_end else 0),
        closed_at_end=at_end,
    )


def run_prepared(
    prices: PriceArrays,
    *,
    fast: int,
    slow: int,
    initial_investment: float,
    commission: float = 0.0,
) -> BacktestResult:
    check_windows(fast, slow)
    if prices.size < bars_needed(slow):
        raise NotEnoughBars(bars_needed(slow), prices.size)
    days, kinds = crossover_events(prices, fast, slow)
    trades, equity = simulate(prices, days, kinds, initial_investment, commission)
    buy_hold = initial_investment * prices.closes / prices.closes[0]
    metrics = compute_metrics(
        dates=prices.dates,
        equity=equity,
        closes=prices.closes,
        initial_investment=initial_investment,
        trade_pnls=np.array([t.pnl for t in trades]),
        trade_returns_pct=np.array([t.return_pct for t in trades]),
        bars_in_market=sum(t.bars_held for t in trades),
    )
    return BacktestResult(
        fast=fast,
        slow=slow,
        initial_investment=initial_investment,
        commission=commission,
        dates=prices.dates,
        equity=equity,
        buy_hold_equity=buy_hold,
        trades=tuple(trades),
        metrics=metrics,
    )


def run_backtest(
    bars: pd.DataFrame,
    *,
    fast: int = 50,
    slow: int = 200,
    initial_investment: float,
    commission: float = 0.0,
) -> BacktestResult:
    """Backtest the SMA crossover on daily bars (date, open, close columns at least)."""
    return run_prepared(
        prepare_bars(bars),
        fast=fast,
        slow=slow,
        initial_investment=float(initial_investment),
        commission=float(commission),
    )


def parameter_grid(fasts: Iterable[int], slows: Iterable[int]) -> list[tuple[int, int]]:
    """Every (fast, slow) pair with fast < slow."""
    slow_list = list(slows)
    return [(f, s) for f in fasts for s in slow_list if f < s]


def sweep(
    bars: pd.DataFrame,
    pairs: Sequence[tuple[int, int]],
    *,
    initial_investment: float,
    commission: float = 0.0,
) -> pd.DataFrame:
    """One metrics row per (fast, slow) pair, each as run_backtest would give it.

    Pairs whose slow window needs more bars than there are get a row with the
    reason in `error` and no metrics.
    """
    prices = prepare_bars(bars)
    rows = []
    for fast, slow in pairs:
        try:
            result = run_prepared(
                prices,
                fast=fast,
                slow=slow,
                initial_investment=float(initial_investment),
                commission=float(commission),
            )
        except NotEnoughBars as exc:
            rows.append({"fast": fast, "slow": slow, "error": str(exc)})
            continue
        rows.append(
            {"fast": fast, "slow": slow, "error": None, **result.metrics.as_dict()}
        )
    return pd.DataFrame(rows)
