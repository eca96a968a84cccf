"""/predict/<symbol>/?adjust=&as_of=: a stored 30-day forecast from the active model,
or with as_of a hindcast (the forecast of a model trained on the bars up to that day)."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest, JsonResponse, QueryDict

from core.adjustment import DEFAULT_ADJUST
from core.api.auth import api_endpoint
from core.api.ratelimits import rate_limited
from core.errors import InvalidInput
from core.market import normalise_ticker
from ml.selectors import forecast_to_dict, hindcast_note
from ml.services import check_adjust, forecast_create, hindcast_create


def _adjust(query: QueryDict) -> str:
    """?adjust=splits|total|none: absent or empty is split-adjusted, case ignored."""
    raw = query.get("adjust")
    if raw is None or not raw.strip():
        return DEFAULT_ADJUST
    return check_adjust(raw.strip().lower() if raw.isascii() else raw)


def _as_of(query: QueryDict) -> date | None:
    """?as_of=YYYY-MM-DD: absent or empty is the live forecast from the last bar."""
    raw = query.get("as_of")
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    # fromisoformat also reads 20240102 and 2024-W01-2: only the documented form.
    if len(text) == 10 and text[4] == text[7] == "-":
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise InvalidInput(
        f"as_of must be a date written YYYY-MM-DD; got {raw[:20]!r}.",
        code="invalid_parameter",
        details={"parameter": "as_of"},
    )


@api_endpoint(methods=("GET", "POST"), permission="ml.run_forecast")
@rate_limited("predict")
def predict(request: HttpRequest, symbol: str) -> JsonResponse:
    ticker = normalise_ticker(symbol)
    adjust = _adjust(request.GET)
    as_of = _as_of(request.GET)
    if as_of is None:
        run, _ = forecast_create(ticker=ticker, adjust=adjust, user=request.user)
        return JsonResponse(forecast_to_dict(run))
    run, _ = hindcast_create(
        ticker=ticker, as_of=as_of, adjust=adjust, user=request.user
    )
    return JsonResponse(
        {
            **forecast_to_dict(run),
            "as_of_requested": as_of.isoformat(),
            "as_of_note": hindcast_note(as_of, run.as_of),
        }
    )
