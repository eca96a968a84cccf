"""How numbers read for people (admin and reports): separators, signs, units."""

from __future__ import annotations

from decimal import Decimal

NONE = "—"
# A true minus sign reads better than a hyphen in tables of figures.
MINUS = "\u2212"
RANGE_DASH = "\u2013"


def signed_pct(value: float | None, digits: int = 2) -> str:
    if value is None:
        return NONE
    return f"{value:+,.{digits}f} %".replace("-", MINUS)


def plain_pct(value: float | None, digits: int = 1) -> str:
    return NONE if value is None else f"{value:,.{digits}f} %"


def money(value: float | Decimal | None) -> str:
    return NONE if value is None else f"{value:,.2f}".replace("-", MINUS)


def number(value: float | None, digits: int = 2) -> str:
    return NONE if value is None else f"{value:,.{digits}f}".replace("-", MINUS)


def tone(value: float | None) -> str:
    """'up', 'down' or '' for colouring a signed figure."""
    if value is None or value == 0:
        return ""
    return "up" if value > 0 else "down"


def money_range(low: float | None, high: float | None) -> str:
    return f"{money(low)} {RANGE_DASH} {money(high)}"
