"""The only writer of comparisons: the same backtest on several symbols, kept as one record."""

from __future__ import annotations

from django.db import transaction

from backtesting.models import BacktestRun, Comparison
from backtesting.params import BacktestParams
from backtesting.services.runs import backtest_run_create
from core.errors import InvalidInput, StockDeskError
from core.selectors import symbol_get
from core.services import Requester, author_or_none

# Two is the least that compares anything; ten keeps the table readable, the chart's
# lines distinguishable and a synchronous request (ten backtests) short.
MIN_SYMBOLS = 2
MAX_SYMBOLS = 10


def check_tickers(tickers: list[str]) -> list[str]:
    """The normalised tickers without repeats, in the order given; 2 to 10 of them."""
    unique = list(dict.fromkeys(tickers))
    if not MIN_SYMBOLS <= len(unique) <= MAX_SYMBOLS:
        raise InvalidInput(
            f"Compare {MIN_SYMBOLS} to {MAX_SYMBOLS} different symbols; got "
            f"{len(unique)}.",
            code="invalid_parameter",
            details={"parameter": "symbols", "count": len(unique)},
        )
    return unique


@transaction.atomic
def comparison_create(
    *, tickers: list[str], params: BacktestParams, user: Requester = None
) -> Comparison:
    """Run the backtest of params on each ticker and store the comparison of the runs.

    Each run is made (or reused, DESIGN §10) by backtest_run_create, so the table
    shows the same run as /backtest/ with the same parameters. Every symbol is looked
    up before any run, and one failing run (too few bars, none in the range) undoes
    the runs made before it: an error leaves nothing stored. The error names the
    symbol in `details.symbol`.
    """
    unique = check_tickers(tickers)
    for ticker in unique:
        symbol_get(ticker)  # UnknownSymbol (404) names the first unknown one
    runs: list[BacktestRun] = []
    for ticker in unique:
        try:
            runs.append(backtest_run_create(ticker=ticker, params=params, user=user))
        except StockDeskError as exc:
            exc.details = {**exc.details, "symbol": ticker}
            raise
    comparison = Comparison.objects.create(
        tickers=unique,
        fast=params.fast,
        slow=params.slow,
        initial_investment=params.initial_investment,
        commission=params.commission,
        adjust=params.adjust,
        start_date=params.start,
        end_date=params.end,
        created_by=author_or_none(user),
    )
    comparison.runs.set(runs)
    return comparison
