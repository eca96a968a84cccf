"""Reads of comparisons: the table of runs and the prices rebased to 100, one shape for
the /compare/ endpoint and the admin page."""

from __future__ import annotations

from typing import Any

import pandas as pd

from backtesting.models import BacktestRun, Comparison
from core.selectors import bars_adjusted

# Each row's figures, read from the run's stored metrics (docs/backtesting.md).
ROW_METRICS = (
    "total_return_pct",
    "cagr_pct",
    "max_drawdown_pct",
    "sharpe",
    "trades",
    "buy_hold_return_pct",
)
REBASE_TO = 100.0


def comparison_runs(comparison: Comparison) -> list[BacktestRun]:
    """The comparison's runs in the order its tickers were asked for."""
    by_ticker = {
        run.symbol.ticker: run for run in comparison.runs.select_related("symbol")
    }
    return [by_ticker[ticker] for ticker in comparison.tickers if ticker in by_ticker]


def comparison_row(run: BacktestRun) -> dict[str, Any]:
    return {
        "symbol": run.symbol.ticker,
        "run_id": run.pk,
        **{key: run.metrics.get(key) for key in ROW_METRICS},
        "data": {
            "start": run.start_date.isoformat(),
            "end": run.end_date.isoformat(),
            "bars": run.bar_count,
        },
        "adjustment": run.adjustment,
    }


def rebased_prices(comparison: Comparison, runs: list[BacktestRun]) -> dict[str, Any]:
    """Each run's closes on the days every run has a bar, divided by the close of the
    first such day and times 100, so lines that start together compare growth.

    Each symbol's bars are read over its run's range in the comparison's adjustment
    mode, the series the backtests used.
    """
    closes: dict[str, pd.Series] = {}
    for run in runs:
        frame = bars_adjusted(
            run.symbol,
            adjust=comparison.adjust,
            start=run.start_date,
            end=run.end_date,
        ).frame
        closes[run.symbol.ticker] = pd.Series(
            frame["close"].astype(float).to_numpy(), index=frame["date"]
        )
    # Inner join: only days that every symbol traded on.
    table = pd.DataFrame(closes).dropna()
    if table.empty:
        return {
            "dates": [],
            "series": {ticker: [] for ticker in closes},
            "note": "The symbols' bars share no trading day, so nothing can be rebased.",
        }
    rebased = table / table.iloc[0] * REBASE_TO
    return {
        "dates": [day.isoformat() for day in table.index],
        "series": {
            ticker: [round(value, 4) for value in rebased[ticker].tolist()]
            for ticker in closes
        },
        "note": None,
    }


def comparison_to_dict(comparison: Comparison) -> dict[str, Any]:
    runs = comparison_runs(comparison)
    return {
        "id": comparison.pk,
        "created_at": comparison.created_at.isoformat(),
        "parameters": {
            "strategy": "sma_crossover",
            "symbols": list(comparison.tickers),
            "fast": comparison.fast,
            "slow": comparison.slow,
            "initial_investment": f"{comparison.initial_investment:.2f}",
            "commission": float(comparison.commission),
            "start": comparison.start_date.isoformat()
            if comparison.start_date
            else None,
            "end": comparison.end_date.isoformat() if comparison.end_date else None,
            "adjust": comparison.adjust,
        },
        "rows": [comparison_row(run) for run in runs],
        "rebased": rebased_prices(comparison, runs),
    }
