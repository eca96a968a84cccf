"""Per-user request rate limits on the endpoints that do work (django-ratelimit)."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django_ratelimit.core import get_usage  # type: ignore[import-untyped]

from core.errors import StockDeskError

View = Callable[..., HttpResponse]


class TooManyRequests(StockDeskError):
    """The caller's own request rate, as opposed to the price provider's limit."""

    status = 429
    code = "rate_limited"


def _requester(group: str, request: HttpRequest) -> str:
    """The counter's key: the user behind the session or the Bearer token."""
    if not request.user.is_authenticated:
        # Only reachable when the decorator sits above api_endpoint, which sets
        # request.user from the token: then every token call would share one counter.
        raise ImproperlyConfigured(
            "rate_limited must be applied below api_endpoint, on an authenticated view."
        )
    return f"user:{request.user.pk}"


def rate_limited(
    group: str, *, rate_setting: str = "RATELIMIT_WORK"
) -> Callable[[View], View]:
    """Count each call against the caller's rate for `group` (one counter per user and
    group, in the shared cache) and refuse a call over it with 429 and Retry-After.

    Goes directly below @api_endpoint, which authenticates the caller and turns the
    refusal into the JSON error shape. The rate is read from settings per call.
    """

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(
            request: HttpRequest, *args: object, **kwargs: object
        ) -> HttpResponse:
            rate = getattr(settings, rate_setting)
            usage = get_usage(
                request, group=group, key=_requester, rate=rate, increment=True
            )
            if usage is not None and usage["should_limit"]:
                # time_left is -1 when the cache could not count (django-ratelimit
                # then refuses); a client should still wait a little.
                retry_after = max(int(usage["time_left"]), 1)
                raise TooManyRequests(
                    f"Too many {group} requests: the limit is {rate} per user. "
                    f"Try again in {retry_after} s.",
                    details={"limit": rate, "scope": group},
                    retry_after=retry_after,
                )
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
