"""Shared reads of backtests: one shape for the endpoint, the admin and reports."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import Max

from backtesting.models import BacktestRun
from core.data_quality import price_warnings
from core.models import Symbol


def latest_backtest(symbol: Symbol, *, adjust: str | None = None) -> BacktestRun | None:
    """The symbol's newest run, of that adjustment mode when one is given."""
    runs = BacktestRun.objects.filter(symbol=symbol)
    if adjust is not None:
        runs = runs.filter(adjust=adjust)
    return runs.order_by("-created_at", "-id").first()


def backtest_warnings(run: BacktestRun) -> list[str]:
    """What the prices of the run's range call for, in words (core.data_quality)."""
    return price_warnings(
        run.symbol, start=run.start_date, end=run.end_date, adjust=run.adjust
    )


def equity_points(run: BacktestRun) -> list[dict[str, Any]]:
    """The stored curve as [{date, equity, buy_hold}] rows."""
    curve = run.equity_curve
    start = date.fromisoformat(curve["start"])
    return [
        {
            "date": (start + timedelta(days=offset)).isoformat(),
            "equity": equity,
            "buy_hold": hold,
        }
        for offset, equity, hold in zip(
            curve["day_offsets"], curve["equity"], curve["buy_hold"], strict=True
        )
    ]


def backtest_to_dict(
    run: BacktestRun, *, include_equity: bool = False
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": run.pk,
        "symbol": run.symbol.ticker,
        "created_at": run.created_at.isoformat(),
        "parameters": {
            "strategy": "sma_crossover",
            "fast": run.fast,
            "slow": run.slow,
            "initial_investment": f"{run.initial_investment:.2f}",
            "commission": float(run.commission),
        },
        "data": {
            "start": run.start_date.isoformat(),
            "end": run.end_date.isoformat(),
            "bars": run.bar_count,
        },
        "adjustment": run.adjustment,
        "warnings": backtest_warnings(run),
        "metrics": run.metrics,
        "trades": [
            {
                "number": trade.number,
                "entry_date": trade.entry_date.isoformat(),
                "entry_price": str(trade.entry_price),
                "exit_date": trade.exit_date.isoformat(),
                "exit_price": str(trade.exit_price),
                "shares": trade.shares,
                "pnl": str(trade.pnl),
                "return_pct": trade.return_pct,
                "bars_held": trade.bars_held,
                "closed_at_end": trade.closed_at_end,
            }
            for trade in run.trades.all()
        ],
    }
    if include_equity:
        data["equity"] = equity_points(run)
    return data


def latest_runs_ranked() -> list[BacktestRun]:
    """Each symbol's latest backtest, best total return first."""
    latest_ids = (
        BacktestRun.objects.order_by()
        .values("symbol_id")
        .annotate(latest=Max("id"))
        .values_list("latest", flat=True)
    )
    return list(
        BacktestRun.objects.filter(pk__in=list(latest_ids))
        .select_related("symbol")
        .order_by("-total_return_pct")
    )
