"""Suspected splits: a close-to-next-open jump near a common split ratio; no Django.

Used when the provider's corporate actions are unavailable (rate limit, plan, empty
answer), and on every jump no recorded split explains: a 4-for-1 split with no
recorded action reads as a 75 % crash, so such a jump is flagged on the symbol and
every backtest and report over it warns (DESIGN §10).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import pandas as pd

# Split factors (new shares per old share) and reverse splits; a jump counts when the
# close / next open ratio is within TOLERANCE of one of them. Beyond the list
# (2, 3, 4, 5, 10 and 1/2, 1/3, 1/10): 20-for-1 (Alphabet and Amazon, 2022) and the
# 1-for-5 and 1-for-20 reverse splits of small caps. A price does not fall by 95 % or
# grow twentyfold overnight on news, so these add no false alarm; 3-for-2 is left
# out, as a 33 % overnight drop on news is not rare enough.
COMMON_FACTORS = (
    Decimal(2),
    Decimal(3),
    Decimal(4),
    Decimal(5),
    Decimal(10),
    Decimal(20),
    Decimal(1) / Decimal(2),
    Decimal(1) / Decimal(3),
    Decimal(1) / Decimal(5),
    Decimal(1) / Decimal(10),
    Decimal(1) / Decimal(20),
)
TOLERANCE = Decimal("0.04")  # 4 %: a split day's own move rarely exceeds it
# A recorded split this many calendar days from the jump explains it (a provider's
# effective date may be the announcement's or the ex-date's, a day or two apart).
RECORDED_WINDOW_DAYS = 5
_SHOWN_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class SuspectedSplit:
    day: date  # the first session at the new price
    factor: Decimal  # the common factor the jump is near
    close_before: Decimal
    open_on: Decimal

    def describe(self, ticker: str) -> str:
        return (
            f"{ticker} moved from a close of {self.close_before} to an open of "
            f"{self.open_on} on {self.day.isoformat()}, a jump like a "
            f"{ratio_words(self.factor)} split, and no split is recorded for that day: "
            "prices across it may be wrong until the split is confirmed or recorded."
        )

    def as_dict(self) -> dict[str, str]:
        return {
            "date": self.day.isoformat(),
            "factor": f"{self.factor.quantize(_SHOWN_PLACES).normalize():f}",
            "ratio": ratio_words(self.factor),
            "close_before": str(self.close_before),
            "open_on": str(self.open_on),
        }


def ratio_words(factor: Decimal) -> str:
    """'4-for-1' for 4, '1-for-10 reverse' for 0.1."""
    if factor >= 1:
        return f"{factor.normalize():f}-for-1"
    return f"1-for-{(Decimal(1) / factor).quantize(Decimal(1))} reverse"


def jump_prefilter() -> tuple[Decimal, Decimal]:
    """(low, high): a close / next open ratio strictly between them is near no common
    factor. Lets a database keep only the few bars worth testing with split_from_jump;
    1 % wider than exact, so a float comparison there drops nothing this module flags.
    """
    up = min(f for f in COMMON_FACTORS if f > 1) * (1 - TOLERANCE)
    down = max(f for f in COMMON_FACTORS if f < 1) * (1 + TOLERANCE)
    return down * Decimal("1.01"), up * Decimal("0.99")


def split_from_jump(
    day: date, close_before: Any, open_on: Any, recorded_split_days: Iterable[date]
) -> SuspectedSplit | None:
    """The suspected split of a jump from one bar's close to the next bar's open (on
    `day`), or None: not near a common factor, or a recorded split explains it."""
    before, after = _decimal(close_before), _decimal(open_on)
    if before is None or after is None or before <= 0 or after <= 0:
        return None
    factor = _near_common(before / after)
    if factor is None or _explained(day, recorded_split_days):
        return None
    return SuspectedSplit(day, factor, before, after)


def suspected_splits(
    frame: pd.DataFrame,
    recorded_split_days: Iterable[date] = (),
    *,
    places: int | None = None,
) -> list[SuspectedSplit]:
    """Jumps in the as-traded frame (date, open, ..., close; oldest first) near a
    common factor with no recorded split within RECORDED_WINDOW_DAYS, oldest first.

    places: the decimals the prices were stored with, for float prices read from
    storage, so a jump's prices read as they are stored (534.5600, not 534.56).
    """
    if frame.empty:
        return []
    recorded = sorted(recorded_split_days)
    closes = frame["close"].to_numpy()
    opens = frame["open"].to_numpy()
    days = frame["date"].to_numpy(dtype=object)
    # Exact Decimal tests only on the few jumps the float prefilter keeps: testing
    # every bar costs milliseconds per backtest answer.
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = _floats(closes[:-1]) / _floats(opens[1:])
    low, high = (float(bound) for bound in jump_prefilter())
    kept = np.flatnonzero(~((ratios > low) & (ratios < high))) + 1
    found = (
        split_from_jump(
            days[i],
            _stored(closes[i - 1], places),
            _stored(opens[i], places),
            recorded,
        )
        for i in kept
    )
    return [suspect for suspect in found if suspect is not None]


def _stored(value: Any, places: int | None) -> Any:
    if places is None:
        return value
    number = _decimal(value)
    return value if number is None else number.quantize(Decimal(1).scaleb(-places))


def _floats(values: np.ndarray) -> np.ndarray:
    """Prices as floats; a missing or unreadable one as NaN, which the prefilter keeps
    for split_from_jump to judge."""
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        out = np.full(len(values), np.nan)
        for i, value in enumerate(values):
            number = _decimal(value)
            if number is not None:
                out[i] = float(number)
        return out


def _decimal(value: Any) -> Decimal | None:
    """A price as an exact Decimal (floats through their shortest text, so 100.23 is
    100.23 in a message, not its binary expansion); None for a missing or non-finite
    price."""
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _near_common(ratio: Decimal) -> Decimal | None:
    for factor in COMMON_FACTORS:
        if abs(ratio / factor - 1) <= TOLERANCE:
            return factor
    return None


def _explained(day: date, recorded: Iterable[date]) -> bool:
    return any(abs((day - other).days) <= RECORDED_WINDOW_DAYS for other in recorded)
