"""The only writers of backtests: run the engine on stored bars and keep the run."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from backtesting.engine import (
    BacktestResult,
    NotEnoughBars,
    PriceArrays,
    bars_needed,
    prepare_bars,
    run_prepared,
)
from backtesting.equity_series import pack
from backtesting.models import BacktestRun, Trade
from backtesting.params import BacktestParams
from backtesting.run_lookup import (
    bar_inputs_expected,
    bar_inputs_found,
    stored_run,
    symbols_with_run,
)
from backtesting.services.run_rows import run_rows_insert
from core.data_quality import price_warnings_of
from core.errors import Conflict, NotEnoughData, NotFound, UnknownSymbol
from core.models import Symbol
from core.selectors import (
    AdjustedBars,
    BarsRead,
    bars_adjusted,
    bars_read,
    kept_per_version,
    symbols_found,
)
from core.services import Requester, author_or_none

_CENTS = Decimal("0.01")
# Trade prices are stored with the 4 decimals of a bar; adjusted prices have more.
_PRICE_STEP = Decimal("0.0001")


def _curve(result: BacktestResult) -> bytes:
    """The daily curves packed (backtesting.equity_series): a 20-year run stays small."""
    return pack(result.dates, result.equity, result.buy_hold_equity)


def _money(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(_CENTS)


def _price(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(_PRICE_STEP)


def _actions_digest(block: dict[str, Any]) -> str:
    """sha256 of the applied actions of an adjustment block, written canonically."""
    text = json.dumps(block["actions"], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _adjusted_bars(symbol: Symbol, params: BacktestParams) -> AdjustedBars:
    ticker = symbol.ticker
    try:
        return bars_adjusted(
            symbol, adjust=params.adjust, start=params.start, end=params.end
        )
    except ValueError as exc:
        raise _bad_action(ticker, params, exc) from exc


def _bars_read(symbol: Symbol, params: BacktestParams) -> BarsRead:
    try:
        return bars_read(
            symbol, adjust=params.adjust, start=params.start, end=params.end
        )
    except ValueError as exc:
        raise _bad_action(symbol.ticker, params, exc) from exc


@kept_per_version
def _prices_kept(
    symbol: Symbol, adjust: str, start: date | None, end: date | None
) -> PriceArrays:
    """The engine's arrays of the run's bars (bars_read, kept as they are), so that
    another pair on the same bars does not convert them again. Read-only."""
    prices = prepare_bars(
        bars_read(symbol, adjust=adjust, start=start, end=end).adjusted.frame
    )
    for array in vars(prices).values():
        array.flags.writeable = False
    return prices


def _bad_action(ticker: str, params: BacktestParams, exc: ValueError) -> Conflict:
    # core.adjustment refuses a dividend at or above the close before it.
    return Conflict(
        f"{ticker}'s recorded dividends cannot adjust its prices: {exc}.",
        code="bad_corporate_action",
        details={"symbol": ticker, "adjust": params.adjust},
    )


@dataclass(frozen=True)
class RunAnswer:
    """A run as /backtest/ answers it, with what was read to make or find it, so the
    answer reads neither the bars nor the trades again."""

    run: BacktestRun
    warnings: list[str]  # core.data_quality.price_warnings of the run's bars
    trades: list[Trade] | None  # the trades just stored; None for a stored run
    # The Symbols read with the run's own (also_read), by ticker; None: not stored.
    symbols: dict[str, Symbol | None]


def backtest_run_create(
    *, ticker: str, params: BacktestParams, user: Requester = None
) -> BacktestRun:
    """Run the SMA crossover on the stored bars of ticker, adjusted by params.adjust
    (core.selectors.bars_adjusted), and store the run.

    The same parameters on the same bars (first, last and count) with the same
    adjustment (mode and actions applied) give the run already stored, whoever asked
    first (its created_by stays theirs), not a copy (DESIGN §10).
    """
    return backtest_run_answer(ticker=ticker, params=params, user=user).run


def backtest_run_answer(
    *,
    ticker: str,
    params: BacktestParams,
    user: Requester = None,
    also_read: tuple[str, ...] = (),
) -> RunAnswer:
    """backtest_run_create, and the warnings and trades its answer needs; the
    Symbols of also_read (a benchmark's) are read in the same query as ticker's."""
    tickers = (ticker, *also_read)
    requested = _request_inputs(params)
    bar_range = (ticker, params.adjust, params.start, params.end)
    expected = bar_inputs_expected(bar_range)
    guessed: BacktestRun | None = None
    if expected is None:
        symbols = symbols_found(tickers)
    else:
        # The run stored for the bars this range had last time, in the same query.
        symbols, guessed = symbols_with_run(tickers, ticker, {**requested, **expected})
    symbol = symbols[ticker]
    if symbol is None:
        raise UnknownSymbol(ticker)
    read = _bars_read(symbol, params)
    adjusted = read.adjusted
    bars = adjusted.frame
    if bars.empty:
        raise NotFound(
            f"{ticker} has no price bars in the requested range.",
            code="no_data",
            details={"symbol": ticker},
        )
    first, last = bars["date"].iloc[0], bars["date"].iloc[-1]
    warnings = price_warnings_of(
        ticker,
        read.as_traded,
        read.actions,
        start=first,
        end=last,
        adjust=params.adjust,
    )
    # The fields of the model's unique constraint (BACKTEST_INPUTS).
    inputs = {
        "symbol": symbol,
        **requested,
        "actions_digest": _actions_digest(adjusted.block()),
        "start_date": first,
        "end_date": last,
        "bar_count": len(bars),
    }
    bar_inputs_found(bar_range, inputs)
    if expected is not None and all(inputs[k] == v for k, v in expected.items()):
        stored = guessed  # that query's look-up was for these very inputs
    else:
        stored = stored_run(inputs)
    if stored is not None:
        stored.symbol = symbol  # read already: the answer names it
        return RunAnswer(stored, warnings, None, symbols)
    try:
        result = run_prepared(
            _prices_kept(symbol, params.adjust, params.start, params.end),
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
    run, trades = _run_rows(
        inputs=inputs, adjustment=adjusted.block(), result=result, user=user
    )
    if not run_rows_insert(run, trades):
        # The same run was stored by another request since the look-up above.
        stored = stored_run(inputs)
        if stored is None:
            raise Conflict(
                f"{ticker}'s run was stored and removed while this one was made; "
                "ask again.",
                code="run_changed",
                details={"symbol": ticker},
            )
        stored.symbol = symbol
        return RunAnswer(stored, warnings, None, symbols)
    return RunAnswer(run, warnings, trades, symbols)


def _request_inputs(params: BacktestParams) -> dict[str, Any]:
    """The inputs of a run (BACKTEST_INPUTS) that the request gives."""
    return {
        "fast": params.fast,
        "slow": params.slow,
        "initial_investment": params.initial_investment,
        "commission": params.commission,
        "adjust": params.adjust,
    }


def _run_rows(
    *,
    inputs: dict[str, Any],
    adjustment: dict[str, Any],
    result: BacktestResult,
    user: Requester,
) -> tuple[BacktestRun, list[Trade]]:
    """The run and its trades as rows, not yet stored (run_rows_insert)."""
    metrics = result.metrics
    run = BacktestRun(
        **inputs,
        adjustment=adjustment,
        final_equity=_money(metrics.final_equity),
        total_return_pct=metrics.total_return_pct,
        buy_hold_return_pct=metrics.buy_hold_return_pct,
        max_drawdown_pct=metrics.max_drawdown_pct,
        trade_count=metrics.trades,
        metrics=metrics.as_dict(),
        equity_curve=_curve(result),
        created_by=author_or_none(user),
    )
    trades = [
        Trade(
            run=run,
            number=number,
            entry_date=trade.entry_date,
            entry_price=_price(trade.entry_price),
            exit_date=trade.exit_date,
            exit_price=_price(trade.exit_price),
            shares=trade.shares,
            pnl=_money(trade.pnl),
            return_pct=trade.return_pct,
            bars_held=trade.bars_held,
            closed_at_end=trade.closed_at_end,
        )
        for number, trade in enumerate(result.trades, start=1)
    ]
    return run, trades
