"""Who is calling and what they may do: a staff session (with CSRF on writes) or a
Bearer API token, acting with its owner's permissions (DESIGN §11)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from django.contrib.auth.models import AnonymousUser, User
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


def user_may(user: User | AnonymousUser, permission: str) -> bool:
    """Whether `user` may do what `permission` guards: active staff holding it.

    A superuser holds every permission; a user who is not staff holds none here,
    whatever is assigned, as in the admin.
    """
    return user.is_active and user.is_staff and user.has_perm(permission)


def _method_refusal(
    request: HttpRequest, allowed: tuple[str, ...]
) -> HttpResponse | None:
    """A 405 in the JSON error shape, with Allow, unless the method is in `allowed`.

    One rule for every endpoint, HEAD and OPTIONS included: a method an endpoint does
    not list is refused. HEAD served as GET would run the work of the endpoints that
    do work; the 405 of a HEAD keeps its JSON headers, the body dropped as HTTP says.
    """
    if request.method in allowed:
        return None
    response = error_response(
        405,
        "method_not_allowed",
        f"{(request.method or '')[:20]} is not allowed here; use {', '.join(allowed)}.",
    )
    response["Allow"] = ", ".join(allowed)
    return response


def public_endpoint(*, methods: tuple[str, ...]) -> Callable[[View], View]:
    """Check the method of an endpoint open to anyone (/healthz), answering refusals
    in the JSON error shape. It changes nothing, so it needs no CSRF check."""

    def decorate(view: View) -> View:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(
            request: HttpRequest, *args: object, **kwargs: object
        ) -> HttpResponse:
            refusal = _method_refusal(request, methods)
            if refusal is not None:
                return refusal
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def api_endpoint(
    *,
    methods: tuple[str, ...],
    session_methods: tuple[str, ...] | None = None,
    permission: str | None = None,
) -> Callable[[View], View]:
    """Authenticate, check the method and the permission, and turn every failure into
    the JSON error shape.

    session_methods narrows what a browser session may use: endpoints that call the
    provider accept only POST (with CSRF) from a session, while a token may GET.
    permission ("app_label.codename") is what the caller needs to get past the
    checks (`user_may`); without one any authenticated caller may (a read).
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
                else:
                    return error_response(
                        401,
                        "unauthorized",
                        "Log in as staff or send 'Authorization: Bearer <token>'.",
                    )
                refusal = _method_refusal(request, allowed)
                if refusal is not None:
                    return refusal
                if bearer is None and request.method not in ("GET", "HEAD"):
                    failure = _csrf_failure(request)
                    if failure is not None:
                        return failure
                if permission is not None and not user_may(request.user, permission):
                    return error_response(
                        403,
                        "forbidden",
                        "Your account may read stored results but not do this: it "
                        f"needs staff status and the {permission} permission (the "
                        "Analyst role).",
                        {"permission": permission},
                    )
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
