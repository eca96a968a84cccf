"""/predict/<symbol>/?adjust=: a stored 30-day forecast from the active model."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse, QueryDict

from core.adjustment import DEFAULT_ADJUST
from core.api.auth import api_endpoint
from core.api.ratelimits import rate_limited
from core.market import normalise_ticker
from ml.selectors import forecast_to_dict
from ml.services import check_adjust, forecast_create


def _adjust(query: QueryDict) -> str:
    """?adjust=splits|total|none: absent or empty is split-adjusted, case ignored."""
    raw = query.get("adjust")
    if raw is None or not raw.strip():
        return DEFAULT_ADJUST
    return check_adjust(raw.strip().lower() if raw.isascii() else raw)


@api_endpoint(methods=("GET", "POST"), permission="ml.run_forecast")
@rate_limited("predict")
def predict(request: HttpRequest, symbol: str) -> JsonResponse:
    ticker = normalise_ticker(symbol)
    run, _ = forecast_create(
        ticker=ticker, adjust=_adjust(request.GET), user=request.user
    )
    return JsonResponse(forecast_to_dict(run))
