"""What Alpha Vantage's error bodies and notices mean, as typed provider errors.

The service answers HTTP 200 for every refusal, so the body is classified here
(ALPHA_VANTAGE.md §3.3, in that order).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from core.redaction import redact
from ingestion.providers.alpha_vantage_series import FUNCTION
from ingestion.providers.errors import (
    ProviderConfigurationError,
    ProviderError,
    RateLimited,
    SymbolNotFound,
)

BURST_RETRY_AFTER = 2
MINUTE_RETRY_AFTER = 60
MIN_DAILY_RETRY_AFTER = 60

# The rate-limit texts also mention "premium plans" and "API key", so they are
# matched before anything else. Burst wording is checked before daily wording
# because the burst text also quotes the daily limit ("25 requests per day").
_BURST_PHRASES = ("spreading out", "per second")
_MINUTE_PHRASES = ("calls per minute", "call frequency", "higher api call volume")
_DAILY_PHRASES = ("requests per day", "rate limit")
# Searched in the redacted text (a key ending in digits just before "requests per
# day" would lend them to the message), and only a whole, short number.
_DAILY_COUNT = re.compile(
    r"(?<![\w,])([0-9][0-9,]{0,14})\s+(?:requests|calls)\s+per\s+day", re.IGNORECASE
)


def seconds_until_next_utc_midnight(now: datetime) -> int:
    """Seconds from now to the next 00:00 UTC, never less than a minute."""
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    midnight = datetime.combine(
        now.date() + timedelta(days=1), datetime.min.time(), UTC
    )
    return max(MIN_DAILY_RETRY_AFTER, math.ceil((midnight - now).total_seconds()))


def is_full_refusal(payload: Mapping[str, Any]) -> bool:
    """Whether the body is the free key's refusal of outputsize=full."""
    if "Error Message" in payload:
        return False
    notice = _notice_text(payload)
    return notice is not None and _notice_kind(notice) == "premium_outputsize"


def raise_for_error_body(
    payload: Mapping[str, Any],
    symbol: str,
    *,
    secrets: list[str],
    clock: Callable[[], datetime],
    function: str = FUNCTION,
    wanted: str = "prices",
) -> None:
    """Raise the ProviderError an error body or a notice stands for; else nothing.

    `function` is the one asked for and `wanted` what it answers, for the messages.
    """
    if "Error Message" in payload:
        raise _error_message(str(payload["Error Message"]), symbol, secrets, function)
    notice = _notice_text(payload)
    if notice is not None:
        raise _notice_error(notice, symbol, secrets, clock, function, wanted)


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


def _error_message(
    text: str, symbol: str, secrets: list[str], function: str
) -> ProviderError:
    provider_message = redact(text, secrets)
    lowered = text.lower()
    if "apikey" in lowered:
        return ProviderConfigurationError(
            "Alpha Vantage rejected the API key as invalid or missing "
            "(check ALPHA_VANTAGE_API_KEY).",
            details={"reason": "invalid_key", "provider_message": provider_message},
        )
    if "does not exist" in lowered:
        return ProviderConfigurationError(
            f"Alpha Vantage does not offer the function {function}; "
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


def _notice_error(
    text: str,
    symbol: str,
    secrets: list[str],
    clock: Callable[[], datetime],
    function: str,
    wanted: str,
) -> ProviderError:
    provider_message = redact(text, secrets)
    kind = _notice_kind(text)
    if kind == "rate_limit":
        return _rate_limited(text, provider_message, clock)
    if kind == "premium_endpoint":
        return ProviderConfigurationError(
            f"Alpha Vantage says {function} is a premium endpoint; "
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
        f"Alpha Vantage answered with a notice instead of {wanted} for '{symbol}'.",
        details={"symbol": symbol, "provider_message": provider_message},
    )


def _rate_limited(
    text: str, provider_message: str, clock: Callable[[], datetime]
) -> RateLimited:
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
    count = _DAILY_COUNT.search(provider_message)
    quota = f"{count.group(1)} requests per day" if count else "the daily request quota"
    return RateLimited(
        f"Alpha Vantage rate limit reached: {quota} on this key; "
        "try again after the daily reset.",
        details={"limit": "daily", "provider_message": provider_message},
        retry_after=seconds_until_next_utc_midnight(clock()),
    )
