"""Alpha Vantage's SPLITS and DIVIDENDS answers read into strict, validated actions.

Both answer `{"symbol": ..., "data": [...]}`, newest first, every value a string and
a missing date the text "None" (ALPHA_VANTAGE.md §8).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from core.adjustment import Action
from core.redaction import redacted_excerpt
from ingestion.providers.errors import MalformedResponse, NoData

# ASCII only: \d also matches other scripts' digits, which Decimal() accepts.
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", re.ASCII)
# Tickers the service spells with a dash where StockDesk has a dot (BRK-B, BRK.B).
_TICKER_SEPARATORS = re.compile(r"[.\-]")
# The columns' precision (core.models.CorporateAction): 6 decimals.
VALUE_STEP = Decimal("0.000001")


@dataclass(frozen=True)
class ActionShape:
    """One function's answer: which fields hold the date and the value."""

    function: str
    kind: str
    date_field: str
    value_field: str
    noun: str
    date_words: str
    value_words: str
    # Below the column's largest value (max_digits - decimal_places digits).
    value_limit: Decimal


SPLITS = ActionShape(
    function="SPLITS",
    kind="split",
    date_field="effective_date",
    value_field="split_factor",
    noun="splits",
    date_words="an effective date",
    value_words="split factor",
    value_limit=Decimal(10) ** 6,
)
DIVIDENDS = ActionShape(
    function="DIVIDENDS",
    kind="dividend",
    date_field="ex_dividend_date",
    value_field="amount",
    noun="dividends",
    date_words="an ex-dividend date",
    value_words="amount",
    value_limit=Decimal(10) ** 8,
)
ACTION_SHAPES = (SPLITS, DIVIDENDS)


def parse_actions(
    shape: ActionShape,
    payload: Mapping[str, Any],
    symbol: str,
    *,
    secrets: list[str],
    today: date,
) -> tuple[list[Action], list[str]]:
    """(the answer's actions up to today, oldest first; notes for the caller).

    Raises NoData for `{}` (the service's answer to an unknown symbol as well, so
    the actions are unknown, not absent) and MalformedResponse for any other shape
    than the documented one; `"data": []` is a real answer: no actions.
    """
    if not payload:
        raise NoData(
            f"Alpha Vantage sent an empty answer for the {shape.noun} of '{symbol}' "
            "(its answer to an unknown symbol too), so they are not known.",
            details={"symbol": symbol, "function": shape.function},
        )
    _check_symbol(shape, payload, symbol, secrets)
    rows = payload.get("data")
    if not isinstance(rows, list):
        problem = (
            "has no 'data' list" if rows is None else "has a 'data' that is not a list"
        )
        raise MalformedResponse(
            f"Alpha Vantage's {shape.function} answer for '{symbol}' {problem}.",
            details={
                "symbol": symbol,
                "function": shape.function,
                "keys": [
                    redacted_excerpt(str(k), 80, secrets) for k in list(payload)[:10]
                ],
            },
        )
    by_day: dict[date, Decimal] = {}
    undated = unvalued = summed = 0
    later: list[date] = []
    for number, row in enumerate(rows, start=1):
        day, value = _parse_row(shape, row, number, symbol, secrets)
        if day is None:
            undated += 1
            continue
        if value is None:
            unvalued += 1
            continue
        if day > today:
            later.append(day)
            continue
        if day in by_day:
            if shape.kind == "dividend":
                # Two dividends with one ex-date (a regular and a special one): the
                # price drops by both, so the day's action is their sum.
                by_day[day] += value
                summed += 1
                continue
            if by_day[day] != value:
                raise _bad(
                    shape,
                    symbol,
                    number,
                    shape.date_field,
                    f"a second split on {day.isoformat()} with another factor "
                    f"({value.normalize()}, not {by_day[day].normalize()})",
                    None,
                    secrets,
                )
            continue
        by_day[day] = value
    notes = _notes(shape, symbol, undated=undated, unvalued=unvalued, later=later)
    if summed:
        notes.append(
            f"Alpha Vantage listed more than one dividend of {symbol} on the same "
            "ex-dividend date; each such date is stored once, with their amounts added."
        )
    actions = [
        Action(kind=shape.kind, day=day, value=by_day[day]) for day in sorted(by_day)
    ]
    return actions, notes


def _check_symbol(
    shape: ActionShape, payload: Mapping[str, Any], symbol: str, secrets: list[str]
) -> None:
    if "symbol" not in payload:
        return
    answered = payload["symbol"]
    if isinstance(answered, str) and _same_ticker(answered, symbol):
        return
    shown = redacted_excerpt(str(answered), 40, secrets)
    raise MalformedResponse(
        f"Alpha Vantage's {shape.function} answer is for {shown!r}, not '{symbol}'.",
        details={"symbol": symbol, "function": shape.function, "answered": shown},
    )


def _same_ticker(answered: str, symbol: str) -> bool:
    def key(ticker: str) -> str:
        return _TICKER_SEPARATORS.sub("", ticker.strip().upper())

    return key(answered) == key(symbol)


def _is_none(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower() == "none"


def _parse_row(
    shape: ActionShape, row: Any, number: int, symbol: str, secrets: list[str]
) -> tuple[date | None, Decimal | None]:
    """(day, value); day None for a row without a date ("None"), value None for
    one without a value ("None", or a dividend of 0)."""
    if not isinstance(row, dict):
        raise _bad(
            shape, symbol, number, "row", "the row is not an object", None, secrets
        )
    for name in (shape.date_field, shape.value_field):
        if name not in row:
            raise _bad(shape, symbol, number, name, f"{name} is missing", None, secrets)
    raw_day, raw_value = row[shape.date_field], row[shape.value_field]
    if _is_none(raw_day):
        return None, None
    day = _parse_day(shape, raw_day, number, symbol, secrets)
    if _is_none(raw_value):
        return day, None
    return day, _parse_value(shape, raw_value, number, symbol, secrets)


def _parse_day(
    shape: ActionShape, raw: Any, number: int, symbol: str, secrets: list[str]
) -> date:
    text = raw.strip() if isinstance(raw, str) else None
    try:
        if text is None or not _DATE.fullmatch(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise _bad(
            shape,
            symbol,
            number,
            shape.date_field,
            f"{shape.date_field} is {_shown(raw, secrets)}, not a YYYY-MM-DD date",
            raw,
            secrets,
        ) from None


def _parse_value(
    shape: ActionShape, raw: Any, number: int, symbol: str, secrets: list[str]
) -> Decimal | None:
    """The value at the stored precision; None for a dividend of no cash (0)."""
    field = shape.value_field

    def bad(problem: str) -> MalformedResponse:
        return _bad(shape, symbol, number, field, problem, raw, secrets)

    text = raw.strip() if isinstance(raw, str) else None
    if text is None:
        raise bad(f"{field} is {_shown(raw, secrets)}, not the text of a number")
    if not _NUMBER.fullmatch(text):
        raise bad(f"{field} is {_shown(raw, secrets)}, not a number")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise bad(f"{field} is {_shown(raw, secrets)}, not a number") from None
    if value == 0 and shape.kind == "dividend":
        return None
    if value <= 0:
        raise bad(f"{field} is {_shown(raw, secrets)}, not above zero")
    stored = value.quantize(VALUE_STEP, rounding=ROUND_HALF_EVEN)
    if stored >= shape.value_limit:
        raise bad(f"{field} is {_shown(raw, secrets)}, too large to store")
    if stored == 0:
        raise bad(f"{field} is {_shown(raw, secrets)}, which is 0 at 6 decimals")
    return stored


def _notes(
    shape: ActionShape, symbol: str, *, undated: int, unvalued: int, later: list[date]
) -> list[str]:
    notes = []
    if undated:
        notes.append(
            f"Alpha Vantage listed {_count(undated, shape.kind)} of {symbol} without "
            f"{shape.date_words} ('None'); left out."
        )
    if unvalued:
        notes.append(
            f"Alpha Vantage listed {_count(unvalued, shape.kind)} of {symbol} without "
            f"an {shape.value_words} ('None' or 0); left out."
        )
    if later:
        notes.append(
            f"{_count(len(later), shape.kind).capitalize()} of {symbol} declared for "
            f"a later date (from {min(later).isoformat()}) will be stored once in "
            "effect: until then no bar is affected."
        )
    return notes


def _count(count: int, kind: str) -> str:
    return f"1 {kind}" if count == 1 else f"{count} {kind}s"


def _bad(
    shape: ActionShape,
    symbol: str,
    number: int,
    field: str,
    problem: str,
    value: Any,
    secrets: list[str],
) -> MalformedResponse:
    details: dict[str, Any] = {
        "symbol": symbol,
        "function": shape.function,
        "row": number,
        "field": field,
    }
    if value is not None:
        details["value"] = redacted_excerpt(str(value), 40, secrets)
    return MalformedResponse(
        f"Alpha Vantage sent a bad {shape.kind} for '{symbol}' (row {number} of its "
        f"{shape.function} answer): {problem}; nothing was stored.",
        details=details,
    )


def _shown(value: Any, secrets: list[str]) -> str:
    if isinstance(value, str):
        return repr(redacted_excerpt(value, 40, secrets))
    # The service sends every value as text; anything else is another shape.
    return "null" if value is None else f"a JSON {type(value).__name__}"
