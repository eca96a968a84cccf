"""Input checks for path and query parameters; failures raise InvalidInput (400)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation

from core.errors import InvalidInput

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


def parse_money(raw: str, *, name: str, maximum: Decimal, decimals: int) -> Decimal:
    """A positive amount with at most `decimals` decimals, no exponent, no sign."""
    text = (raw or "").strip()
    pattern = rf"\d{{1,13}}(\.\d{{1,{decimals}}})?"
    if not re.fullmatch(pattern, text) or not 0 < Decimal(text) <= maximum:
        raise InvalidInput(
            f"{name} must be a positive amount with at most {decimals} decimals, up "
            f"to {maximum:,.0f}; got {text[:30]!r}.",
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
