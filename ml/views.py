"""/predict/<symbol>/: a stored 30-day forecast from the active model."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from core.api.auth import api_endpoint
from core.api.ratelimits import rate_limited
from core.market import normalise_ticker
from ml.selectors import forecast_to_dict
from ml.services import forecast_create


@api_endpoint(methods=("GET", "POST"), permission="ml.run_forecast")
@rate_limited("predict")
def predict(request: HttpRequest, symbol: str) -> JsonResponse:
    run, _ = forecast_create(ticker=normalise_ticker(symbol), user=request.user)
    return JsonResponse(forecast_to_dict(run))
