"""Django-Q2 entry points for backtests; each takes a Job id and calls one service."""

from __future__ import annotations

from typing import Any

from backtesting.params import BacktestParams
from backtesting.services import backtest_run_create, comparison_create, sweep_create
from backtesting.sweeps import SweepParams
from core.models import Job
from core.tasks import JobOutcome, run_job


def _backtest(job: Job) -> JobOutcome:
    run = backtest_run_create(
        ticker=job.ticker,
        params=BacktestParams.from_json(job.parameters),
        user=job.created_by,
    )
    return JobOutcome(
        result={
            "run": run.pk,
            "total_return_pct": run.total_return_pct,
            "trades": run.trade_count,
        },
        produced=run,
        symbol=run.symbol,
    )


def run_backtest_task(job_id: int) -> dict[str, Any]:
    return run_job(job_id, _backtest)


def _sweep(job: Job) -> JobOutcome:
    sweep = sweep_create(
        ticker=job.ticker,
        params=SweepParams.from_json(job.parameters),
        user=job.created_by,
    )
    verdict = sweep.result["verdict"]
    return JobOutcome(
        result={
            "sweep": sweep.pk,
            "pairs": sweep.pair_count,
            "best": (
                f"{sweep.best_fast}/{sweep.best_slow}" if sweep.best_fast else None
            ),
            "beat_default": sweep.beat_default,
            "edge": verdict["edge"],
        },
        produced=sweep,
        symbol=sweep.symbol,
    )


def run_sweep_task(job_id: int) -> dict[str, Any]:
    return run_job(job_id, _sweep)


def _compare(job: Job) -> JobOutcome:
    # parameters: {"tickers": [...], **BacktestParams.as_json()}; job.ticker is the first.
    comparison = comparison_create(
        tickers=list(job.parameters["tickers"]),
        params=BacktestParams.from_json(job.parameters),
        user=job.created_by,
    )
    return JobOutcome(
        result={"comparison": comparison.pk, "symbols": comparison.tickers},
        produced=comparison,
        symbol=job.symbol,
    )


def run_compare_task(job_id: int) -> dict[str, Any]:
    return run_job(job_id, _compare)
