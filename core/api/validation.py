"""Input checks for path and query parameters; failures raise InvalidInput (400)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation

from core.errors import InvalidInput
from core.models import TICKER_PATTERN

_TICKER = re.compile(TICKER_PATTERN)


def normalise_ticker(raw: str) -> str:
    """Upper-case a ticker and check it is 1-10 of A-Z 0-9 . - ."""
    ticker = (raw or "").strip().upper()
    if not _TICKER.fullmatch(ticker):
        shown = raw if len(raw or "") <= 40 else raw[:40] + "…"
        raise InvalidInput(
            f"{shown!r} is not a valid symbol: use 1 to 10 characters, "
            "letters A-Z, digits, '.' or '-'.",
            code="invalid_symbol",
            details={"symbol": shown},
        )
    return ticker


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def parse_flag(params: Mapping[str, str], name: str) -> bool:
    """A yes/no query parameter; anything else than the usual spellings is a 400."""
    raw = params.get(name)
    if raw is None:
        return False
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InvalidInput(
        f"{name} must be 1 or 0 (or true/false), not {raw[:20]!r}.",
        code="invalid_parameter",
        details={"parameter": name},
    )


_MONEY = re.compile(r"\d{1,13}(\.\d{1,2})?")


def parse_money(raw: str, *, name: str, maximum: Decimal) -> Decimal:
    """A positive amount with at most 2 decimals, no exponent, no sign, <= maximum."""
    text = (raw or "").strip()
    if not _MONEY.fullmatch(text) or Decimal(text) <= 0 or Decimal(text) > maximum:
        raise InvalidInput(
            f"{name} must be a positive amount with at most 2 decimals, up to "
            f"{maximum:,.0f}; got {text[:30]!r}.",
            code="invalid_parameter",
            details={"parameter": name},
        )
    return Decimal(text)


def parse_int(
    params: Mapping[str, str], name: str, *, default: int, minimum: int, maximum: int
) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"\d{1,6}", raw.strip()) or not minimum <= int(raw) <= maximum:
        raise InvalidInput(
            f"{name} must be a whole number from {minimum} to {maximum}; got {raw[:30]!r}.",
            code="invalid_parameter",
            details={"parameter": name},
        )
    return int(raw)


def parse_decimal(
    params: Mapping[str, str],
    name: str,
    *,
    default: Decimal,
    minimum: Decimal,
    maximum: Decimal,
) -> Decimal:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or not minimum <= value <= maximum:
        raise InvalidInput(
            f"{name} must be a number from {minimum} to {maximum}; got {raw[:30]!r}.",
            code="invalid_parameter",
            details={"parameter": name},
        )
    return value


def parse_date(params: Mapping[str, str], name: str) -> date | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(
            f"{name} must be a date as YYYY-MM-DD; got {raw[:30]!r}.",
            code="invalid_parameter",
            details={"parameter": name},
        ) from None
