"""A strategy's equity curve against a benchmark's closes: return, excess return,
beta, correlation, information ratio and tracking error; numpy only, JSON-safe output.

Both curves are read on their common dates only; each figure is defined in
docs/backtesting.md (Benchmark).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from backtesting.metrics import TRADING_DAYS_PER_YEAR, daily_returns

FIGURES = (
    "return_pct",
    "strategy_return_pct",
    "excess_return_pct",
    "beta",
    "correlation",
    "information_ratio",
    "tracking_error_pct",
)


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def benchmark_stats(
    dates: np.ndarray,
    equity: np.ndarray,
    bench_dates: np.ndarray,
    bench_closes: np.ndarray,
    initial_investment: float,
    *,
    with_equity: bool = True,
) -> dict[str, Any]:
    """The strategy (dates, equity) against the benchmark (bench_dates, bench_closes).

    None for a figure that does not exist, and `notes` says why. `equity` is the
    benchmark bought with initial_investment on the first common date; left empty
    without with_equity (writing its dates is most of the time taken here).
    """
    dates = np.asarray(dates, dtype="datetime64[D]")
    bench_dates = np.asarray(bench_dates, dtype="datetime64[D]")
    if len(dates) == len(bench_dates) and np.array_equal(dates, bench_dates):
        # The usual case, one exchange's sessions: nothing to match (intersect1d sorts).
        common = dates
        mine = theirs = np.arange(len(dates))
    else:
        common, mine, theirs = np.intersect1d(
            dates, bench_dates, assume_unique=True, return_indices=True
        )
    stats: dict[str, Any] = dict.fromkeys(FIGURES)
    stats.update(
        common_days=len(common),
        start=None,
        end=None,
        equity=[],
        notes={},
    )
    notes: dict[str, str] = stats["notes"]
    if len(common) < 2:
        for name in FIGURES:
            notes[name] = "fewer than two common dates"
        return stats
    strategy = np.asarray(equity, dtype=np.float64)[mine]
    closes = np.asarray(bench_closes, dtype=np.float64)[theirs]
    stats["start"] = str(common[0])
    stats["end"] = str(common[-1])
    if with_equity:
        rebased = closes / closes[0] * initial_investment
        days: list[str] = np.datetime_as_string(common, unit="D").tolist()
        stats["equity"] = [
            list(pair) for pair in zip(days, np.round(rebased, 2).tolist(), strict=True)
        ]
    bench_return = closes[-1] / closes[0] - 1.0
    own_return = strategy[-1] / strategy[0] - 1.0 if strategy[0] > 0 else math.nan
    stats["return_pct"] = _finite(bench_return * 100.0)
    stats["strategy_return_pct"] = _finite(own_return * 100.0)
    stats["excess_return_pct"] = _finite((own_return - bench_return) * 100.0)

    if len(common) < 3:
        for name in ("beta", "correlation", "information_ratio", "tracking_error_pct"):
            notes[name] = "fewer than two common daily returns"
        return stats
    ours, benchmark = daily_returns(strategy), daily_returns(closes)
    scale = math.sqrt(TRADING_DAYS_PER_YEAR)
    # Sums of squares and of products about the means, as np.var, np.cov and
    # np.corrcoef define them (ddof 1), without their general-purpose set-up.
    own_mean, bench_mean = float(ours.mean()), float(benchmark.mean())
    own_dev, bench_dev = ours - own_mean, benchmark - bench_mean
    own_squares = float(own_dev @ own_dev)
    bench_squares = float(bench_dev @ bench_dev)
    products = float(own_dev @ bench_dev)
    if bench_squares > 0:
        stats["beta"] = _finite(products / bench_squares)
    else:
        notes["beta"] = "the benchmark never moved"
    if bench_squares > 0 and own_squares > 0:
        ratio = products / math.sqrt(own_squares * bench_squares)
        stats["correlation"] = _finite(min(max(ratio, -1.0), 1.0))
    else:
        notes["correlation"] = "one of the curves never moved"
    # The active return's deviations from its mean are the difference of the two.
    active_dev = own_dev - bench_dev
    spread = math.sqrt(float(active_dev @ active_dev) / (len(ours) - 1))
    stats["tracking_error_pct"] = _finite(spread * scale * 100.0)
    if spread > 0:
        stats["information_ratio"] = _finite((own_mean - bench_mean) / spread * scale)
    else:
        notes["information_ratio"] = "the strategy moved exactly like the benchmark"
    return stats
