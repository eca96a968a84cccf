"""Who is calling: a staff session (with CSRF on writes) or a Bearer API token."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from core.api.responses import error_from_exception, error_response
from core.errors import StockDeskError
from core.services import api_token_authenticate

logger = logging.getLogger(__name__)

View = Callable[..., HttpResponse]


def _no_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse()


def _csrf_failure(request: HttpRequest) -> HttpResponse | None:
    """Run Django's CSRF check by hand: the view is exempt so token calls skip it."""
    check = CsrfViewMiddleware(_no_view)
    check.process_request(request)
    rejected = check.process_view(request, _no_view, (), {})
    if rejected is not None:
        return error_response(
            403,
            "csrf_failed",
            "CSRF check failed: send the csrftoken cookie and the X-CSRFToken header.",
        )
    return None


def _bearer_user(request: HttpRequest) -> User | HttpResponse | None:
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return error_response(
            401, "unauthorized", "Use 'Authorization: Bearer <token>'."
        )
    user = api_token_authenticate(raw_key=key.strip())
    if user is None:
        return error_response(
            401,
            "unauthorized",
            "The API token is unknown, revoked or its user inactive.",
        )
    return user


def api_endpoint(
    *, methods: tuple[str, ...], session_methods: tuple[str, ...] | None = None
) -> Callable[[View], View]:
    """Authenticate, check the method, and turn every failure into the JSON error shape.

    session_methods narrows what a browser session may use: endpoints that call the
    provider accept only POST (with CSRF) from a session, while a token may GET.
    """
    session_methods = session_methods or methods

    def decorate(view: View) -> View:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(
            request: HttpRequest, *args: object, **kwargs: object
        ) -> HttpResponse:
            try:
                bearer = _bearer_user(request)
                if isinstance(bearer, HttpResponse):
                    return bearer
                if bearer is not None:
                    request.user = bearer
                    allowed = methods
                elif request.user.is_authenticated and request.user.is_staff:
                    allowed = session_methods
                    if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE"):
                        failure = _csrf_failure(request)
                        if failure is not None:
                            return failure
                else:
                    return error_response(
                        401,
                        "unauthorized",
                        "Log in as staff or send 'Authorization: Bearer <token>'.",
                    )
                if request.method not in allowed:
                    response = error_response(
                        405,
                        "method_not_allowed",
                        f"{request.method} is not allowed here; use {', '.join(allowed)}.",
                    )
                    response["Allow"] = ", ".join(allowed)
                    return response
                return view(request, *args, **kwargs)
            except StockDeskError as exc:
                return error_from_exception(exc)
            except Exception:
                logger.exception("Unhandled error in %s", request.path)
                return error_response(
                    500,
                    "internal_error",
                    "Something went wrong on our side; it is logged.",
                )

        return wrapper

    return decorate
