"""Performance metrics of an equity curve and its trades; JSON-safe output.

The array reductions run compiled (backtesting.kernels); drawdown, max_drawdown_days
and daily_returns stay numpy for the tearsheet and the benchmark.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import numpy as np

from backtesting import kernels

TRADING_DAYS_PER_YEAR = 252
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class Metrics:
    """Every figure of DESIGN §4. None where a figure does not exist; `notes` says why."""

    final_equity: float
    total_return_pct: float
    buy_hold_return_pct: float
    cagr_pct: float | None
    max_drawdown_pct: float  # 0 or negative: the largest fall from a running peak
    max_drawdown_days: int  # calendar days from that kind of peak to recovery (or end)
    trades: int
    win_rate_pct: float | None
    best_trade_pct: float | None
    worst_trade_pct: float | None
    avg_trade_pct: float | None
    profit_factor: float | None
    exposure_pct: float
    volatility_pct: float | None
    sharpe: float | None
    sortino: float | None
    notes: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """The figures by name (as dataclasses.asdict, several times faster: a
        sweep builds one per pair and window)."""
        figures = {name: getattr(self, name) for name in _FIELDS}
        figures["notes"] = dict(self.notes)
        return figures


_FIELDS = tuple(item.name for item in fields(Metrics))


def drawdown(equity: np.ndarray) -> np.ndarray:
    """Fall from the running peak at each day, as a fraction (0 or negative)."""
    peaks = np.maximum.accumulate(equity)
    return np.where(peaks > 0, equity / peaks - 1.0, 0.0)


def max_drawdown_days(dates: np.ndarray, equity: np.ndarray) -> int:
    """Longest time under water: from a peak to the day equity is back at it.

    A drawdown still open at the end counts up to the last day.
    """
    under = equity < np.maximum.accumulate(equity)
    if not under.any():
        return 0
    edges = np.diff(np.concatenate(([False], under, [False])).astype(np.int8))
    starts = np.flatnonzero(edges == 1)  # first day under water
    ends = np.flatnonzero(edges == -1)  # first day back at the peak (or n)
    last = len(equity) - 1
    peaks = starts - 1  # day 0 is never under water, so this is >= 0
    ends = np.minimum(ends, last)
    spans = (dates[ends] - dates[peaks]).astype("timedelta64[D]").astype(np.int64)
    return int(spans.max())


def daily_returns(equity: np.ndarray) -> np.ndarray:
    """Each day's return of an equity curve (0 after a day at 0): one definition for
    the metrics, the tearsheet, the benchmark and the sweep's test."""
    previous = equity[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        returns = np.where(previous > 0, equity[1:] / previous - 1.0, 0.0)
    return returns


def compute_metrics(
    *,
    dates: np.ndarray,
    equity: np.ndarray,
    closes: np.ndarray,
    initial_investment: float,
    trade_pnls: np.ndarray,
    trade_returns_pct: np.ndarray,
    bars_in_market: int,
) -> Metrics:
    days = np.ascontiguousarray(dates, dtype="datetime64[D]").view(np.int64)
    curve = np.ascontiguousarray(equity, dtype=np.float64)
    pnls = np.ascontiguousarray(trade_pnls, dtype=np.float64)
    trade_figures = (
        kernels.trade_reductions(
            pnls, np.ascontiguousarray(trade_returns_pct, dtype=np.float64)
        )
        if len(pnls)
        else []
    )
    return assemble_metrics(
        span_days=int(days[-1] - days[0]),
        bars=len(curve),
        final=float(curve[-1]),
        first_close=float(closes[0]),
        last_close=float(closes[-1]),
        initial_investment=initial_investment,
        trade_count=len(pnls),
        trade_figures=trade_figures,
        curve_figures=kernels.curve_reductions(days, curve),
        bars_in_market=bars_in_market,
    )


def assemble_metrics(
    *,
    span_days: int,
    bars: int,
    final: float,
    first_close: float,
    last_close: float,
    initial_investment: float,
    trade_count: int,
    trade_figures: list[float],
    curve_figures: list[float],
    bars_in_market: int,
) -> Metrics:
    """Metrics from kernels.curve_reductions and kernels.trade_reductions (empty
    without trades): what compute_metrics does after its array work, which the
    engine's one-call run (kernels.run) has already done."""
    notes: dict[str, str] = {}
    years = span_days / DAYS_PER_YEAR
    if years > 0 and initial_investment > 0:
        growth = final / initial_investment
        # nan below 0, as numpy's power gives it (Python's would be complex).
        cagr = (growth ** (1.0 / years) - 1.0) * 100.0 if growth >= 0 else math.nan
    else:
        cagr = None
        notes["cagr_pct"] = "the bars span less than a day"

    win_rate: float | None
    best: float | None
    worst: float | None
    average: float | None
    profit_factor: float | None
    if trade_count:
        winners, best, worst, average, gross_profit, gross_loss = trade_figures
        win_rate = winners / trade_count * 100.0
        if gross_loss > 0:
            profit_factor = gross_profit / gross_loss
        else:
            profit_factor = None
            notes["profit_factor"] = "no losing trade, so profit factor is unbounded"
    else:
        win_rate = best = worst = average = profit_factor = None
        reason = "no trades"
        for name in (
            "win_rate_pct",
            "best_trade_pct",
            "worst_trade_pct",
            "avg_trade_pct",
            "profit_factor",
        ):
            notes[name] = reason

    volatility: float | None
    sharpe: float | None
    sortino: float | None
    mean, spread, downside_square, deepest, under_water = curve_figures
    if spread > 0:
        scale = math.sqrt(TRADING_DAYS_PER_YEAR)
        volatility = spread * scale * 100.0
        sharpe = mean / spread * scale
        downside = math.sqrt(downside_square)
        if downside > 0:
            sortino = mean / downside * scale
        else:
            sortino = None
            notes["sortino"] = "no losing day, so downside deviation is 0"
    else:
        volatility = 0.0 if bars > 2 else None
        sharpe = sortino = None
        notes["sharpe"] = notes["sortino"] = "equity never moved, so risk is 0"

    return Metrics(
        final_equity=final,
        total_return_pct=(final / initial_investment - 1.0) * 100.0,
        buy_hold_return_pct=(last_close / first_close - 1.0) * 100.0,
        cagr_pct=cagr,
        max_drawdown_pct=deepest * 100.0,
        max_drawdown_days=int(under_water),
        trades=trade_count,
        win_rate_pct=win_rate,
        best_trade_pct=best,
        worst_trade_pct=worst,
        avg_trade_pct=average,
        profit_factor=profit_factor,
        exposure_pct=bars_in_market / bars * 100.0,
        volatility_pct=volatility,
        sharpe=sharpe,
        sortino=sortino,
        notes=notes,
    )
