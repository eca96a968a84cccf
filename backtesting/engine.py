"""SMA-crossover backtest: exact signals, next-open fills, whole shares; numpy in,
the loops compiled (backtesting.kernels)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date

import numpy as np
import numpy.typing as npt
import pandas as pd

from backtesting import kernels
from backtesting.metrics import Metrics, assemble_metrics
from backtesting.params import check_windows

# Prices are compared in integer ten-thousandths (the 4 decimals bars are stored
# with), so equal averages are equal and never one float rounding apart.
PRICE_SCALE = 10_000


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


def crossover_events(
    prices: PriceArrays, fast: int, slow: int
) -> tuple[np.ndarray, np.ndarray]:
    """(signal day indices, +1 buy / -1 sell) for the days whose fill is possible.

    fast_mean > slow_mean is decided in integers (fast_sum * slow > slow_sum *
    fast on the close ticks), so equal averages are equal; the last bar's signal
    has no next open to fill at and is left out.
    """
    return kernels.crossovers(prices.tick_sums, fast, slow)


def fill_signals(
    prices: PriceArrays,
    signal_days: np.ndarray,
    signal_kinds: np.ndarray,
    initial_investment: float,
    commission: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(daily equity, trade rows) of kernels.fill on these bars (columns:
    kernels.TRADE_COLUMNS)."""
    return kernels.fill(
        prices.opens,
        prices.closes,
        np.ascontiguousarray(signal_days, dtype=np.int64),
        np.ascontiguousarray(signal_kinds, dtype=np.int8),
        shift=0,
        initial_investment=float(initial_investment),
        commission=float(commission),
    )


def trade_figures(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(P&L, return %, bars in the market) of kernels.fill's trade rows."""
    held = rows[:, 1] - rows[:, 0] + rows[:, 5]
    return rows[:, 8], rows[:, 9], int(held.sum())


_TRADE_FIELDS = tuple(item.name for item in fields(Trade))


def _trades(prices: PriceArrays, rows: np.ndarray) -> list[Trade]:
    """Trade objects of kernels.fill's rows.

    Built by filling each instance's __dict__: a frozen dataclass's __init__ sets
    its 13 fields one object.__setattr__ at a time, which made the trade list the
    largest part of a run. The objects are the same (fields, equality, repr).
    """
    if not len(rows):
        return []
    days = prices.dates[rows[:, :2].astype(np.int64)].tolist()
    trades = []
    for (entry_date, exit_date), values in zip(days, rows.tolist(), strict=True):
        entry, exit_ = int(values[0]), int(values[1])
        at_end = values[5] > 0
        trade = object.__new__(Trade)
        trade.__dict__.update(
            zip(
                _TRADE_FIELDS,
                (
                    entry,
                    exit_,
                    entry_date,
                    exit_date,
                    values[6],  # entry price
                    values[7],  # exit price
                    int(values[2]),  # shares
                    values[3],  # entry value
                    values[4],  # exit value
                    values[8],  # P&L
                    values[9],  # return %
                    # Bought at the open of entry; sold at the open of exit (not
                    # held that day), or at the last close (held that day too).
                    exit_ - entry + (1 if at_end else 0),
                    at_end,
                ),
                strict=True,
            )
        )
        trades.append(trade)
    return trades


def simulate(
    prices: PriceArrays,
    signal_days: np.ndarray,
    signal_kinds: np.ndarray,
    initial_investment: float,
    commission: float,
) -> tuple[list[Trade], np.ndarray]:
    """Fill signals at the next open, all cash in, whole shares; equity per day.

    Cash after each trade decides the next trade's share count, so the trades are
    sequential: kernels.fill loops over the signals (a few per year) and then once
    over the bars for the equity.
    """
    equity, rows = fill_signals(
        prices, signal_days, signal_kinds, initial_investment, commission
    )
    return _trades(prices, rows), equity


def run_arrays(
    prices: PriceArrays,
    fast: int,
    slow: int,
    initial_investment: float,
    commission: float,
) -> tuple[np.ndarray, np.ndarray, Metrics]:
    """(equity, trade rows, metrics) of one run as run_prepared gives it, without
    building Trade objects (what a sweep needs of each pair)."""
    check_windows(fast, slow)
    if prices.size < bars_needed(slow):
        raise NotEnoughBars(bars_needed(slow), prices.size)
    days = prices.dates.view(np.int64)
    equity, rows, curve, trades, _, _, held = kernels.run(
        prices.opens,
        prices.closes,
        prices.tick_sums,
        days,
        fast=fast,
        slow=slow,
        initial_investment=float(initial_investment),
        commission=float(commission),
    )
    metrics = assemble_metrics(
        span_days=int(days[-1] - days[0]),
        bars=prices.size,
        final=float(equity[-1]),
        first_close=float(prices.closes[0]),
        last_close=float(prices.closes[-1]),
        initial_investment=initial_investment,
        trade_count=len(rows),
        trade_figures=trades,
        curve_figures=curve,
        bars_in_market=held,
    )
    return equity, rows, metrics


def run_prepared(
    prices: PriceArrays,
    *,
    fast: int,
    slow: int,
    initial_investment: float,
    commission: float = 0.0,
) -> BacktestResult:
    equity, rows, metrics = run_arrays(
        prices, fast, slow, initial_investment, commission
    )
    buy_hold = initial_investment * prices.closes / prices.closes[0]
    return BacktestResult(
        fast=fast,
        slow=slow,
        initial_investment=initial_investment,
        commission=commission,
        dates=prices.dates,
        equity=equity,
        buy_hold_equity=buy_hold,
        trades=tuple(_trades(prices, rows)),
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
            metrics = run_arrays(
                prices, fast, slow, float(initial_investment), float(commission)
            )[2]
        except NotEnoughBars as exc:
            rows.append({"fast": fast, "slow": slow, "error": str(exc)})
            continue
        rows.append({"fast": fast, "slow": slow, "error": None, **metrics.as_dict()})
    return pd.DataFrame(rows)
