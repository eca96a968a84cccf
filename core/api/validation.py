"""Input checks for path and query parameters; failures raise InvalidInput (400).

Only ASCII is accepted: `\\d`, int() and Decimal() also take other scripts' digits
(int("\\u0661\\u0662") is 12), so numbers are matched with explicit [0-9] and
non-ASCII input is refused first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from core.errors import InvalidInput

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_INT = re.compile(r"[0-9]{1,6}")
_DECIMAL = re.compile(
    r"(?P<sign>-?)(?:[0-9]+(?:\.(?P<frac>[0-9]*))?|\.(?P<only>[0-9]+))"
)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _invalid(name: str, message: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_parameter", details={"parameter": name})


def _ascii_text(raw: str) -> str | None:
    """raw without surrounding whitespace, or None when it holds anything not ASCII.

    Checked before strip(), which would also drop non-ASCII spaces.
    """
    return raw.strip() if raw.isascii() else None


def parse_flag(params: Mapping[str, str], name: str) -> bool:
    """A yes/no query parameter; anything else than the usual spellings is a 400."""
    raw = params.get(name)
    if raw is None:
        return False
    text = _ascii_text(raw)
    value = "?" if text is None else text.lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _invalid(name, f"{name} must be 1 or 0 (or true/false), not {raw[:20]!r}.")


def parse_money(raw: str, *, name: str, maximum: Decimal, decimals: int) -> Decimal:
    """A positive amount with at most `decimals` decimals, no exponent, no sign."""
    text = _ascii_text(raw or "") or ""
    pattern = rf"[0-9]{{1,13}}(\.[0-9]{{1,{decimals}}})?"
    if not re.fullmatch(pattern, text) or not 0 < Decimal(text) <= maximum:
        raise _invalid(
            name,
            f"{name} must be a positive amount with at most {decimals} decimals, up "
            f"to {maximum:,.0f}; got {(raw or '')[:30]!r}.",
        )
    return Decimal(text)


def parse_int(
    params: Mapping[str, str], name: str, *, default: int, minimum: int, maximum: int
) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    text = _ascii_text(raw) or ""
    if not _INT.fullmatch(text) or not minimum <= int(text) <= maximum:
        raise _invalid(
            name,
            f"{name} must be a whole number from {minimum} to {maximum}; got {raw[:30]!r}.",
        )
    return int(text)


def parse_decimal(
    params: Mapping[str, str],
    name: str,
    *,
    default: Decimal,
    minimum: Decimal,
    maximum: Decimal,
    decimals: int | None = None,
) -> Decimal:
    """A plain decimal number in [minimum, maximum], at most `decimals` decimals.

    No exponent ("1e-3"), NaN or Infinity; a minus sign only when minimum < 0.
    More decimals than allowed are refused rather than rounded away when stored.
    """
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    places = "" if decimals is None else f" with at most {decimals} decimals"
    refusal = _invalid(
        name,
        f"{name} must be a number from {minimum} to {maximum}{places}; "
        f"got {raw[:30]!r}.",
    )
    text = _ascii_text(raw) or ""
    match = _DECIMAL.fullmatch(text)
    if match is None or (match["sign"] and minimum >= 0):
        raise refusal
    fraction = match["frac"] or match["only"] or ""
    if decimals is not None and len(fraction) > decimals:
        raise refusal
    value = Decimal(text)
    if not minimum <= value <= maximum:
        raise refusal
    return value


def parse_date(params: Mapping[str, str], name: str) -> date | None:
    """A date written YYYY-MM-DD (fromisoformat alone also takes 20240101, 2024-W01-1)."""
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    text = _ascii_text(raw) or ""
    try:
        if not _DATE.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise _invalid(
            name, f"{name} must be a date as YYYY-MM-DD; got {raw[:30]!r}."
        ) from None
