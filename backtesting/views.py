"""/backtest/<symbol>/<initial_investment>/: run and store a backtest, answer its results."""

from __future__ import annotations

from decimal import Decimal

from django.http import HttpRequest, JsonResponse

from backtesting.selectors import backtest_to_dict
from backtesting.services import BacktestParams, backtest_run_create
from core.api.auth import api_endpoint
from core.api.validation import (
    normalise_ticker,
    parse_date,
    parse_decimal,
    parse_int,
    parse_money,
)

MAX_INVESTMENT = Decimal("1e12")


@api_endpoint(methods=("GET", "POST"))
def backtest(
    request: HttpRequest, symbol: str, initial_investment: str
) -> JsonResponse:
    ticker = normalise_ticker(symbol)
    query = request.GET
    params = BacktestParams(
        initial_investment=parse_money(
            initial_investment, name="initial_investment", maximum=MAX_INVESTMENT
        ),
        fast=parse_int(query, "fast", default=50, minimum=2, maximum=400),
        slow=parse_int(query, "slow", default=200, minimum=2, maximum=400),
        start=parse_date(query, "start"),
        end=parse_date(query, "end"),
        commission=parse_decimal(
            query,
            "commission",
            default=Decimal(0),
            minimum=Decimal(0),
            maximum=Decimal("0.05"),
        ),
    )
    include = {
        part.strip() for part in query.get("include", "").split(",") if part.strip()
    }
    run = backtest_run_create(ticker=ticker, params=params, user=request.user)
    return JsonResponse(backtest_to_dict(run, include_equity="equity" in include))
