"""/backtest/<symbol>/<initial_investment>/sweep/: run and store a parameter sweep,
answer its rows, its out-of-sample proof and the verdict."""

from __future__ import annotations

from decimal import Decimal

from django.http import HttpRequest, JsonResponse

from backtesting.params import parse_adjust, parse_benchmark
from backtesting.query_params import parse_commission, parse_investment
from backtesting.services import sweep_create
from backtesting.sweep_selectors import sweep_to_dict
from backtesting.sweeps import SweepParams, parse_range
from core.api.auth import api_endpoint
from core.api.ratelimits import rate_limited
from core.api.validation import parse_date, parse_decimal
from core.market import normalise_ticker


@api_endpoint(methods=("GET", "POST"), permission="backtesting.run_backtest")
@rate_limited("sweep")
def sweep(request: HttpRequest, symbol: str, initial_investment: str) -> JsonResponse:
    ticker = normalise_ticker(symbol)
    query = request.GET
    oos = parse_decimal(
        query,
        "oos",
        default=Decimal(str(SweepParams.DEFAULT_OOS)),
        minimum=Decimal(str(SweepParams.MIN_OOS)),
        maximum=Decimal(str(SweepParams.MAX_OOS)),
        decimals=3,
    )
    params = SweepParams(
        initial_investment=parse_investment(
            initial_investment, name="initial_investment"
        ),
        fast=parse_range(
            query.get("fast"), name="fast", default=SweepParams.DEFAULT_FAST_RANGE
        ),
        slow=parse_range(
            query.get("slow"), name="slow", default=SweepParams.DEFAULT_SLOW_RANGE
        ),
        start=parse_date(query, "start"),
        end=parse_date(query, "end"),
        commission=parse_commission(query),
        adjust=parse_adjust(query),
        oos=float(oos),
        benchmark=parse_benchmark(query),
    )
    found = sweep_create(ticker=ticker, params=params, user=request.user)
    return JsonResponse(sweep_to_dict(found))
