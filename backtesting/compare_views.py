"""/compare/?symbols=A,B,C: the same backtest on each symbol, stored as one Comparison."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse, QueryDict

from backtesting.comparison_selectors import comparison_to_dict
from backtesting.params import BacktestParams
from backtesting.query_params import backtest_params
from backtesting.services import comparison_create
from backtesting.services.comparisons import MAX_SYMBOLS, check_tickers
from core.api.auth import api_endpoint
from core.api.ratelimits import rate_limited
from core.errors import InvalidInput
from core.market import normalise_ticker


def parse_symbols(query: QueryDict) -> list[str]:
    """`symbols`: comma-separated tickers, normalised, repeats dropped, 2 to 10.

    Empty items (a trailing comma) are skipped; a bad ticker is 400 invalid_symbol.
    """
    raw = query.get("symbols") or ""
    # Bounded before splitting: ten tickers of ten characters and their commas.
    if len(raw) > MAX_SYMBOLS * 12 * 2:
        raise InvalidInput(
            f"symbols is too long; name at most {MAX_SYMBOLS} tickers.",
            code="invalid_parameter",
            details={"parameter": "symbols"},
        )
    tickers = [normalise_ticker(part) for part in raw.split(",") if part.strip()]
    return check_tickers(tickers)


def parse_compare_params(query: QueryDict) -> BacktestParams:
    """The backtest each symbol gets: fast, slow, investment, commission, dates, adjust."""
    investment = query.get("investment") or str(BacktestParams.DEFAULT_INVESTMENT)
    return backtest_params(query, investment=investment, investment_name="investment")


@api_endpoint(methods=("GET", "POST"), permission="backtesting.run_backtest")
@rate_limited("compare")
def compare(request: HttpRequest) -> JsonResponse:
    query = request.GET
    tickers = parse_symbols(query)
    params = parse_compare_params(query)
    comparison = comparison_create(tickers=tickers, params=params, user=request.user)
    return JsonResponse(comparison_to_dict(comparison))
