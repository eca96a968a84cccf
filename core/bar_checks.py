"""Checks of imported price bars, in words: values, closed days and jumps; no Django.

The admin's price import (admin_ui.resources.PriceBarResource) states every problem
of a row as one sentence, and warns before storing a bar on a day NYSE was closed or
one whose close jumps from its neighbours (docs/admin.md, "Price import checks").
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from core.formatting import plain_pct
from core.sessions import (
    calendar,
    is_session,
    sessions_between,
)
from core.split_detection import COMMON_FACTORS, TOLERANCE, ratio_words

# A close more than 25 % away from its neighbour's is worth a second look: single-day
# moves that large are rare for listed stocks (a few a year across the whole S&P 500,
# mostly on earnings or drug trial news), while every common split ratio (2-for-1 is
# -50 %, 1-for-2 +100 %) and 3-for-2 splits (-33 %) lie beyond it. 40 % would let a
# 3-for-2 split through unremarked.
JUMP_THRESHOLD = Decimal("0.25")
# Bars further apart than a trading week are no neighbours: over weeks or months a
# stock may move any amount, and a gap in the data is no reason to doubt a bar.
NEIGHBOUR_MAX_SESSIONS = 5

PRICE_COLUMNS = ("open", "high", "low", "close")
# What PriceBar stores: DecimalField(max_digits=14, decimal_places=4), BigIntegerField.
PRICE_STEP = Decimal("0.0001")
LARGEST_PRICE = Decimal("9999999999.9999")
LARGEST_VOLUME = 2**63 - 1


@dataclass(frozen=True)
class Bar:
    """One row's values, prices as written (rounded() gives what is stored)."""

    day: date
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int

    def rounded(self, column: str) -> Decimal:
        value: Decimal = getattr(self, column)
        return value.quantize(PRICE_STEP, rounding=ROUND_HALF_EVEN)


def read_bar(values: Mapping[str, object]) -> tuple[Bar | None, list[str]]:
    """The bar in a row's date, open, high, low, close and volume, or the problems
    that keep it from being one ("low 101.2 is above open 100.0"), all of them."""
    problems: list[str] = []
    day = _attempt(_day, values, "date", problems)
    opened, high, low, close = (
        _attempt(_price, values, column, problems) for column in PRICE_COLUMNS
    )
    volume = _attempt(_volume, values, "volume", problems)
    if (
        day is None
        or opened is None
        or high is None
        or low is None
        or close is None
        or volume is None
    ):
        return None, problems
    bar = Bar(day, opened, high, low, close, volume)
    problems.extend(_price_order_problems(bar))
    return (None if problems else bar), problems


def _attempt[Parsed](
    parse: Callable[[object, str], Parsed],
    values: Mapping[str, object],
    column: str,
    problems: list[str],
) -> Parsed | None:
    # Each parser raises ValueError with the sentence that names the column.
    try:
        return parse(values.get(column), column)
    except ValueError as exc:
        problems.append(str(exc))
        return None


def _is_empty(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def parse_day(raw: object) -> date:
    """A row's date: a YYYY-MM-DD text or a spreadsheet date; ValueError in words."""
    return _day(raw, "date")


def _day(raw: object, column: str) -> date:
    if _is_empty(raw):
        raise ValueError(f"{column} is empty")
    if isinstance(raw, datetime):  # an XLSX date cell
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = str(raw).strip()
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()  # noqa: DTZ007 (a day)
    except ValueError:
        raise ValueError(f"{column} {text!r} is not a valid YYYY-MM-DD date") from None


def _number(raw: object, column: str) -> Decimal:
    if _is_empty(raw):
        raise ValueError(f"{column} is empty")
    # bool is an int to Python, and an XLSX TRUE is no price.
    if isinstance(raw, bool) or (isinstance(raw, float) and not math.isfinite(raw)):
        raise ValueError(f"{column} {raw!r} is not a number")
    # str() of a float is its shortest form (166.54, not 166.539999...).
    text = str(raw).strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{column} {text!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{column} {text!r} is not a number")
    return number


def _price(raw: object, column: str) -> Decimal:
    price = _number(raw, column)
    if price > LARGEST_PRICE:
        raise ValueError(
            f"{column} {price} is above the largest price stored, {LARGEST_PRICE}"
        )
    if price <= 0:
        raise ValueError(f"{column} {price} is not above zero")
    if price.quantize(PRICE_STEP, rounding=ROUND_HALF_EVEN) == 0:
        raise ValueError(
            f"{column} {price} is 0 once rounded to the 4 decimals stored, and a "
            "price must be above zero"
        )
    return price


def _volume(raw: object, column: str) -> int:
    number = _number(raw, column)
    if number != number.to_integral_value():
        raise ValueError(f"{column} {number} is not a whole number of shares")
    if number < 0:
        raise ValueError(f"{column} {number} is below zero")
    if number > LARGEST_VOLUME:
        raise ValueError(f"{column} {number} is above the largest volume stored")
    return int(number)


def _price_order_problems(bar: Bar) -> list[str]:
    """PriceBar's constraint (low <= open, close <= high) in words, on stored values."""
    problems = []
    above_low = [c for c in ("open", "close") if bar.rounded("low") > bar.rounded(c)]
    if above_low:
        problems.append(f"low {bar.low} is above {_values(bar, above_low)}")
    below_high = [c for c in ("open", "close") if bar.rounded("high") < bar.rounded(c)]
    if below_high:
        problems.append(f"high {bar.high} is below {_values(bar, below_high)}")
    return problems


def _values(bar: Bar, columns: list[str]) -> str:
    return " and ".join(f"{column} {getattr(bar, column)}" for column in columns)


def not_final_problem(day: date, last_closed: date) -> str | None:
    """Why a bar dated `day` cannot be stored when `last_closed` is the last session
    that has closed (core.sessions.last_completed_session): it is no final daily bar."""
    if day <= last_closed:
        return None
    return (
        f"{day.isoformat()} is after {last_closed.isoformat()}, the last session that "
        "has closed, so no final daily bar exists for it yet"
    )


def closed_day_warning(day: date) -> str | None:
    """Why no daily bar can fall on `day`, or None when NYSE traded (or when the day
    is outside the span the calendar knows, where nothing can be said)."""
    cal = calendar()
    if not cal.first_session.date() <= day <= cal.last_session.date():
        return None
    if is_session(day):
        return None
    weekday = day.strftime("%A")
    if day.weekday() >= 5:
        return (
            f"{day.isoformat()} is a {weekday}: NYSE does not trade on weekends, "
            "so no daily bar falls on it"
        )
    return (
        f"NYSE was closed on {day.isoformat()} (a {weekday}: a holiday or a special "
        "closure), so no daily bar falls on it"
    )


@dataclass(frozen=True)
class SeriesBar:
    """A bar of the series a file would leave: a file row's or a stored one."""

    day: date
    open: Decimal
    close: Decimal
    row: int | None = None  # the file's row number; None for a stored bar
    changed: bool = True  # a file row that adds or changes a bar (not a repeat)

    @property
    def checked(self) -> bool:
        return self.row is not None and self.changed


def jump_warnings(
    ticker: str,
    series: Iterable[SeriesBar],
    recorded_splits: Iterable[tuple[date, Decimal]] = (),
) -> list[tuple[int, str]]:
    """(row, sentence) for each close that moves more than JUMP_THRESHOLD from the
    bar before it, within NEIGHBOUR_MAX_SESSIONS, where a file row is one of the two.

    `series` holds one bar a day: the stored bars around the file's days with the
    file's rows in their place. A move that a recorded split (day, factor) explains
    is no warning; one near a common split ratio says so.
    """
    bars = sorted(series, key=lambda bar: bar.day)
    if len(bars) < 2:
        return []
    sessions = sessions_between(bars[0].day, bars[-1].day)
    splits = list(recorded_splits)
    found: list[tuple[int, str]] = []
    for before, after in itertools.pairwise(bars):
        if not (before.checked or after.checked):
            continue
        apart = bisect.bisect_right(sessions, after.day) - bisect.bisect_right(
            sessions, before.day
        )
        if apart > NEIGHBOUR_MAX_SESSIONS:
            continue
        move = after.close / before.close - 1
        if abs(move) <= JUMP_THRESHOLD:
            continue
        # Split ratios are read as split_detection reads them: close before, open on.
        ratio = before.close / after.open
        if any(
            before.day < day <= after.day and _near(ratio, factor)
            for day, factor in splits
        ):
            continue
        row = after.row if after.checked else before.row
        if row is not None:  # always: one of the two is a checked file row
            found.append((row, _describe_jump(ticker, before, after, move, ratio, row)))
    return found


def _near(ratio: Decimal, factor: Decimal) -> bool:
    return abs(ratio / factor - 1) <= TOLERANCE


def _describe_jump(
    ticker: str,
    before: SeriesBar,
    after: SeriesBar,
    move: Decimal,
    ratio: Decimal,
    row: int,
) -> str:
    direction = "rises" if move > 0 else "falls"
    text = (
        f"the close {direction} {plain_pct(float(abs(move) * 100))} from "
        f"{_price_text(before.close)} on {before.day.isoformat()} "
        f"({_origin(before, row)}) to {_price_text(after.close)} on "
        f"{after.day.isoformat()} ({_origin(after, row)}), more than "
        f"{(JUMP_THRESHOLD * 100).normalize():f} % between neighbouring bars"
    )
    factor = next((f for f in COMMON_FACTORS if _near(ratio, f)), None)
    if factor is not None:
        text += (
            f"; that is near a {ratio_words(factor)} split: if {ticker} split on "
            f"{after.day.isoformat()}, record the split under Corporate actions"
        )
    return text


def _origin(bar: SeriesBar, row: int) -> str:
    if bar.row is None:
        return "stored"
    return "this row" if bar.row == row else f"row {bar.row}"


def _price_text(price: Decimal) -> str:
    """At least cents, and the stored 4 decimals where they are used (0.0123)."""
    shown = price.normalize()
    if shown.as_tuple().exponent > -2:  # type: ignore[operator]
        shown = shown.quantize(Decimal("0.01"))
    return f"{shown:f}"
