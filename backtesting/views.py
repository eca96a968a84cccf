"""/backtest/<symbol>/<initial_investment>/: run and store a backtest, answer its results."""

from __future__ import annotations

from decimal import Decimal

from django.http import HttpRequest, JsonResponse, QueryDict

from backtesting.params import BacktestParams, parse_adjust
from backtesting.selectors import backtest_to_dict
from backtesting.services import backtest_run_create
from core.api.auth import api_endpoint
from core.api.ratelimits import rate_limited
from core.api.validation import parse_date, parse_decimal, parse_int, parse_money
from core.market import normalise_ticker


def _window(query: QueryDict, name: str, *, default: int) -> int:
    return parse_int(
        query,
        name,
        default=default,
        minimum=BacktestParams.MIN_WINDOW,
        maximum=BacktestParams.MAX_WINDOW,
    )


@api_endpoint(methods=("GET", "POST"), permission="backtesting.run_backtest")
@rate_limited("backtest")
def backtest(
    request: HttpRequest, symbol: str, initial_investment: str
) -> JsonResponse:
    ticker = normalise_ticker(symbol)
    query = request.GET
    params = BacktestParams(
        initial_investment=parse_money(
            initial_investment,
            name="initial_investment",
            maximum=BacktestParams.MAX_INVESTMENT,
            decimals=BacktestParams.INVESTMENT_DECIMALS,
        ),
        fast=_window(query, "fast", default=BacktestParams.DEFAULT_FAST),
        slow=_window(query, "slow", default=BacktestParams.DEFAULT_SLOW),
        start=parse_date(query, "start"),
        end=parse_date(query, "end"),
        commission=parse_decimal(
            query,
            "commission",
            default=Decimal(0),
            minimum=Decimal(0),
            maximum=BacktestParams.MAX_COMMISSION,
            decimals=BacktestParams.COMMISSION_DECIMALS,
        ),
        adjust=parse_adjust(query),
    )
    include = {
        part.strip() for part in query.get("include", "").split(",") if part.strip()
    }
    run = backtest_run_create(ticker=ticker, params=params, user=request.user)
    return JsonResponse(backtest_to_dict(run, include_equity="equity" in include))
