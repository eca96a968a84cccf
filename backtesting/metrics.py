"""Performance metrics of an equity curve and its trades; numpy only, JSON-safe output."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

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
        return asdict(self)


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
    notes: dict[str, str] = {}
    final = float(equity[-1])
    years = (dates[-1] - dates[0]).astype("timedelta64[D]").astype(
        np.int64
    ) / DAYS_PER_YEAR
    if years > 0 and initial_investment > 0:
        cagr = float(((final / initial_investment) ** (1.0 / years) - 1.0) * 100.0)
    else:
        cagr = None
        notes["cagr_pct"] = "the bars span less than a day"

    win_rate: float | None
    best: float | None
    worst: float | None
    average: float | None
    profit_factor: float | None
    count = len(trade_pnls)
    if count:
        win_rate = float(np.count_nonzero(trade_pnls > 0)) / count * 100.0
        best, worst = float(trade_returns_pct.max()), float(trade_returns_pct.min())
        average = float(trade_returns_pct.mean())
        gross_loss = -float(trade_pnls[trade_pnls < 0].sum())
        if gross_loss > 0:
            profit_factor = float(trade_pnls[trade_pnls > 0].sum()) / gross_loss
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
    returns = daily_returns(equity)
    spread = float(returns.std(ddof=1)) if len(returns) > 1 else 0.0
    if spread > 0:
        scale = math.sqrt(TRADING_DAYS_PER_YEAR)
        mean = float(returns.mean())
        volatility = spread * scale * 100.0
        sharpe = mean / spread * scale
        downside = math.sqrt(float(np.mean(np.minimum(returns, 0.0) ** 2)))
        if downside > 0:
            sortino = mean / downside * scale
        else:
            sortino = None
            notes["sortino"] = "no losing day, so downside deviation is 0"
    else:
        volatility = 0.0 if len(returns) > 1 else None
        sharpe = sortino = None
        notes["sharpe"] = notes["sortino"] = "equity never moved, so risk is 0"

    return Metrics(
        final_equity=final,
        total_return_pct=(final / initial_investment - 1.0) * 100.0,
        buy_hold_return_pct=(float(closes[-1]) / float(closes[0]) - 1.0) * 100.0,
        cagr_pct=cagr,
        max_drawdown_pct=float(drawdown(equity).min()) * 100.0,
        max_drawdown_days=max_drawdown_days(dates, equity),
        trades=count,
        win_rate_pct=win_rate,
        best_trade_pct=best,
        worst_trade_pct=worst,
        avg_trade_pct=average,
        profit_factor=profit_factor,
        exposure_pct=bars_in_market / len(equity) * 100.0,
        volatility_pct=volatility,
        sharpe=sharpe,
        sortino=sortino,
        notes=notes,
    )
