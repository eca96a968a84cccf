"""Shared reads of backtests: one shape for the endpoint, the admin and reports."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import numpy as np
from django.db.models import Max

from backtesting.benchmark import benchmark_stats
from backtesting.equity_series import unpack
from backtesting.models import BacktestRun, Trade
from backtesting.params import DEFAULT_BENCHMARK
from backtesting.tearsheet import tearsheet
from core.data_quality import price_warnings
from core.models import Symbol
from core.selectors import closes_adjusted, symbol_find, symbol_get

# The benchmark a run is read against when none is named (parse_benchmark).
DEFAULT_BENCHMARK_TICKER = "SPY"


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
    series = unpack(run.equity_curve)
    days = np.datetime_as_string(series.dates(_start(run)), unit="D").tolist()
    return [
        {"date": day, "equity": equity, "buy_hold": hold}
        for day, equity, hold in zip(
            days, series.equity.tolist(), series.buy_hold.tolist(), strict=True
        )
    ]


def _start(run: BacktestRun) -> np.datetime64:
    return np.datetime64(run.start_date.isoformat(), "D")


def run_curve(run: BacktestRun) -> tuple[np.ndarray, np.ndarray]:
    """The stored equity curve as (dates datetime64[D], equity) arrays."""
    series = unpack(run.equity_curve)
    return series.dates(_start(run)), series.equity


def backtest_tearsheet(
    run: BacktestRun, *, rolling_series: bool = True
) -> dict[str, Any]:
    """backtesting.tearsheet of the stored curve, computed at read time."""
    return tearsheet(*run_curve(run), rolling_series=rolling_series)


def _unavailable(ticker: str | None, note: str) -> dict[str, Any]:
    return {"available": False, "ticker": ticker, "note": note}


def benchmark_for(
    symbol: Symbol,
    *,
    start: date,
    end: date,
    adjust: str,
    dates: np.ndarray,
    equity: np.ndarray,
    initial_investment: float,
    ticker: str | None = DEFAULT_BENCHMARK,
    with_equity: bool = True,
    symbols: Mapping[str, Symbol | None] | None = None,
) -> dict[str, Any]:
    """The curve (dates, equity) of a run on symbol against a benchmark's closes in
    [start, end], adjusted like the run.

    ticker: DEFAULT_BENCHMARK (SPY when it is stored and is not the symbol itself),
    None (no benchmark) or a normalised ticker, which must be stored (else
    UnknownSymbol, 404). Answers {"available": True, "ticker", **benchmark_stats}
    or {"available": False, "ticker", "note"} saying why there are no figures.
    symbols: Symbols the caller read already, by ticker (None: not stored).
    """
    if ticker is None:
        return _unavailable(None, "No benchmark was asked for (benchmark=none).")
    if ticker == DEFAULT_BENCHMARK:
        ticker = DEFAULT_BENCHMARK_TICKER
        known = symbols or {}
        bench = known[ticker] if ticker in known else symbol_find(ticker)
        if bench is None:
            return _unavailable(
                ticker, f"{ticker} is not stored; fetch its prices to compare."
            )
        if bench.pk == symbol.pk:
            return _unavailable(
                ticker, f"The run is on {ticker} itself; name another benchmark."
            )
    else:
        bench = symbol_get(ticker)
    try:
        bench_dates, closes = closes_adjusted(
            bench, adjust=adjust, start=start, end=end
        )
    except ValueError as exc:
        # core.adjustment refuses a dividend at or above the close before it.
        return _unavailable(ticker, f"{ticker}'s prices cannot be adjusted: {exc}.")
    if not len(closes):
        return _unavailable(ticker, f"{ticker} has no bars from {start} to {end}.")
    stats = benchmark_stats(
        dates,
        equity,
        bench_dates,
        closes,
        initial_investment,
        with_equity=with_equity,
    )
    if stats["common_days"] < 2:
        return _unavailable(
            ticker,
            f"{ticker}'s bars share fewer than two dates with the run "
            f"({start} to {end}).",
        )
    return {"available": True, "ticker": ticker, **stats}


def backtest_benchmark(
    run: BacktestRun,
    ticker: str | None = DEFAULT_BENCHMARK,
    *,
    with_equity: bool = True,
    symbols: Mapping[str, Symbol | None] | None = None,
) -> dict[str, Any]:
    """benchmark_for a stored run: its symbol, range, adjustment and curve."""
    dates, equity = run_curve(run)
    return benchmark_for(
        run.symbol,
        start=run.start_date,
        end=run.end_date,
        adjust=run.adjust,
        dates=dates,
        equity=equity,
        initial_investment=float(run.initial_investment),
        ticker=ticker,
        with_equity=with_equity,
        symbols=symbols,
    )


def backtest_to_dict(
    run: BacktestRun,
    *,
    include_equity: bool = False,
    include_rolling: bool = False,
    benchmark: str | None = DEFAULT_BENCHMARK,
    warnings: list[str] | None = None,
    trades: list[Trade] | None = None,
    symbols: Mapping[str, Symbol | None] | None = None,
) -> dict[str, Any]:
    """The run as the endpoint answers it; `benchmark` as benchmark_for's ticker.

    include_equity adds the daily curves, include_rolling the tearsheet's rolling
    figures at every bar (without it, the last bar's only).

    warnings, trades and symbols (as benchmark_for's), when the caller has them
    already (backtest_run_answer), save reading them again.
    """
    compared = backtest_benchmark(
        run, benchmark, with_equity=include_equity, symbols=symbols
    )
    if not include_equity:
        compared.pop("equity", None)
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
        "warnings": backtest_warnings(run) if warnings is None else warnings,
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
            for trade in (run.trades.all() if trades is None else trades)
        ],
    }
    data["benchmark"] = compared
    data["tearsheet"] = backtest_tearsheet(run, rolling_series=include_rolling)
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
