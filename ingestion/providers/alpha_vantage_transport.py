"""Alpha Vantage transport: one GET, retried within the deadline, failures named.

AlphaVantageProvider (alpha_vantage.py) builds on this: it asks, this sends.
Nothing here reads the answer beyond its HTTP status.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.util import Timeout

from ingestion.providers.alpha_vantage_series import FUNCTION
from ingestion.providers.errors import (
    ProviderConfigurationError,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
)

# The provider's logger: retry lines are read (and redacted by protect_loggers)
# under the name the provider has always logged with.
logger = logging.getLogger("ingestion.providers.alpha_vantage")

RETRY_STATUSES = (500, 502, 503, 504)
# Failures another attempt may cure; TLS, proxy and URL errors are not among them.
_RETRYABLE_ERRORS = (requests.exceptions.ConnectionError, requests.exceptions.Timeout)
_FINAL_ERRORS = (requests.exceptions.SSLError, requests.exceptions.ProxyError)
_BACKOFF_MAX = 120.0

_BAD_URL_ERRORS = (
    requests.exceptions.InvalidURL,
    requests.exceptions.InvalidSchema,
    requests.exceptions.MissingSchema,
)


class AlphaVantageTransport:
    """The session, timeouts, retries and deadline behind AlphaVantageProvider."""

    def __init__(
        self,
        *,
        base_url: str,
        connect_timeout: float,
        read_timeout: float,
        max_retries: int,
        backoff_factor: float,
        session: requests.Session | None,
        deadline: float | None,
    ) -> None:
        """`deadline` is a time.monotonic() instant every call must end by (a
        synchronous request's total time); None bounds only each attempt."""
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        self.base_url = base_url
        self.timeout = (connect_timeout, read_timeout)
        self.max_retries = max_retries
        self.backoff_factor = backoff_factor
        self.deadline = deadline
        self._owns_session = session is None
        self.session = session if session is not None else requests.Session()
        # Retries are this class's own loop (_send), which keeps them inside the
        # deadline. An adapter without retries is mounted on a caller's session too,
        # so no adapter of theirs retries behind the loop's back; only the base
        # URL's origin is claimed, the caller's other adapters stay in charge.
        origin = urlsplit(base_url)
        self.session.mount(f"{origin.scheme}://{origin.netloc}/", HTTPAdapter())

    def close(self) -> None:
        """Close the session if this provider created it."""
        if self._owns_session:
            self.session.close()

    def _send(
        self, symbol: str, params: dict[str, str]
    ) -> tuple[requests.Response, int]:
        """GET, retried on 5xx, timeouts and connection errors; (response, attempts).

        With a deadline, each attempt's timeouts are cut to the time left, and no
        attempt (nor the backoff before it) starts that could not begin in time.
        """
        attempts = 0
        while True:
            attempts += 1
            timeout = self._attempt_timeout(symbol, attempts - 1)
            try:
                response = self.session.get(
                    self.base_url, params=params, timeout=timeout
                )
            except requests.RequestException as exc:
                kind = _transport_kind(exc)
                failure = _FAILURE_WORDS.get(kind, kind)
                retryable = isinstance(exc, _RETRYABLE_ERRORS) and not isinstance(
                    exc, _FINAL_ERRORS
                )
                # `from None`: the requests exception's text holds the URL with the key.
                if retryable and self._out_of_time():
                    raise self._deadline_error(symbol, attempts, failure) from None
                if not retryable or attempts > self.max_retries:
                    raise self._transport_error(exc, symbol, attempts) from None
            else:
                status = response.status_code
                if status not in RETRY_STATUSES or attempts > self.max_retries:
                    return response, attempts
                response.close()
                failure = f"HTTP {status}"
            self._back_off(params.get("function", FUNCTION), symbol, attempts, failure)

    def _time_left(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def _out_of_time(self) -> bool:
        left = self._time_left()
        return left is not None and left <= 0

    def _require_time(self, symbol: str) -> None:
        if self._out_of_time():
            raise self._deadline_error(symbol, 0, None)

    def _attempt_timeout(self, symbol: str, attempts: int) -> Any:
        """(connect, read) seconds; with a deadline, a urllib3 Timeout whose total is
        the time left, so connecting and reading together cannot outlast it.

        requests hands a urllib3 Timeout to urllib3 unchanged (HTTPAdapter.send),
        though its annotations name only numbers and tuples: hence Any.
        """
        left = self._time_left()
        if left is None:
            return self.timeout
        if left <= 0:
            raise self._deadline_error(symbol, attempts, None)
        connect, read = self.timeout
        return Timeout(connect=min(connect, left), read=min(read, left), total=left)

    def _back_off(
        self, function: str, symbol: str, attempts: int, failure: str
    ) -> None:
        """Wait before the next attempt as urllib3's Retry would (none before the
        first retry, then backoff_factor * 2**n); give up if that ends past the
        deadline."""
        delay = 0.0
        if attempts > 1:
            delay = min(self.backoff_factor * 2 ** (attempts - 1), _BACKOFF_MAX)
        left = self._time_left()
        if left is not None and left <= delay:
            raise self._deadline_error(symbol, attempts, failure)
        logger.warning(
            "Retry %d of %d for Alpha Vantage %s symbol=%s after %s, in %.1f s",
            attempts,
            self.max_retries,
            function,
            symbol,
            failure,
            delay,
        )
        if delay > 0:
            time.sleep(delay)

    def _deadline_error(
        self, symbol: str, attempts: int, failure: str | None
    ) -> ProviderTimeout:
        details: dict[str, Any] = {
            "symbol": symbol,
            "reason": "deadline",
            "attempts": attempts,
        }
        if failure is None:
            what = (
                "no request could be sent in time"
                if attempts == 0
                else f"{plural(attempts, 'attempt')}"
            )
        else:
            details["last_failure"] = failure
            what = f"{failure} after {plural(attempts, 'attempt')}"
        return ProviderTimeout(
            f"Alpha Vantage did not answer within this fetch's deadline ({what}); "
            "nothing was stored.",
            details=details,
        )

    def _transport_error(
        self, exc: requests.RequestException, symbol: str, attempts: int
    ) -> ProviderError:
        if isinstance(exc, _BAD_URL_ERRORS):
            return ProviderConfigurationError(
                "The Alpha Vantage base URL is not a valid URL "
                "(check ALPHA_VANTAGE_BASE_URL).",
                details={"reason": "bad_base_url", "error": type(exc).__name__},
            )
        kind = _transport_kind(exc)
        after = f" after {plural(attempts, 'attempt')}"
        if kind == "read_timeout":
            message = f"Alpha Vantage did not answer in time (read timeout{after})."
        elif kind == "connect_timeout":
            message = f"Could not reach Alpha Vantage in time (connect timeout{after})."
        elif kind == "connection":
            message = f"Could not connect to Alpha Vantage (connection failed{after})."
        else:
            message = f"The connection to Alpha Vantage broke off ({kind}{after})."
        details: dict[str, Any] = {
            "symbol": symbol,
            "reason": kind,
            "error": type(exc).__name__,
            "attempts": attempts,
        }
        return ProviderUnavailable(message, details=details)


_FAILURE_WORDS = {
    "read_timeout": "read timeout",
    "connect_timeout": "connect timeout",
    "connection": "connection failed",
}


def _transport_kind(exc: requests.RequestException) -> str:
    """What went wrong: read_timeout, connect_timeout, connection, or the type."""
    reason: object = exc.args[0] if exc.args else None
    # The adapter has no retries, but urllib3 still wraps connection failures.
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    if isinstance(exc, requests.exceptions.ReadTimeout) or isinstance(
        reason, ReadTimeoutError
    ):
        return "read_timeout"
    if isinstance(reason, NewConnectionError):
        return "connection"
    if isinstance(exc, requests.exceptions.ConnectTimeout) or isinstance(
        reason, ConnectTimeoutError
    ):
        return "connect_timeout"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "connection"
    return type(exc).__name__


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
