"""Alpha Vantage daily-bars client: bounded transport, the plan, keys kept out of logs.

Reading the answer lives beside it: alpha_vantage_notices.py (refusals and notices)
and alpha_vantage_series.py (the bars).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
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

from core.market import normalise_ticker
from core.redaction import RedactingFilter, redacted_excerpt
from ingestion.providers.alpha_vantage_notices import (
    is_full_refusal,
    raise_for_error_body,
)
from ingestion.providers.alpha_vantage_series import FUNCTION, parse_series
from ingestion.providers.base import CallHooks, NoHooks, ProviderResult
from ingestion.providers.errors import (
    MalformedResponse,
    ProviderConfigurationError,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
)

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://www.alphavantage.co/query"
PLANS = ("auto", "free", "premium")
RETRY_STATUSES = (500, 502, 503, 504)
# Failures another attempt may cure; TLS, proxy and URL errors are not among them.
_RETRYABLE_ERRORS = (requests.exceptions.ConnectionError, requests.exceptions.Timeout)
_FINAL_ERRORS = (requests.exceptions.SSLError, requests.exceptions.ProxyError)
_BACKOFF_MAX = 120.0

# compact is the latest 100 trading days, about 145 calendar days; 140 leaves a
# margin for holidays, so a `since` inside it is fully covered by compact.
COMPACT_WINDOW_DAYS = 140

FREE_KEY_NOTE = (
    "The Alpha Vantage key is a free key, so only the latest 100 trading days were "
    "fetched; full history needs a premium key."
)

_BAD_URL_ERRORS = (
    requests.exceptions.InvalidURL,
    requests.exceptions.InvalidSchema,
    requests.exceptions.MissingSchema,
)
_SNIPPET_CHARS = 200
_CONTENT_TYPE_CHARS = 100

# urllib3 writes the full request URL, apikey included, at DEBUG on every request
# and at WARNING on every retry. A filter on the emitting logger runs before the
# record propagates, so it also covers handlers on ancestors (and pytest's caplog).
_URLLIB3_LOGGERS = (
    "urllib3.connectionpool",
    "urllib3.util.retry",
    "urllib3.connection",
    "urllib3.poolmanager",
)
_log_filter = RedactingFilter()
_log_filter_lock = threading.Lock()


def protect_loggers(api_key: str = "") -> None:
    """Attach the shared redacting filter to urllib3's and this module's loggers."""
    with _log_filter_lock:
        if api_key and api_key not in _log_filter.secrets:
            _log_filter.secrets = (*_log_filter.secrets, api_key)
        for name in (*_URLLIB3_LOGGERS, __name__):
            # addFilter ignores a filter already attached, so repeated calls are free.
            logging.getLogger(name).addFilter(_log_filter)


def _utc_now() -> datetime:
    return datetime.now(tz=UTC)


class AlphaVantageProvider:
    """Fetches daily bars for one symbol per call; raises a ProviderError on failure."""

    name = "alpha_vantage"

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        plan: str = "auto",
        hooks: CallHooks | None = None,
        connect_timeout: float = 3.05,
        read_timeout: float = 15.0,
        max_retries: int = 2,
        backoff_factor: float = 0.5,
        session: requests.Session | None = None,
        clock: Callable[[], datetime] | None = None,
        deadline: float | None = None,
    ) -> None:
        """`deadline` is a time.monotonic() instant every call must end by (a
        synchronous request's total time); None bounds only each attempt."""
        if plan not in PLANS:
            raise ValueError(f"plan must be one of {', '.join(PLANS)}, not {plan!r}")
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        self._api_key = (api_key or "").strip()
        self.base_url = base_url
        self.plan = plan
        self.hooks: CallHooks = hooks if hooks is not None else NoHooks()
        self.timeout = (connect_timeout, read_timeout)
        self.max_retries = max_retries
        self.backoff_factor = backoff_factor
        self.deadline = deadline
        self._clock = clock or _utc_now
        self._owns_session = session is None
        self.session = session if session is not None else requests.Session()
        # Retries are this class's own loop (_send), which keeps them inside the
        # deadline. An adapter without retries is mounted on a caller's session too,
        # so no adapter of theirs retries behind the loop's back; only the base
        # URL's origin is claimed, the caller's other adapters stay in charge.
        origin = urlsplit(base_url)
        self.session.mount(f"{origin.scheme}://{origin.netloc}/", HTTPAdapter())
        protect_loggers(self._api_key)

    def __repr__(self) -> str:
        return f"AlphaVantageProvider(base_url={self.base_url!r}, plan={self.plan!r})"

    def close(self) -> None:
        """Close the session if this provider created it."""
        if self._owns_session:
            self.session.close()

    # --- public API -----------------------------------------------------------------

    def fetch_daily(self, symbol: str, since: date | None = None) -> ProviderResult:
        """Daily bars for symbol (ascending, only dates >= since when given)."""
        symbol = normalise_ticker(symbol)
        try:
            return self._fetch_daily(symbol, since)
        except ProviderError as exc:
            # Messages are built from redacted text only, so they are safe to log.
            logger.warning(
                "Alpha Vantage %s symbol=%s failed (%s): %s",
                FUNCTION,
                symbol,
                exc.code,
                exc.message,
            )
            raise

    def _fetch_daily(self, symbol: str, since: date | None) -> ProviderResult:
        if not self._api_key:
            raise ProviderConfigurationError(
                "No Alpha Vantage API key is configured (set ALPHA_VANTAGE_API_KEY).",
                details={"reason": "missing_key"},
            )
        output_size, free_key = self._choose_output_size(since)
        payload = self._call(symbol, output_size)
        if output_size == "full" and is_full_refusal(payload):
            self.hooks.plan_detected("free")
            logger.info(
                "Alpha Vantage refused outputsize=full for symbol=%s: free key; "
                "asking again with outputsize=compact",
                symbol,
            )
            output_size, free_key = "compact", True
            payload = self._call(symbol, output_size)
        raise_for_error_body(payload, symbol, secrets=self._secrets, clock=self._clock)
        bars, served_size, notes = parse_series(
            payload, symbol, output_size, self._secrets
        )
        if served_size == "full":
            self.hooks.plan_detected("premium")
        elif free_key:
            notes.insert(0, FREE_KEY_NOTE)
        if since is not None:
            bars = bars[bars["date"] >= since].reset_index(drop=True)
        logger.info(
            "Alpha Vantage %s symbol=%s outputsize=%s: %d bars",
            FUNCTION,
            symbol,
            served_size,
            len(bars),
        )
        return ProviderResult(
            bars=bars, source=self.name, output_size=served_size, notes=tuple(notes)
        )

    # --- plan -----------------------------------------------------------------------

    def _choose_output_size(self, since: date | None) -> tuple[str, bool]:
        """(outputsize to ask for, whether that choice was forced by a free key)."""
        if since is not None:
            today = self._clock().astimezone(UTC).date()
            if (today - since).days <= COMPACT_WINDOW_DAYS:
                return "compact", False
        if self.plan == "premium":
            return "full", False
        if self.plan == "free":
            return "compact", True
        if self.hooks.known_plan() == "free":
            return "compact", True
        return "full", False

    # --- transport ------------------------------------------------------------------

    @property
    def _secrets(self) -> list[str]:
        return [self._api_key]

    def _call(self, symbol: str, output_size: str) -> dict[str, Any]:
        self._require_time(symbol)
        self.hooks.before_call()
        # Waiting for the call slot (spacing, other workers' calls) takes time too.
        self._require_time(symbol)
        params = {
            "function": FUNCTION,
            "symbol": symbol,
            "outputsize": output_size,
            "datatype": "json",
            "apikey": self._api_key,
        }
        logger.info(
            "Alpha Vantage %s symbol=%s outputsize=%s", FUNCTION, symbol, output_size
        )
        response, attempts = self._send(symbol, params)
        with response:
            status = response.status_code
            # Still 5xx here means the retries are used up.
            if status >= 500:
                raise ProviderUnavailable(
                    f"Alpha Vantage is unavailable (HTTP {status} after "
                    f"{_plural(attempts, 'attempt')}).",
                    details={
                        "symbol": symbol,
                        "http_status": status,
                        "attempts": attempts,
                    },
                )
            if status != 200:
                raise ProviderError(
                    f"Alpha Vantage answered HTTP {status} instead of prices.",
                    details={
                        "symbol": symbol,
                        "http_status": status,
                        "body_start": self._snippet(response.content),
                    },
                )
            return self._decode(response.content, response.headers.get("Content-Type"))

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
            self._back_off(symbol, attempts, failure)

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

    def _back_off(self, symbol: str, attempts: int, failure: str) -> None:
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
            FUNCTION,
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
                else f"{_plural(attempts, 'attempt')}"
            )
        else:
            details["last_failure"] = failure
            what = f"{failure} after {_plural(attempts, 'attempt')}"
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
        after = f" after {_plural(attempts, 'attempt')}"
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

    def _decode(self, content: bytes, content_type: str | None) -> dict[str, Any]:
        try:
            payload = json.loads(content.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            raise MalformedResponse(
                "Alpha Vantage sent an answer that is not JSON.",
                details={
                    "content_type": redacted_excerpt(
                        content_type or "", _CONTENT_TYPE_CHARS, self._secrets
                    ),
                    "body_start": self._snippet(content),
                },
            ) from None
        if not isinstance(payload, dict):
            raise MalformedResponse(
                "Alpha Vantage sent JSON that is not an object.",
                details={"body_start": self._snippet(content)},
            )
        return payload

    def _snippet(self, content: bytes) -> str:
        # Decoded and redacted whole, then cut: a key across the cut would be kept
        # in part (redact() finds only whole keys).
        text = content.decode("utf-8", errors="replace")
        return redacted_excerpt(text, _SNIPPET_CHARS, self._secrets)


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


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
