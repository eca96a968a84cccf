"""The only writers of backtests: run the engine on stored bars and keep the run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django_q.tasks import async_task

from backtesting.engine import BacktestResult, NotEnoughBars, bars_needed, run_backtest
from backtesting.models import BacktestRun, Trade
from core.errors import InvalidInput, NotEnoughData, NotFound
from core.models import Job, Symbol
from core.services import job_create, job_set_task_id
from ingestion.selectors import bars_frame

BACKTEST_TASK = "backtesting.tasks.run_backtest_task"
_CENTS = Decimal("0.01")


@dataclass(frozen=True)
class BacktestParams:
    """What staff or a program asks for; checked before any work is done."""

    initial_investment: Decimal
    fast: int = 50
    slow: int = 200
    start: date | None = None
    end: date | None = None
    commission: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        if not 2 <= self.fast < self.slow <= 400:
            raise InvalidInput(
                f"Windows must satisfy 2 <= fast < slow <= 400; got fast={self.fast}, "
                f"slow={self.slow}.",
                code="invalid_parameter",
                details={"parameter": "fast/slow"},
            )
        if self.start and self.end and self.start >= self.end:
            raise InvalidInput(
                f"start ({self.start}) must be before end ({self.end}).",
                code="invalid_parameter",
                details={"parameter": "start/end"},
            )

    def as_json(self) -> dict[str, Any]:
        return {
            "initial_investment": str(self.initial_investment),
            "fast": self.fast,
            "slow": self.slow,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "commission": str(self.commission),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BacktestParams:
        return cls(
            initial_investment=Decimal(data["initial_investment"]),
            fast=int(data["fast"]),
            slow=int(data["slow"]),
            start=date.fromisoformat(data["start"]) if data.get("start") else None,
            end=date.fromisoformat(data["end"]) if data.get("end") else None,
            commission=Decimal(data.get("commission") or 0),
        )


def _curve(result: BacktestResult) -> dict[str, Any]:
    """The daily curves as day offsets and cents: a 20-year run stays small."""
    start = result.dates[0]
    offsets = (result.dates - start).astype("timedelta64[D]").astype(np.int64)
    return {
        "start": start.item().isoformat(),
        "day_offsets": offsets.tolist(),
        "equity": np.round(result.equity, 2).tolist(),
        "buy_hold": np.round(result.buy_hold_equity, 2).tolist(),
    }


def _money(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(_CENTS)


def backtest_run_create(
    *, ticker: str, params: BacktestParams, user: AbstractBaseUser | None = None
) -> BacktestRun:
    """Run the SMA crossover on the stored bars of ticker and store a new run."""
    symbol = Symbol.objects.filter(ticker=ticker).first()
    if symbol is None:
        raise NotFound(
            f"There is no symbol {ticker}; fetch its prices first.",
            code="unknown_symbol",
        )
    bars = bars_frame(symbol, start=params.start, end=params.end)
    if bars.empty:
        raise NotFound(
            f"{ticker} has no price bars in the requested range.",
            code="no_data",
            details={"symbol": ticker},
        )
    try:
        result = run_backtest(
            bars,
            fast=params.fast,
            slow=params.slow,
            initial_investment=float(params.initial_investment),
            commission=float(params.commission),
        )
    except NotEnoughBars as exc:
        raise NotEnoughData(
            f"{ticker} has {exc.available} bars in the range; a {params.fast}/"
            f"{params.slow} backtest needs at least {bars_needed(params.slow)}.",
            details={"needed": exc.needed, "available": exc.available},
        ) from exc
    metrics = result.metrics
    with transaction.atomic():
        run = BacktestRun.objects.create(
            symbol=symbol,
            fast=params.fast,
            slow=params.slow,
            initial_investment=params.initial_investment,
            commission=params.commission,
            start_date=bars["date"].iloc[0],
            end_date=bars["date"].iloc[-1],
            bar_count=len(bars),
            final_equity=_money(metrics.final_equity),
            total_return_pct=metrics.total_return_pct,
            buy_hold_return_pct=metrics.buy_hold_return_pct,
            max_drawdown_pct=metrics.max_drawdown_pct,
            trade_count=metrics.trades,
            metrics=metrics.as_dict(),
            equity_curve=_curve(result),
            created_by=user if user and user.is_authenticated else None,
        )
        Trade.objects.bulk_create(
            Trade(
                run=run,
                number=number,
                entry_date=trade.entry_date,
                entry_price=Decimal(repr(trade.entry_price)),
                exit_date=trade.exit_date,
                exit_price=Decimal(repr(trade.exit_price)),
                shares=trade.shares,
                pnl=_money(trade.pnl),
                return_pct=trade.return_pct,
                bars_held=trade.bars_held,
                closed_at_end=trade.closed_at_end,
            )
            for number, trade in enumerate(result.trades, start=1)
        )
    return run


def _enqueue_backtest(job_id: int) -> None:
    task_id = async_task(
        BACKTEST_TASK, job_id, task_name=f"backtest-job-{job_id}", group="backtest"
    )
    job_set_task_id(job_id=job_id, task_id=str(task_id))


def backtest_job_enqueue(
    *, symbol: Symbol, params: BacktestParams, user: AbstractBaseUser | None = None
) -> Job:
    job = job_create(
        kind=Job.Kind.BACKTEST,
        ticker=symbol.ticker,
        symbol=symbol,
        parameters=params.as_json(),
        created_by=user,
    )
    transaction.on_commit(lambda: _enqueue_backtest(job.pk))
    return job
