"""Alpha Vantage daily-bars client: bounded transport, typed failures, strict rows."""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.util.retry import Retry

from core.errors import InvalidInput
from core.redaction import RedactingFilter, redact
from ingestion.providers.base import BAR_COLUMNS, CallHooks, NoHooks, ProviderResult
from ingestion.providers.errors import (
    MalformedResponse,
    NoData,
    ProviderConfigurationError,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    SymbolNotFound,
)

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://www.alphavantage.co/query"
FUNCTION = "TIME_SERIES_DAILY"
SERIES_KEY = "Time Series (Daily)"
PLANS = ("auto", "free", "premium")
RETRY_STATUSES = (500, 502, 503, 504)

# compact is the latest 100 trading days, about 145 calendar days; 140 leaves a
# margin for holidays, so a `since` inside it is fully covered by compact.
COMPACT_WINDOW_DAYS = 140
BURST_RETRY_AFTER = 2
MINUTE_RETRY_AFTER = 60
MIN_DAILY_RETRY_AFTER = 60

FREE_KEY_NOTE = (
    "The Alpha Vantage key is a free key, so only the latest 100 trading days were "
    "fetched; full history needs a premium key."
)

# The rate-limit texts also mention "premium plans" and "API key", so they are
# matched before anything else. Burst wording is checked before daily wording
# because the burst text also quotes the daily limit ("25 requests per day").
_BURST_PHRASES = ("spreading out", "per second")
_MINUTE_PHRASES = ("calls per minute", "call frequency", "higher api call volume")
_DAILY_PHRASES = ("requests per day", "rate limit")
_DAILY_COUNT = re.compile(r"(\d[\d,]*)\s+(?:requests|calls)\s+per\s+day", re.IGNORECASE)

_DATE_KEY = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_INTEGER = re.compile(r"[+-]?\d+")
_FIELD_PREFIX = re.compile(r"^\s*\d+\.\s*")
_PRICE_FIELDS = ("open", "high", "low", "close")
_INT64_MAX = 2**63 - 1
_BAD_URL_ERRORS = (
    requests.exceptions.InvalidURL,
    requests.exceptions.InvalidSchema,
    requests.exceptions.MissingSchema,
)
_SNIPPET_CHARS = 200

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


def seconds_until_next_utc_midnight(now: datetime) -> int:
    """Seconds from now to the next 00:00 UTC, never less than a minute."""
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    midnight = datetime.combine(
        now.date() + timedelta(days=1), datetime.min.time(), UTC
    )
    return max(MIN_DAILY_RETRY_AFTER, math.ceil((midnight - now).total_seconds()))


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
    ) -> None:
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
        self._clock = clock or _utc_now
        self._owns_session = session is None
        self.session = session if session is not None else requests.Session()
        # Mounted on a caller's session too: max_retries and backoff_factor are
        # this class's contract, whoever built the session. Only the base URL's
        # origin is claimed, so the caller's other adapters stay in charge elsewhere.
        origin = urlsplit(base_url)
        self.session.mount(
            f"{origin.scheme}://{origin.netloc}/",
            HTTPAdapter(max_retries=self._retry()),
        )
        protect_loggers(self._api_key)

    def __repr__(self) -> str:
        return f"AlphaVantageProvider(base_url={self.base_url!r}, plan={self.plan!r})"

    def close(self) -> None:
        """Close the session if this provider created it."""
        if self._owns_session:
            self.session.close()

    def _retry(self) -> Retry:
        return Retry(
            total=self.max_retries,
            connect=self.max_retries,
            read=self.max_retries,
            status=self.max_retries,
            other=0,
            allowed_methods=frozenset({"GET"}),
            status_forcelist=RETRY_STATUSES,
            backoff_factor=self.backoff_factor,
            raise_on_status=False,
            # A 503 asking for an hour's wait would otherwise park a worker that long;
            # the caller's Job retry is the right place for long waits.
            respect_retry_after_header=False,
        )

    # --- public API -----------------------------------------------------------------

    def fetch_daily(self, symbol: str, since: date | None = None) -> ProviderResult:
        """Daily bars for symbol (ascending, only dates >= since when given)."""
        symbol = (symbol or "").strip().upper()
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
        if not symbol:
            raise InvalidInput("A symbol is required.", details={"field": "symbol"})
        if not self._api_key:
            raise ProviderConfigurationError(
                "No Alpha Vantage API key is configured (set ALPHA_VANTAGE_API_KEY).",
                details={"reason": "missing_key"},
            )
        output_size, free_key = self._choose_output_size(since)
        payload = self._call(symbol, output_size)
        if output_size == "full" and _is_full_refusal(payload):
            self.hooks.plan_detected("free")
            logger.info(
                "Alpha Vantage refused outputsize=full for symbol=%s: free key; "
                "asking again with outputsize=compact",
                symbol,
            )
            output_size, free_key = "compact", True
            payload = self._call(symbol, output_size)
        self._raise_for_error_body(payload, symbol)
        bars, served_size, notes = _parse_series(
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
        self.hooks.before_call()
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
        try:
            response = self.session.get(
                self.base_url, params=params, timeout=self.timeout
            )
        except requests.RequestException as exc:
            # `from None`: the requests exception's text holds the URL with the key.
            raise self._transport_error(exc, symbol) from None
        with response:
            status = response.status_code
            # Still 5xx here means urllib3 has used up its retries on it.
            if status >= 500:
                attempts = _attempts(response)
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

    def _transport_error(
        self, exc: requests.RequestException, symbol: str
    ) -> ProviderError:
        if isinstance(exc, _BAD_URL_ERRORS):
            return ProviderConfigurationError(
                "The Alpha Vantage base URL is not a valid URL "
                "(check ALPHA_VANTAGE_BASE_URL).",
                details={"reason": "bad_base_url", "error": type(exc).__name__},
            )
        kind, exhausted = _transport_kind(exc)
        attempts = self.max_retries + 1 if exhausted else None
        after = f" after {_plural(attempts, 'attempt')}" if attempts else ""
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
        }
        if attempts:
            details["attempts"] = attempts
        return ProviderUnavailable(message, details=details)

    def _decode(self, content: bytes, content_type: str | None) -> dict[str, Any]:
        try:
            payload = json.loads(content.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            raise MalformedResponse(
                "Alpha Vantage sent an answer that is not JSON.",
                details={
                    "content_type": content_type or "",
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
        text = content[: _SNIPPET_CHARS * 4].decode("utf-8", errors="replace")
        return redact(text[:_SNIPPET_CHARS], self._secrets)

    # --- classification (ALPHA_VANTAGE.md §3.3, in that order) ----------------------

    def _raise_for_error_body(self, payload: Mapping[str, Any], symbol: str) -> None:
        if "Error Message" in payload:
            raise self._error_message(str(payload["Error Message"]), symbol)
        notice = _notice_text(payload)
        if notice is not None:
            raise self._notice_error(notice, symbol)

    def _error_message(self, text: str, symbol: str) -> ProviderError:
        provider_message = redact(text, self._secrets)
        lowered = text.lower()
        if "apikey" in lowered:
            return ProviderConfigurationError(
                "Alpha Vantage rejected the API key as invalid or missing "
                "(check ALPHA_VANTAGE_API_KEY).",
                details={"reason": "invalid_key", "provider_message": provider_message},
            )
        if "does not exist" in lowered:
            return ProviderConfigurationError(
                f"Alpha Vantage does not offer the function {FUNCTION}; "
                "StockDesk is asking for the wrong thing.",
                details={
                    "reason": "unknown_function",
                    "provider_message": provider_message,
                },
            )
        return SymbolNotFound(
            f"Alpha Vantage does not know the symbol '{symbol}'.",
            details={"symbol": symbol, "provider_message": provider_message},
        )

    def _notice_error(self, text: str, symbol: str) -> ProviderError:
        provider_message = redact(text, self._secrets)
        kind = _notice_kind(text)
        if kind == "rate_limit":
            return self._rate_limited(text, provider_message)
        if kind == "premium_endpoint":
            return ProviderConfigurationError(
                f"Alpha Vantage says {FUNCTION} is a premium endpoint; "
                "this key cannot use it.",
                details={
                    "reason": "premium_endpoint",
                    "provider_message": provider_message,
                },
            )
        if kind == "demo":
            return ProviderConfigurationError(
                "Alpha Vantage refused the 'demo' API key; configure a real key "
                "(check ALPHA_VANTAGE_API_KEY).",
                details={"reason": "demo_key", "provider_message": provider_message},
            )
        return ProviderError(
            f"Alpha Vantage answered with a notice instead of prices for '{symbol}'.",
            details={"symbol": symbol, "provider_message": provider_message},
        )

    def _rate_limited(self, text: str, provider_message: str) -> RateLimited:
        lowered = text.lower()
        if any(phrase in lowered for phrase in _BURST_PHRASES):
            return RateLimited(
                "Alpha Vantage burst limit reached: requests on this key came too "
                "close together; try again in a few seconds.",
                details={"limit": "burst", "provider_message": provider_message},
                retry_after=BURST_RETRY_AFTER,
            )
        if any(phrase in lowered for phrase in _MINUTE_PHRASES):
            return RateLimited(
                "Alpha Vantage rate limit reached: too many calls per minute on this "
                "key; try again in a minute.",
                details={"limit": "burst", "provider_message": provider_message},
                retry_after=MINUTE_RETRY_AFTER,
            )
        count = _DAILY_COUNT.search(text)
        quota = (
            f"{count.group(1)} requests per day" if count else "the daily request quota"
        )
        return RateLimited(
            f"Alpha Vantage rate limit reached: {quota} on this key; "
            "try again after the daily reset.",
            details={"limit": "daily", "provider_message": provider_message},
            retry_after=seconds_until_next_utc_midnight(self._clock()),
        )


def _notice_text(payload: Mapping[str, Any]) -> str | None:
    # Both keys are checked: "Note" (2018-2023) and "Information" (since) carry the
    # same kinds of notice.
    texts = [str(payload[key]) for key in ("Information", "Note") if key in payload]
    return " ".join(texts) if texts else None


def _notice_kind(text: str) -> str:
    lowered = text.lower()
    if any(p in lowered for p in (*_BURST_PHRASES, *_MINUTE_PHRASES, *_DAILY_PHRASES)):
        return "rate_limit"
    if "premium feature" in lowered and "outputsize=full" in lowered:
        return "premium_outputsize"
    if "premium endpoint" in lowered:
        return "premium_endpoint"
    if "demo" in lowered:
        return "demo"
    return "other"


def _is_full_refusal(payload: Mapping[str, Any]) -> bool:
    if "Error Message" in payload:
        return False
    notice = _notice_text(payload)
    return notice is not None and _notice_kind(notice) == "premium_outputsize"


def _transport_kind(exc: requests.RequestException) -> tuple[str, bool]:
    """(what went wrong, whether urllib3 gave up after exhausting its retries)."""
    reason = exc.args[0] if exc.args else None
    exhausted = isinstance(reason, MaxRetryError)
    if exhausted:
        reason = reason.reason
    if isinstance(exc, requests.exceptions.ReadTimeout) or isinstance(
        reason, ReadTimeoutError
    ):
        return "read_timeout", exhausted
    if isinstance(reason, NewConnectionError):
        return "connection", exhausted
    if isinstance(exc, requests.exceptions.ConnectTimeout) or isinstance(
        reason, ConnectTimeoutError
    ):
        return "connect_timeout", exhausted
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "connection", exhausted
    return type(exc).__name__, exhausted


def _attempts(response: requests.Response) -> int:
    retries = getattr(response.raw, "retries", None)
    return len(getattr(retries, "history", ())) + 1


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


# --- the series -----------------------------------------------------------------------


def _parse_series(
    payload: Mapping[str, Any], symbol: str, requested_size: str, secrets: list[str]
) -> tuple[pd.DataFrame, str, list[str]]:
    if not payload:
        raise NoData(
            f"Alpha Vantage has no daily prices for '{symbol}'.",
            details={"symbol": symbol},
        )
    series = payload.get(SERIES_KEY)
    if series is None:
        raise MalformedResponse(
            f"Alpha Vantage's answer for '{symbol}' has no '{SERIES_KEY}' section.",
            details={
                "symbol": symbol,
                "keys": [redact(str(key), secrets)[:80] for key in list(payload)[:10]],
            },
        )
    if not isinstance(series, dict):
        raise MalformedResponse(
            f"Alpha Vantage's '{SERIES_KEY}' for '{symbol}' is not an object.",
            details={"symbol": symbol},
        )
    if not series:
        raise NoData(
            f"Alpha Vantage returned an empty daily series for '{symbol}'.",
            details={"symbol": symbol},
        )
    rows = sorted(
        _parse_row(symbol, key, values, secrets) for key, values in series.items()
    )
    bars = pd.DataFrame(
        {
            "date": pd.Series([row[0] for row in rows], dtype=object),
            "open": pd.Series([row[1] for row in rows], dtype=object),
            "high": pd.Series([row[2] for row in rows], dtype=object),
            "low": pd.Series([row[3] for row in rows], dtype=object),
            "close": pd.Series([row[4] for row in rows], dtype=object),
            "volume": pd.Series([row[5] for row in rows], dtype="int64"),
        },
        columns=list(BAR_COLUMNS),
    )
    meta = payload.get("Meta Data")
    meta = meta if isinstance(meta, dict) else {}
    notes: list[str] = []
    refreshed = str(_meta_value(meta, "last refreshed") or "")
    if len(refreshed) > 10 and refreshed[:10] == rows[-1][0].isoformat():
        # A time in "Last Refreshed" means the series was cut during trading hours.
        notes.append(
            f"Alpha Vantage refreshed this series at {redact(refreshed, secrets)[:40]} "
            "(US/Eastern), so the newest bar may still change."
        )
    return bars, _served_size(meta, requested_size), notes


def _meta_value(meta: Mapping[str, Any], name: str) -> Any:
    # Meta keys are numbered differently per function ("4. Output Size" here,
    # "5. Output Size" for intraday), so they are matched by name.
    for key, value in meta.items():
        if _FIELD_PREFIX.sub("", str(key)).strip().lower() == name:
            return value
    return None


def _served_size(meta: Mapping[str, Any], requested_size: str) -> str:
    label = str(_meta_value(meta, "output size") or "").lower()
    if "full" in label:
        return "full"
    if "compact" in label:
        return "compact"
    return requested_size


def _parse_row(
    symbol: str, date_key: Any, values: Any, secrets: list[str]
) -> tuple[date, Decimal, Decimal, Decimal, Decimal, int]:
    shown_key = redact(str(date_key), secrets)[:40]

    def bad(field: str, problem: str, value: Any = None) -> MalformedResponse:
        details: dict[str, Any] = {"symbol": symbol, "date": shown_key, "field": field}
        if value is not None:
            details["value"] = redact(str(value), secrets)[:40]
        return MalformedResponse(
            f"Alpha Vantage sent a bad bar for '{symbol}' on {shown_key}: {problem}.",
            details=details,
        )

    try:
        if not _DATE_KEY.fullmatch(str(date_key)):
            raise ValueError
        day = date.fromisoformat(str(date_key))
    except ValueError:
        raise bad("date", "the date is not a valid YYYY-MM-DD date") from None
    if not isinstance(values, dict):
        raise bad("bar", "the bar is not an object")
    fields = {
        _FIELD_PREFIX.sub("", str(k)).strip().lower(): v for k, v in values.items()
    }
    prices: dict[str, Decimal] = {}
    for name in _PRICE_FIELDS:
        if name not in fields:
            raise bad(name, f"{name} is missing")
        raw = fields[name]
        text = raw.strip() if isinstance(raw, str) else raw
        if not isinstance(text, str) or not _NUMBER.fullmatch(text):
            raise bad(name, f"{name} is {_shown(raw, secrets)}, not a number", raw)
        try:
            price = Decimal(text)
        except InvalidOperation:
            raise bad(
                name, f"{name} is {_shown(raw, secrets)}, not a number", raw
            ) from None
        if price <= 0:
            raise bad(name, f"{name} is {text}, not a positive price", raw)
        prices[name] = price
    if "volume" not in fields:
        raise bad("volume", "volume is missing")
    raw_volume = fields["volume"]
    volume_text = raw_volume.strip() if isinstance(raw_volume, str) else raw_volume
    if not isinstance(volume_text, str) or not _INTEGER.fullmatch(volume_text):
        raise bad(
            "volume",
            f"volume is {_shown(raw_volume, secrets)}, not a whole number",
            raw_volume,
        )
    volume = int(volume_text)
    if volume < 0 or volume > _INT64_MAX:
        raise bad("volume", f"volume {volume_text} is out of range", raw_volume)

    open_, high, low, close = (prices[name] for name in _PRICE_FIELDS)
    if high < low:
        raise bad("high", f"high {high} is below low {low}", high)
    for name, price in (("open", open_), ("close", close)):
        if low > price:
            raise bad("low", f"low {low} is above {name} {price}", low)
        if high < price:
            raise bad("high", f"high {high} is below {name} {price}", high)
    return day, open_, high, low, close, volume


def _shown(value: Any, secrets: list[str]) -> str:
    if isinstance(value, str):
        return repr(redact(value, secrets)[:40])
    return "null" if value is None else type(value).__name__
