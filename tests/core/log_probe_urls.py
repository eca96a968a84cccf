"""The probe's URL map (tests/core/log_probe.py): the real one, plus two views that
log, one of which then fails with the Alpha Vantage key in its error."""

from __future__ import annotations

import logging
import os

from django.http import HttpRequest, JsonResponse
from django.urls import path

import core.urls

logger = logging.getLogger("probe.views")


def view_log(request: HttpRequest) -> JsonResponse:
    logger.info("probe view ran")
    return JsonResponse({"ok": True})


def view_fail(request: HttpRequest) -> JsonResponse:
    secret = os.environ["ALPHA_VANTAGE_API_KEY"]
    upstream_url = f"https://provider.invalid/query?apikey={secret}"
    logger.info("probe view about to fail calling %s", upstream_url)
    raise RuntimeError(f"provider refused {upstream_url} for key {secret}")


urlpatterns = [
    path("probe/log/", view_log),
    path("probe/fail/", view_fail),
    *core.urls.urlpatterns,
]
handler404 = core.urls.handler404
handler500 = core.urls.handler500
