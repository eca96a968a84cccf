"""Django-Q2 entry points for backtests; each takes a Job id and calls one service."""

from __future__ import annotations

from typing import Any

from backtesting.params import BacktestParams
from backtesting.services import backtest_run_create
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
