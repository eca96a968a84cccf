"""/fetch/<symbol>/: fetch and store daily prices now, or enqueue the fetch."""

from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpRequest, JsonResponse

from core.api.auth import api_endpoint
from core.api.ratelimits import rate_limited
from core.api.validation import parse_flag
from core.market import normalise_ticker
from core.models import Job
from core.selectors import job_to_dict
from core.services import job_enqueue
from ingestion.providers.errors import ProviderTimeout
from ingestion.services.fetch import prices_fetch


@api_endpoint(
    methods=("GET", "POST"), session_methods=("POST",), permission="core.run_fetch"
)
@rate_limited("fetch")
def fetch(request: HttpRequest, symbol: str) -> JsonResponse:
    ticker = normalise_ticker(symbol)
    if parse_flag(request.GET, "async"):
        job = job_enqueue(kind=Job.Kind.FETCH, symbol=ticker, user=request.user)
        body = job_to_dict(job)
        response = JsonResponse({"job": body, "url": body["url"]}, status=202)
        response["Location"] = body["url"]
        return response
    deadline = time.monotonic() + settings.FETCH_SYNC_DEADLINE
    try:
        result = prices_fetch(ticker=ticker, deadline=deadline)
    except ProviderTimeout as exc:
        # Only the request is bound to the deadline; a background Job is not.
        raise ProviderTimeout(
            f"{exc.message} Ask again with ?async=1 to fetch in the background.",
            details={**exc.details, "deadline_seconds": settings.FETCH_SYNC_DEADLINE},
            retry_after=exc.retry_after,
        ) from exc
    return JsonResponse(result.as_dict())
