"""/fetch/<symbol>/: fetch and store daily prices now, or enqueue the fetch."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from core.api.auth import api_endpoint
from core.api.validation import parse_flag
from core.market import normalise_ticker
from core.models import Job
from core.selectors import job_to_dict
from core.services import job_enqueue
from ingestion.services.fetch import prices_fetch


@api_endpoint(methods=("GET", "POST"), session_methods=("POST",))
def fetch(request: HttpRequest, symbol: str) -> JsonResponse:
    ticker = normalise_ticker(symbol)
    if parse_flag(request.GET, "async"):
        job = job_enqueue(kind=Job.Kind.FETCH, symbol=ticker, user=request.user)
        body = job_to_dict(job)
        response = JsonResponse({"job": body, "url": body["url"]}, status=202)
        response["Location"] = body["url"]
        return response
    return JsonResponse(prices_fetch(ticker=ticker).as_dict())
