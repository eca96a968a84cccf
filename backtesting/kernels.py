"""The engine's compiled loops (numba): signals, fills, equity and the array
reductions of the metrics; no Django.

Each kernel does the arithmetic of the numpy code it replaced in the same order,
so every figure is bit for bit what that code gave: sums are numpy's pairwise
summation (`_pairwise`), a cumulative sum runs left to right as np.cumsum does,
and nothing is compiled with fastmath (which would reorder them). The kernels
compile on their first call in a process (about a second each, see
docs/backtesting.md, Engine) or load from the cache folder below; the typed
wrappers at the end are what the engine calls.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt


def _cache_folder() -> str | None:
    """Where compiled kernels are kept between processes: NUMBA_CACHE_DIR if set,
    else a folder in the user's cache (never the checkout, which tests must leave
    as found); None when it cannot be written (then each process compiles)."""
    configured = os.environ.get("NUMBA_CACHE_DIR")
    if configured:
        return configured
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    folder = Path(base) / "stockdesk-numba"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError:
        return None
    return str(folder)


_FOLDER = _cache_folder()
CACHE = _FOLDER is not None
if _FOLDER is not None:
    # numba reads its cache folder once, when it is first imported.
    os.environ["NUMBA_CACHE_DIR"] = _FOLDER

from numba import njit  # noqa: E402

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

# numpy's pairwise summation adds blocks of this many values with 8 accumulators.
_PAIRWISE_BLOCK = 128


@njit(cache=CACHE, nogil=True)
def _block(values: Any, lo: int, count: int) -> float:
    """numpy's sum of up to _PAIRWISE_BLOCK values: 8 running sums, then the rest."""
    if count < 8:
        total = 0.0
        for i in range(lo, lo + count):
            total += values[i]
        return total
    r0, r1, r2, r3 = values[lo], values[lo + 1], values[lo + 2], values[lo + 3]
    r4, r5, r6, r7 = values[lo + 4], values[lo + 5], values[lo + 6], values[lo + 7]
    i = 8
    whole = count - count % 8
    while i < whole:
        at = lo + i
        r0 += values[at]
        r1 += values[at + 1]
        r2 += values[at + 2]
        r3 += values[at + 3]
        r4 += values[at + 4]
        r5 += values[at + 5]
        r6 += values[at + 6]
        r7 += values[at + 7]
        i += 8
    total = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < count:
        total += values[lo + i]
        i += 1
    return float(total)


@njit(cache=CACHE, nogil=True)
def _pairwise(values: Any, lo: int, count: int) -> float:
    """Sum of values[lo:lo+count] exactly as numpy's add.reduce adds a float64 run:
    halves (cut at a multiple of 8) summed apart down to blocks, then added.

    numpy recurses; this walks the same tree with a stack of frames, since a
    recursive kernel takes numba several times longer to compile.
    """
    if count <= _PAIRWISE_BLOCK:
        return _block(values, lo, count)
    starts = np.empty(64, dtype=np.int64)
    sizes = np.empty(64, dtype=np.int64)
    waiting_right = np.zeros(64, dtype=np.bool_)
    lefts = np.zeros(64)
    top = 0
    starts[0], sizes[0] = lo, count
    while True:
        if sizes[top] > _PAIRWISE_BLOCK:  # a new frame: sum its left half first
            half = sizes[top] // 2
            half -= half % 8
            waiting_right[top] = False
            starts[top + 1], sizes[top + 1] = starts[top], half
            top += 1
            continue
        value = _block(values, starts[top], sizes[top])
        top -= 1
        while top >= 0 and waiting_right[top]:
            value = lefts[top] + value
            top -= 1
        if top < 0:
            return value
        lefts[top] = value  # its left half is done: now the right half
        waiting_right[top] = True
        half = sizes[top] // 2
        half -= half % 8
        starts[top + 1], sizes[top + 1] = starts[top] + half, sizes[top] - half
        top += 1


@njit(cache=CACHE, nogil=True)
def _sum(values: Any) -> float:
    return 0.0 + _pairwise(values, 0, values.size)


@njit(cache=CACHE, nogil=True, inline="always")
def _state(tick_sums: Any, day: int, fast: int, slow: int) -> int:
    """+1, 0 or -1 as the fast average on `day` is above, equal to or below the slow.

    fast_mean > slow_mean  <=>  fast_sum * slow > slow_sum * fast, in integers
    (wrapping as numpy's int64 arithmetic does, far beyond any price).
    """
    end = tick_sums[day + 1]
    difference = (end - tick_sums[day + 1 - fast]) * slow - (
        end - tick_sums[day + 1 - slow]
    ) * fast
    if difference > 0:
        return 1
    return -1 if difference < 0 else 0


@njit(cache=CACHE, nogil=True)
def _crossovers(tick_sums: Any, fast: int, slow: int) -> Any:
    """(signal days, +1/-1) of the fast/slow cross, as engine.crossover_events."""
    n = tick_sums.size - 1
    days = np.empty(max(n - slow, 0), dtype=np.int64)
    kinds = np.empty(max(n - slow, 0), dtype=np.int8)
    if n <= slow:
        return days, kinds
    found = 0
    previous = _state(tick_sums, slow - 1, fast, slow)
    for day in range(slow, n - 1):  # the last bar's signal has no next open
        state = _state(tick_sums, day, fast, slow)
        if state > 0 and previous <= 0:
            days[found] = day
            kinds[found] = 1
            found += 1
        elif state < 0 and previous >= 0:
            days[found] = day
            kinds[found] = -1
            found += 1
        previous = state
    return days[:found], kinds[:found]


# A trade row's columns: entry index, exit index, shares, entry value, exit value,
# 1.0 if closed at the end (else 0.0), entry price, exit price, P&L, return %.
TRADE_COLUMNS = 10


@njit(cache=CACHE, nogil=True)
def _trade_row(
    trades: Any,
    row: int,
    entry: int,
    exit_: int,
    shares: int,
    entry_value: float,
    exit_value: float,
) -> None:
    pnl = exit_value - entry_value
    trades[row, 0], trades[row, 1], trades[row, 2] = entry, exit_, shares
    trades[row, 3], trades[row, 4], trades[row, 5] = entry_value, exit_value, 0.0
    trades[row, 8], trades[row, 9] = pnl, pnl / entry_value * 100.0


@njit(cache=CACHE, nogil=True)
def _fill(
    opens: Any,
    closes: Any,
    days: Any,
    kinds: Any,
    shift: int,
    cash0: float,
    commission: float,
    equity: Any,
    trades: Any,
) -> int:
    """Fill the signals (day indices minus `shift`) at the next open, all cash in,
    whole shares; writes the daily equity and one row per trade (TRADE_COLUMNS)
    and returns the count."""
    n = closes.size
    buy_cost, sell_keep = 1.0 + commission, 1.0 - commission
    cash = cash0
    cash_steps = np.zeros(n)
    cash_steps[0] = cash
    share_steps = np.zeros(n, dtype=np.int64)
    shares = 0
    entry = 0
    entry_value = 0.0
    count = 0
    for k in range(days.size):
        fill = days[k] - shift + 1
        if kinds[k] > 0 and shares == 0:
            price = opens[fill]
            affordable = math.floor(cash / (price * buy_cost))
            if affordable <= 0:
                continue
            shares, entry = affordable, fill
            entry_value = shares * price * buy_cost
            cash_steps[fill] -= entry_value
            share_steps[fill] += shares
            cash -= entry_value
        elif kinds[k] < 0 and shares > 0:
            exit_value = shares * opens[fill] * sell_keep
            cash_steps[fill] += exit_value
            share_steps[fill] -= shares
            _trade_row(trades, count, entry, fill, shares, entry_value, exit_value)
            trades[count, 6], trades[count, 7] = opens[entry], opens[fill]
            count += 1
            cash += exit_value
            shares = 0
    if shares > 0:
        # Still open on the last bar: sold at its close, so the curve ends in cash.
        exit_value = shares * closes[n - 1] * sell_keep
        cash_steps[n - 1] += exit_value
        share_steps[n - 1] -= shares
        _trade_row(trades, count, entry, n - 1, shares, entry_value, exit_value)
        trades[count, 5] = 1.0
        trades[count, 6], trades[count, 7] = opens[entry], closes[n - 1]
        count += 1
    held_cash = 0.0
    held_shares = 0
    for day in range(n):
        held_cash += cash_steps[day]
        held_shares += share_steps[day]
        equity[day] = held_cash + held_shares * closes[day]
    return count


@njit(cache=CACHE, nogil=True)
def _return_spread(equity: Any, returns: Any) -> Any:
    """Daily returns into `returns`; (mean, sample standard deviation or 0 below
    two returns), as np.mean and np.std(ddof=1) give them."""
    size = equity.size - 1
    for day in range(size):
        before = equity[day]
        returns[day] = equity[day + 1] / before - 1.0 if before > 0 else 0.0
    if size < 1:
        return math.nan, 0.0
    mean = _pairwise(returns, 0, size) / size
    if size < 2:
        return mean, 0.0
    squares = np.empty(size)
    for day in range(size):
        centred = returns[day] - mean
        squares[day] = centred * centred
    return mean, math.sqrt(_pairwise(squares, 0, size) / (size - 1))


@njit(cache=CACHE, nogil=True)
def _curve_reductions(day_numbers: Any, equity: Any) -> Any:
    """[mean daily return, its spread, mean squared downside, deepest drawdown
    (fraction), longest time under water (days)] of an equity curve."""
    n = equity.size
    out = np.zeros(5)
    returns = np.empty(max(n - 1, 0))
    mean, spread = _return_spread(equity, returns)
    out[0], out[1] = mean, spread
    if n > 1:
        downside = np.empty(n - 1)
        for day in range(n - 1):
            low = min(returns[day], 0.0)
            downside[day] = low * low
        out[2] = _pairwise(downside, 0, n - 1) / (n - 1)
    peak = -math.inf
    deepest = 0.0
    longest = 0
    start = -1  # first day under water, or -1 when at the peak
    for day in range(n):
        value = equity[day]
        peak = max(peak, value)
        fall = value / peak - 1.0 if peak > 0 else 0.0
        if day == 0 or fall < deepest:
            deepest = fall
        if value < peak:
            if start < 0:
                start = day
        elif start >= 0:
            longest = max(longest, day_numbers[day] - day_numbers[start - 1])
            start = -1
    if start >= 0:
        longest = max(longest, day_numbers[n - 1] - day_numbers[start - 1])
    out[3], out[4] = deepest, longest
    return out


@njit(cache=CACHE, nogil=True)
def _trade_reductions(pnls: Any, returns_pct: Any) -> Any:
    """[winners, best %, worst %, mean %, gross profit, gross loss] of the trades."""
    count = pnls.size
    out = np.zeros(6)
    if count == 0:
        return out
    gains = np.empty(count)
    losses = np.empty(count)
    winners = losers = 0
    best, worst = returns_pct[0], returns_pct[0]
    for k in range(count):
        best = max(best, returns_pct[k])
        worst = min(worst, returns_pct[k])
        if pnls[k] > 0:
            gains[winners] = pnls[k]
            winners += 1
        elif pnls[k] < 0:
            losses[losers] = pnls[k]
            losers += 1
    out[0], out[1], out[2] = winners, best, worst
    out[3] = _pairwise(returns_pct, 0, count) / count
    out[4] = _pairwise(gains, 0, winners)
    out[5] = -_pairwise(losses, 0, losers)
    return out


@njit(cache=CACHE, nogil=True)
def _window_figures(
    opens: Any,
    closes: Any,
    first: int,
    last: int,
    days: Any,
    kinds: Any,
    offsets: Any,
    slows: Any,
    cash0: float,
    commission: float,
) -> Any:
    """[Sharpe (NaN when flat), total return %] of each pair's fresh run on bars
    first..last; pair p's signals on the whole series are days[offsets[p]:offsets[p+1]]."""
    pairs = slows.size
    out = np.full((pairs, 2), math.nan)
    window_opens = opens[first : last + 1]
    window_closes = closes[first : last + 1]
    size = last - first + 1
    equity = np.empty(size)
    returns = np.empty(max(size - 1, 0))
    trades = np.empty((size // 2 + 1, TRADE_COLUMNS))
    scale = math.sqrt(252.0)
    for pair in range(pairs):
        slow = slows[pair]
        if size < slow + 2:
            continue
        mine = days[offsets[pair] : offsets[pair + 1]]
        low = np.searchsorted(mine, first + slow)
        high = np.searchsorted(mine, last)
        _fill(
            window_opens,
            window_closes,
            mine[low:high],
            kinds[offsets[pair] + low : offsets[pair] + high],
            first,
            cash0,
            commission,
            equity,
            trades,
        )
        mean, spread = _return_spread(equity, returns)
        if spread > 0:
            out[pair, 0] = mean / spread * scale
        out[pair, 1] = (equity[size - 1] / cash0 - 1.0) * 100.0
    return out


@njit(cache=CACHE, nogil=True)
def _run(
    opens: Any,
    closes: Any,
    tick_sums: Any,
    day_numbers: Any,
    fast: int,
    slow: int,
    cash0: float,
    commission: float,
) -> Any:
    """One whole run in one call: (equity, trade rows, the curve's reductions, the
    trades' reductions, the trades' P&L, their return %, bars in the market)."""
    days, kinds = _crossovers(tick_sums, fast, slow)
    equity = np.empty(closes.size)
    rows = np.empty((days.size // 2 + 1, TRADE_COLUMNS))
    count = _fill(opens, closes, days, kinds, 0, cash0, commission, equity, rows)
    rows = rows[:count]
    pnls = np.empty(count)
    returns = np.empty(count)
    held = 0
    for k in range(count):
        pnls[k], returns[k] = rows[k, 8], rows[k, 9]
        held += int(rows[k, 1]) - int(rows[k, 0]) + int(rows[k, 5])
    curve = _curve_reductions(day_numbers, equity)
    trades = _trade_reductions(pnls, returns)
    return equity, rows, curve, trades, pnls, returns, held


# --- typed entry points ---------------------------------------------------------------


def crossovers(
    tick_sums: Ints, fast: int, slow: int
) -> tuple[Ints, npt.NDArray[np.int8]]:
    days, kinds = _crossovers(tick_sums, fast, slow)
    return days, kinds


def fill(
    opens: Floats,
    closes: Floats,
    days: Ints,
    kinds: npt.NDArray[np.int8],
    *,
    shift: int,
    initial_investment: float,
    commission: float,
) -> tuple[Floats, Floats]:
    """(daily equity, one row of TRADE_COLUMNS per trade)."""
    equity = np.empty(closes.size)
    trades = np.empty((days.size // 2 + 1, TRADE_COLUMNS))
    count = _fill(
        opens,
        closes,
        days,
        kinds,
        shift,
        initial_investment,
        commission,
        equity,
        trades,
    )
    return equity, trades[:count]


def run(
    opens: Floats,
    closes: Floats,
    tick_sums: Ints,
    day_numbers: Ints,
    *,
    fast: int,
    slow: int,
    initial_investment: float,
    commission: float,
) -> tuple[Floats, Floats, list[float], list[float], Floats, Floats, int]:
    """(equity, trade rows as `fill` gives them, curve_reductions,
    trade_reductions, each trade's P&L, its return %, bars in the market)."""
    equity, rows, curve, trades, pnls, returns, held = _run(
        opens,
        closes,
        tick_sums,
        day_numbers,
        fast,
        slow,
        initial_investment,
        commission,
    )
    return equity, rows, curve.tolist(), trades.tolist(), pnls, returns, int(held)


def curve_reductions(day_numbers: Ints, equity: Floats) -> list[float]:
    """[mean daily return, its spread, mean squared downside, deepest drawdown,
    longest days under water]."""
    values: list[float] = _curve_reductions(day_numbers, equity).tolist()
    return values


def trade_reductions(pnls: Floats, returns_pct: Floats) -> list[float]:
    """[winners, best %, worst %, mean %, gross profit, gross loss]."""
    values: list[float] = _trade_reductions(pnls, returns_pct).tolist()
    return values


def window_figures(
    opens: Floats,
    closes: Floats,
    *,
    first: int,
    last: int,
    days: Ints,
    kinds: npt.NDArray[np.int8],
    offsets: Ints,
    slows: Ints,
    initial_investment: float,
    commission: float,
) -> Floats:
    figures: Floats = _window_figures(
        opens,
        closes,
        first,
        last,
        days,
        kinds,
        offsets,
        slows,
        initial_investment,
        commission,
    )
    return figures
