"""Alpha Vantage client: daily bars and corporate actions, keys kept out of logs.

Sending lives beside it: alpha_vantage_transport.py (retries within the deadline,
timeouts, transport failures). Reading the answer too: alpha_vantage_notices.py
(refusals and notices), alpha_vantage_series.py (the bars) and
alpha_vantage_actions.py (splits and dividends).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import requests

from core.adjustment import Action
from core.market import normalise_ticker
from core.redaction import RedactingFilter, redacted_excerpt
from ingestion.providers.alpha_vantage_actions import ACTION_SHAPES, parse_actions
from ingestion.providers.alpha_vantage_notices import (
    is_full_refusal,
    raise_for_error_body,
)
from ingestion.providers.alpha_vantage_series import FUNCTION, parse_series
from ingestion.providers.alpha_vantage_transport import AlphaVantageTransport, plural
from ingestion.providers.base import (
    ActionsResult,
    CallHooks,
    NoHooks,
    ProviderResult,
)
from ingestion.providers.errors import (
    MalformedResponse,
    ProviderConfigurationError,
    ProviderError,
    ProviderUnavailable,
)

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://www.alphavantage.co/query"
PLANS = ("auto", "free", "premium")

# compact is the latest 100 trading days, about 145 calendar days; 140 leaves a
# margin for holidays, so a `since` inside it is fully covered by compact.
COMPACT_WINDOW_DAYS = 140

FREE_KEY_NOTE = (
    "The Alpha Vantage key is a free key, so only the latest 100 trading days were "
    "fetched; full history needs a premium key."
)

# What SPLITS and DIVIDENDS answer, in messages ("... instead of splits and dividends").
ACTIONS_WANTED = "splits and dividends"

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


class AlphaVantageProvider(AlphaVantageTransport):
    """Fetches one symbol's daily bars, or its splits and dividends; raises a
    ProviderError on failure."""

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
        super().__init__(
            base_url=base_url,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_retries=max_retries,
            backoff_factor=backoff_factor,
            session=session,
            deadline=deadline,
        )
        self._api_key = (api_key or "").strip()
        self.plan = plan
        self.hooks: CallHooks = hooks if hooks is not None else NoHooks()
        self._clock = clock or _utc_now
        protect_loggers(self._api_key)

    def __repr__(self) -> str:
        return f"AlphaVantageProvider(base_url={self.base_url!r}, plan={self.plan!r})"

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

    def fetch_actions(self, symbol: str, *, leave_calls: int = 0) -> ActionsResult:
        """Every split and dividend of symbol up to today (SPLITS, then DIVIDENDS).

        Both calls or nothing: a failure of either raises, and DIVIDENDS is not
        asked once SPLITS failed. `leave_calls` is how many calls of today's budget
        they must leave unspent (the hooks refuse with RateLimited otherwise).
        """
        symbol = normalise_ticker(symbol)
        try:
            return self._fetch_actions(symbol, leave_calls)
        except ProviderError as exc:
            logger.warning(
                "Alpha Vantage SPLITS/DIVIDENDS symbol=%s failed (%s): %s",
                symbol,
                exc.code,
                exc.message,
            )
            raise

    def _fetch_actions(self, symbol: str, leave_calls: int) -> ActionsResult:
        if not self._api_key:
            raise ProviderConfigurationError(
                "No Alpha Vantage API key is configured (set ALPHA_VANTAGE_API_KEY).",
                details={"reason": "missing_key"},
            )
        today = self._clock().astimezone(UTC).date()
        actions: list[Action] = []
        notes: list[str] = []
        for index, shape in enumerate(ACTION_SHAPES):
            # The calls still to make after this one are kept too, so the budget
            # holds both before the first is spent.
            still_to_make = len(ACTION_SHAPES) - index - 1
            payload = self._call_optional(
                symbol, shape.function, leave=leave_calls + still_to_make
            )
            raise_for_error_body(
                payload,
                symbol,
                secrets=self._secrets,
                clock=self._clock,
                function=shape.function,
                wanted=ACTIONS_WANTED,
            )
            found, found_notes = parse_actions(
                shape, payload, symbol, secrets=self._secrets, today=today
            )
            actions += found
            notes += found_notes
        logger.info(
            "Alpha Vantage SPLITS/DIVIDENDS symbol=%s: %d splits, %d dividends",
            symbol,
            sum(a.kind == "split" for a in actions),
            sum(a.kind == "dividend" for a in actions),
        )
        actions.sort(key=lambda a: (a.day, a.kind))
        return ActionsResult(
            actions=tuple(actions), source=self.name, notes=tuple(notes)
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

    # --- the call -------------------------------------------------------------------

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
        return self._get(symbol, params, wanted="prices")

    def _call_optional(
        self, symbol: str, function: str, *, leave: int
    ) -> dict[str, Any]:
        """One call that gives way: it may spend only what `leave` calls leave."""
        self._require_time(symbol)
        self.hooks.before_call(leave=leave)
        self._require_time(symbol)
        params = {
            "function": function,
            "symbol": symbol,
            "datatype": "json",
            "apikey": self._api_key,
        }
        logger.info("Alpha Vantage %s symbol=%s", function, symbol)
        return self._get(symbol, params, wanted=ACTIONS_WANTED)

    def _get(
        self, symbol: str, params: dict[str, str], *, wanted: str
    ) -> dict[str, Any]:
        response, attempts = self._send(symbol, params)
        with response:
            status = response.status_code
            # Still 5xx here means the retries are used up.
            if status >= 500:
                raise ProviderUnavailable(
                    f"Alpha Vantage is unavailable (HTTP {status} after "
                    f"{plural(attempts, 'attempt')}).",
                    details={
                        "symbol": symbol,
                        "http_status": status,
                        "attempts": attempts,
                    },
                )
            if status != 200:
                raise ProviderError(
                    f"Alpha Vantage answered HTTP {status} instead of {wanted}.",
                    details={
                        "symbol": symbol,
                        "http_status": status,
                        "body_start": self._snippet(response.content),
                    },
                )
            return self._decode(response.content, response.headers.get("Content-Type"))

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
