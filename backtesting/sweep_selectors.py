"""Shared reads of sweeps: the JSON answer, the heatmap grid and the stored runs of a
sweep's pairs, for the endpoint, the admin and reports alike."""

from __future__ import annotations

from typing import Any

from backtesting.models import BacktestRun, Sweep
from backtesting.params import BacktestParams
from backtesting.sweeps import SweepParams, parse_range

# What the heatmap can show: a key of a row (or of its in-sample figures) and a label.
HEATMAP_METRICS: dict[str, str] = {
    "sharpe": "Sharpe",
    "total_return_pct": "Total return %",
    "cagr_pct": "CAGR %",
    "max_drawdown_pct": "Max drawdown %",
    "sortino": "Sortino",
    "volatility_pct": "Volatility %",
    "win_rate_pct": "Win rate %",
    "profit_factor": "Profit factor",
    "trades": "Trades",
    "exposure_pct": "Time in market %",
    "in_sample_sharpe": "In-sample Sharpe (the ranking)",
    "in_sample_total_return_pct": "In-sample return %",
}
DEFAULT_HEATMAP_METRIC = "sharpe"
_IN_SAMPLE = "in_sample_"


def sweep_params(sweep: Sweep) -> SweepParams:
    """The sweep's parameters on the bars it ran on (its first and last date)."""
    return SweepParams(
        initial_investment=sweep.initial_investment,
        fast=parse_range(
            sweep.fast_range, name="fast", default=SweepParams.DEFAULT_FAST_RANGE
        ),
        slow=parse_range(
            sweep.slow_range, name="slow", default=SweepParams.DEFAULT_SLOW_RANGE
        ),
        start=sweep.start_date,
        end=sweep.end_date,
        commission=sweep.commission,
        adjust=sweep.adjust,
        oos=sweep.oos_fraction,
        benchmark=sweep.benchmark or None,
    )


def pair_params(sweep: Sweep, fast: int, slow: int) -> BacktestParams:
    """The single backtest of one pair of the sweep: same money, prices and bars."""
    return BacktestParams(
        initial_investment=sweep.initial_investment,
        fast=fast,
        slow=slow,
        start=sweep.start_date,
        end=sweep.end_date,
        commission=sweep.commission,
        adjust=sweep.adjust,
    )


def sweep_has_pair(sweep: Sweep, fast: int, slow: int) -> bool:
    return any(row["fast"] == fast and row["slow"] == slow for row in sweep.rows)


def stored_pair_runs(sweep: Sweep) -> dict[tuple[int, int], int]:
    """(fast, slow) -> id of the stored single run of that pair on the same bars."""
    runs = BacktestRun.objects.filter(
        symbol_id=sweep.symbol_id,
        initial_investment=sweep.initial_investment,
        commission=sweep.commission,
        adjust=sweep.adjust,
        actions_digest=sweep.actions_digest,
        start_date=sweep.start_date,
        end_date=sweep.end_date,
        bar_count=sweep.bar_count,
    )
    return {
        (fast, slow): pk for pk, fast, slow in runs.values_list("id", "fast", "slow")
    }


def _value(row: dict[str, Any], metric: str) -> Any:
    if metric.startswith(_IN_SAMPLE):
        figures = row.get("in_sample") or {}
        return figures.get(metric.removeprefix(_IN_SAMPLE))
    return None if row.get("error") else row.get(metric)


def heatmap(sweep: Sweep, metric: str = DEFAULT_HEATMAP_METRIC) -> dict[str, Any]:
    """The grid of one metric: a row per fast window, a column per slow window;
    None where fast >= slow, where a pair could not run or the figure does not exist.
    An unknown metric reads as the default one."""
    if metric not in HEATMAP_METRICS:
        metric = DEFAULT_HEATMAP_METRIC
    fasts = sorted({row["fast"] for row in sweep.rows})
    slows = sorted({row["slow"] for row in sweep.rows})
    by_pair = {(row["fast"], row["slow"]): _value(row, metric) for row in sweep.rows}
    return {
        "metric": metric,
        "label": HEATMAP_METRICS[metric],
        "fasts": fasts,
        "slows": slows,
        "values": [[by_pair.get((f, s)) for s in slows] for f in fasts],
    }


def sweep_to_dict(sweep: Sweep) -> dict[str, Any]:
    """The sweep as the endpoint answers it (docs/openapi.yaml, Sweep)."""
    result = sweep.result
    return {
        "id": sweep.pk,
        "symbol": sweep.symbol.ticker,
        "created_at": sweep.created_at.isoformat(),
        "parameters": {
            "strategy": "sma_crossover",
            "fast": sweep.fast_range,
            "slow": sweep.slow_range,
            "initial_investment": f"{sweep.initial_investment:.2f}",
            "commission": float(sweep.commission),
            "oos": sweep.oos_fraction,
            "benchmark": sweep.benchmark or None,
        },
        "data": {
            "start": sweep.start_date.isoformat(),
            "end": sweep.end_date.isoformat(),
            "bars": sweep.bar_count,
        },
        "adjustment": sweep.adjustment,
        "pairs": sweep.pair_count,
        "best": (
            {"fast": sweep.best_fast, "slow": sweep.best_slow}
            if sweep.best_fast is not None
            else None
        ),
        "rows": sweep.rows,
        "ranking": result.get("ranking"),
        "out_of_sample": result.get("out_of_sample"),
        "walk_forward": result.get("walk_forward"),
        "benchmark": result.get("benchmark"),
        "verdict": result.get("verdict"),
    }
