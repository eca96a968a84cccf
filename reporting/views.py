"""/report/<symbol>/?adjust=&backtest=&sweep=: JSON by default, the PDF for
?format=pdf or Accept: PDF."""

from __future__ import annotations

from collections.abc import Mapping

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.request import MediaType
from django_weasyprint.compat import content_disposition_header

from backtesting.params import parse_adjust
from core.api.auth import api_endpoint
from core.api.ratelimits import rate_limited
from core.errors import InvalidInput
from core.market import normalise_ticker
from reporting.pdf import pdf_render_slot
from reporting.services import (
    BuiltReport,
    parse_report_choice,
    report_build,
    report_filename,
    report_pdf,
)

FORMATS = {"json", "pdf"}


def _explicit_adjust(params: Mapping[str, str]) -> str | None:
    """The `adjust` asked for, or None: a chosen run's report reads its own series."""
    raw = params.get("adjust")
    return parse_adjust(params) if raw is not None and raw.strip() else None


def _wants_pdf(request: HttpRequest) -> bool:
    """?format= decides; otherwise the PDF only when Accept prefers it to JSON.

    JSON is the default: no Accept, */*, a browser's Accept (both only through */*)
    and an Accept that allows neither get JSON; of two explicit types with the same
    q the first listed wins. q=0 means "not acceptable" (RFC 9110 12.5.1), decided by
    the most specific range that matches: Django's accepted_types drops q=0 ranges,
    so "application/pdf;q=0, */*" would otherwise reach the PDF through */*.
    """
    raw = request.GET.get("format", "")
    requested = raw.strip().lower() if raw.isascii() else raw
    if requested and requested not in FORMATS:
        raise InvalidInput(
            f"format must be json or pdf, not {requested[:20]!r}.",
            code="invalid_parameter",
            details={"parameter": "format"},
        )
    if requested:
        return requested == "pdf"
    pdf = "application/pdf"
    if request.get_preferred_type(["application/json", pdf]) != pdf:
        return False
    ranges = [
        MediaType(token)
        for token in request.headers.get("Accept", "").split(",")
        if token.strip()
    ]
    matching = [
        media_range for media_range in ranges if MediaType(pdf).match(media_range)
    ]
    decisive = max(
        matching, key=lambda media_range: media_range.specificity, default=None
    )
    return decisive is not None and decisive.quality > 0


@api_endpoint(methods=("GET",), permission="reporting.generate_report")
@rate_limited("report")
def report(request: HttpRequest, symbol: str) -> HttpResponse:
    ticker = normalise_ticker(symbol)
    backtest_id, sweep_id = parse_report_choice(request.GET)
    adjust = _explicit_adjust(request.GET)

    def build() -> BuiltReport:
        return report_build(
            ticker=ticker,
            adjust=adjust,
            user=request.user,
            backtest_id=backtest_id,
            sweep_id=sweep_id,
        )

    if not _wants_pdf(request):
        return JsonResponse(build().data)
    # The whole PDF request holds a render slot, building the report (which may run a
    # backtest and a forecast) included, so a thread stays free for /healthz.
    with pdf_render_slot():
        built = build()
        pdf = report_pdf(built)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        True, report_filename(built.data)
    )
    return response
