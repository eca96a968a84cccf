"""/backtest/<symbol>/<initial_investment>/: run and store a backtest, answer its results."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from backtesting.params import DEFAULT_BENCHMARK, parse_benchmark
from backtesting.query_params import backtest_params
from backtesting.selectors import DEFAULT_BENCHMARK_TICKER, backtest_to_dict
from backtesting.services import backtest_run_answer
from core.api.auth import api_endpoint
from core.api.ratelimits import rate_limited
from core.market import normalise_ticker
from core.selectors import symbol_get


@api_endpoint(methods=("GET", "POST"), permission="backtesting.run_backtest")
@rate_limited("backtest")
def backtest(
    request: HttpRequest, symbol: str, initial_investment: str
) -> JsonResponse:
    ticker = normalise_ticker(symbol)
    query = request.GET
    params = backtest_params(
        query, investment=initial_investment, investment_name="initial_investment"
    )
    benchmark = parse_benchmark(query)
    if benchmark not in (None, DEFAULT_BENCHMARK):
        symbol_get(benchmark)  # an unknown benchmark is a 404 before any work
    include = {
        part.strip() for part in query.get("include", "").split(",") if part.strip()
    }
    answer = backtest_run_answer(
        ticker=ticker,
        params=params,
        user=request.user,
        # The default benchmark's Symbol in the same query as the run's.
        also_read=(DEFAULT_BENCHMARK_TICKER,) if benchmark == DEFAULT_BENCHMARK else (),
    )
    return JsonResponse(
        backtest_to_dict(
            answer.run,
            include_equity="equity" in include,
            include_rolling="rolling" in include,
            benchmark=benchmark,
            warnings=answer.warnings,
            trades=answer.trades,
            symbols=answer.symbols,
        )
    )
