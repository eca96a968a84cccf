"""The fake's SPLITS and DIVIDENDS answers, and series generated across a split.

Shapes as the service sends them (ALPHA_VANTAGE.md §8): `{"symbol", "data": [...]}`,
newest first, every value a string, a missing date "None"; `{}` for a symbol the
service does not know. The caller (tests/fakes/alphavantage.py) has already checked
the key and the limits.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from tests.fakes.alphavantage_responses import FakeResponse, Rows

ACTION_FUNCTIONS = ("SPLITS", "DIVIDENDS")
_FOUR_PLACES = Decimal("0.0001")
_PRICE_FIELDS = ("1. open", "2. high", "3. low", "4. close")


@dataclass
class SymbolActions:
    """One symbol's rows as the service lists them (newest first when served)."""

    splits: list[dict[str, str]] = field(default_factory=list)
    dividends: list[dict[str, str]] = field(default_factory=list)


def ibm_actions() -> SymbolActions:
    """IBM's answers as public client code shows them (ALPHA_VANTAGE.md §8)."""
    return SymbolActions(
        splits=[
            {"effective_date": "1999-05-27", "split_factor": "2.0000"},
            {"effective_date": "1997-05-28", "split_factor": "2.0000"},
        ],
        dividends=[
            {
                "ex_dividend_date": "2024-11-12",
                "declaration_date": "2024-10-29",
                "record_date": "2024-11-12",
                "payment_date": "2024-12-10",
                "amount": "1.67",
            },
            {
                "ex_dividend_date": "2024-05-09",
                "declaration_date": "2024-04-30",
                "record_date": "2024-05-10",
                "payment_date": "2024-06-10",
                "amount": "1.67",
            },
        ],
    )


def split_row(day: date, factor: Decimal | float | str) -> dict[str, str]:
    return {
        "effective_date": day.isoformat(),
        "split_factor": f"{Decimal(str(factor)):.4f}",
    }


def dividend_row(day: date, amount: Decimal | float | str) -> dict[str, str]:
    """A dividend as listed: the other dates are "None" when the service lacks them."""
    return {
        "ex_dividend_date": day.isoformat(),
        "declaration_date": "None",
        "record_date": "None",
        "payment_date": "None",
        "amount": str(amount),
    }


def answer(
    params: dict[str, str],
    series: dict[str, Rows],
    actions: dict[str, SymbolActions],
) -> FakeResponse:
    """SPLITS or DIVIDENDS for a symbol: its rows, `"data": []` for a known symbol
    without any, `{}` for one the fake does not know."""
    symbol = params.get("symbol", "")
    known = actions.get(symbol.upper())
    if known is None:
        if not symbol or symbol.upper() not in series:
            return FakeResponse.json_body({})
        known = SymbolActions()
    rows = known.splits if params.get("function") == "SPLITS" else known.dividends
    key = "effective_date" if params.get("function") == "SPLITS" else "ex_dividend_date"
    newest_first = sorted(copy.deepcopy(rows), key=lambda r: r[key], reverse=True)
    return FakeResponse.json_body({"symbol": symbol, "data": newest_first})


def split_history(rows: Rows, *, day: date, factor: Decimal | float | str) -> Rows:
    """The rows as traded around a split effective on `day`: each bar before it has
    its prices multiplied by the factor and its volume divided by it (fewer shares
    changed hands, each worth more), so adjusting by the split gives `rows` back."""
    ratio = Decimal(str(factor))
    traded: Rows = {}
    for key, bar in rows.items():
        if date.fromisoformat(key) >= day:
            traded[key] = dict(bar)
            continue
        before = dict(bar)
        for name in _PRICE_FIELDS:
            price = Decimal(bar[name]) * ratio
            before[name] = str(price.quantize(_FOUR_PLACES, rounding=ROUND_HALF_EVEN))
        volume = Decimal(bar["5. volume"]) / ratio
        before["5. volume"] = str(int(volume.to_integral_value(ROUND_HALF_EVEN)))
        traded[key] = before
    return traded
