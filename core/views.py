"""Health check, job status, and the JSON error pages for every non-admin path."""

from __future__ import annotations

import logging

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.csrf import csrf_failure as django_csrf_failure

from core.api.auth import api_endpoint, public_endpoint
from core.api.responses import error_response
from core.errors import NotFound
from core.models import Job
from core.selectors import job_to_dict

logger = logging.getLogger(__name__)


@public_endpoint(methods=("GET",))
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        logger.exception("Health check: database unreachable")
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@api_endpoint(methods=("GET",))
def job_detail(request: HttpRequest, job_id: int) -> JsonResponse:
    jobs = Job.objects.all()
    # Staff read every job, as before roles: only staff start work, and a fetch may
    # answer with another's Job already queued for the ticker. The token of a user
    # who is not staff reads the jobs they started; another's is "no such job", so
    # ids do not tell what others run.
    if not request.user.is_staff:
        jobs = jobs.filter(created_by_id=request.user.pk)
    job = jobs.filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"There is no job {job_id}.", code="unknown_job")
    return JsonResponse(job_to_dict(job))


def _is_admin(request: HttpRequest) -> bool:
    return request.path.startswith("/admin/")


# Django calls these for errors raised outside our endpoint decorator (unknown URLs,
# middleware failures); the admin keeps its HTML pages, everything else gets JSON.


def handler_400(
    request: HttpRequest, exception: Exception | None = None
) -> HttpResponse:
    if _is_admin(request):
        return defaults.bad_request(request, exception)
    return error_response(400, "bad_request", "The request could not be understood.")


def handler_403(
    request: HttpRequest, exception: Exception | None = None
) -> HttpResponse:
    if _is_admin(request):
        return defaults.permission_denied(request, exception)
    return error_response(403, "forbidden", "You may not do this.")


def handler_404(
    request: HttpRequest, exception: Exception | None = None
) -> HttpResponse:
    if _is_admin(request):
        return defaults.page_not_found(request, exception)
    return error_response(
        404, "not_found", f"Nothing is served at {request.path[:100]!r}."
    )


def handler_500(request: HttpRequest) -> HttpResponse:
    if _is_admin(request):
        return defaults.server_error(request)
    return error_response(
        500, "internal_error", "Something went wrong on our side; it is logged."
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if _is_admin(request):
        return django_csrf_failure(request, reason)
    return error_response(403, "csrf_failed", "CSRF check failed.")
