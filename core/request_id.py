"""The request id middleware: names each request, answers the name, logs one line for it."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponseBase

from core.log_config import NO_REQUEST_ID, request_id_set

REQUEST_ID_HEADER = "X-Request-ID"
# What a caller (or a proxy in front) may name its request: it is written into every
# log line and sent back in a header, so nothing that could forge a line or a header.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# The load balancer and the container health check call this every few seconds:
# thousands of lines a day that say only "still up". Below INFO they are kept out of
# the logs at the default level; a failing check still logs its own error (core.views).
_QUIET_PATHS = frozenset({"/healthz"})

access_logger = logging.getLogger("core.access")


def request_id_for(incoming: str | None) -> str:
    """The caller's X-Request-ID when it is short and plain, else a new one."""
    if incoming and _SAFE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def _request_id_forget(**kwargs: Any) -> None:
    # After the response is closed: Django logs its 4xx warnings once the middleware
    # has returned, so the id stays set until then rather than until this returns.
    request_id_set(NO_REQUEST_ID)


class RequestIdMiddleware:
    """Sets the request id for the logs and the X-Request-ID answer header, and
    writes the access line (method, path without the query, status, duration)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response
        request_finished.connect(_request_id_forget, dispatch_uid="core.request_id")

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request_id = request_id_for(request.headers.get(REQUEST_ID_HEADER))
        request_id_set(request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        response[REQUEST_ID_HEADER] = request_id
        quiet = request.path in _QUIET_PATHS and response.status_code < 400
        access_logger.log(
            logging.DEBUG if quiet else logging.INFO,
            "%s %s %s %.1f ms",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
            extra={
                "method": request.method,
                # The path only: a query string may carry a token.
                "path": request.path,
                "status": response.status_code,
                "duration_ms": duration_ms,
            },
        )
        return response
