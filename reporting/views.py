"""/report/<symbol>/: JSON by default, the PDF for ?format=pdf or Accept: application/pdf."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django_weasyprint.compat import content_disposition_header

from core.api.auth import api_endpoint
from core.errors import InvalidInput
from core.market import normalise_ticker
from reporting.services import report_build, report_filename, report_pdf

FORMATS = {"json", "pdf"}


def _wants_pdf(request: HttpRequest) -> bool:
    requested = request.GET.get("format", "").strip().lower()
    if requested and requested not in FORMATS:
        raise InvalidInput(
            f"format must be json or pdf, not {requested[:20]!r}.",
            code="invalid_parameter",
            details={"parameter": "format"},
        )
    if requested:
        return requested == "pdf"
    return "application/pdf" in request.headers.get("Accept", "")


@api_endpoint(methods=("GET",))
def report(request: HttpRequest, symbol: str) -> HttpResponse:
    built = report_build(ticker=normalise_ticker(symbol), user=request.user)
    if not _wants_pdf(request):
        return JsonResponse(built.data)
    response = HttpResponse(report_pdf(built), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        True, report_filename(built.data)
    )
    return response
