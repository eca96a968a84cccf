"""The one JSON error shape every endpoint answers with, and JSON success helpers."""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse

from core.errors import StockDeskError


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    *,
    retry_after: int | None = None,
) -> JsonResponse:
    response = JsonResponse(
        {"error": {"code": code, "message": message, "details": details or {}}},
        status=status,
    )
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="stockdesk"'
    return response


def error_from_exception(exc: StockDeskError) -> JsonResponse:
    return error_response(
        exc.status, exc.code, exc.message, exc.details, retry_after=exc.retry_after
    )
