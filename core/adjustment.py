"""Split- and dividend-adjusted price series, computed from as-traded bars; no Django.

Conventions (DESIGN §10; the stored bars never change):
- `splits`: a split of factor f effective on day d divides every price before d by f
  and multiplies every volume before d by f, so the series reads in today's shares.
- `total`: the split adjustment, then for each dividend of amount a with ex-date d,
  every price before d is multiplied by 1 - a / c, where c is the as-traded close of
  the last session before d (the amount is as paid, so both sides are as traded).
  Volumes are not changed by dividends.
- `none`: the bars as traded.
An action applies when it changes at least one bar of the frame: its day is after the
frame's first day (a split after the last day still rescales the whole frame).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pandas as pd

SPLITS, TOTAL, NONE = "splits", "total", "none"
ADJUST_MODES = (SPLITS, TOTAL, NONE)
DEFAULT_ADJUST = SPLITS
PRICE_COLUMNS = ("open", "high", "low", "close")


@dataclass(frozen=True)
class Action:
    """A split (value: new shares per old share) or a dividend (value: cash per share)."""

    kind: str  # "split" or "dividend"
    day: date
    value: Decimal


@dataclass(frozen=True)
class Applied:
    """An action as applied to a frame: for a dividend, the factor 1 - a / c used."""

    action: Action
    factor: Decimal

    def as_dict(self) -> dict[str, str]:
        value_name = "factor" if self.action.kind == "split" else "amount"
        return {
            "kind": self.action.kind,
            "date": self.action.day.isoformat(),
            value_name: f"{self.action.value.normalize():f}",
            "price_factor": f"{self._price_factor().normalize():f}",
        }

    def _price_factor(self) -> Decimal:
        # What earlier prices were multiplied by: 1/f for a split, 1 - a/c for a dividend.
        return Decimal(1) / self.factor if self.action.kind == "split" else self.factor


def adjust(
    frame: pd.DataFrame,
    actions: Iterable[Action],
    mode: str,
    *,
    closes_before: Mapping[date, Decimal] | None = None,
) -> tuple[pd.DataFrame, list[Applied]]:
    """The frame (columns date, open, high, low, close, volume; oldest first) adjusted
    by `mode`, and the actions that changed it, oldest first.

    `closes_before` gives, for a dividend day after the frame's last day, the
    as-traded close of the session before it (the frame cannot know it).
    """
    if mode not in ADJUST_MODES:
        raise ValueError(f"adjust must be one of {', '.join(ADJUST_MODES)}")
    if mode == NONE or frame.empty:
        return frame, []
    first_day = frame["date"].iloc[0]
    wanted = {"split"} if mode == SPLITS else {"split", "dividend"}
    relevant = sorted(
        (a for a in actions if a.kind in wanted and a.day > first_day),
        key=lambda a: (a.day, a.kind),
    )
    if not relevant:
        return frame, []
    applied = [
        Applied(
            a,
            a.value if a.kind == "split" else _dividend_factor(frame, a, closes_before),
        )
        for a in relevant
    ]
    return _rescaled(frame, applied), applied


def _dividend_factor(
    frame: pd.DataFrame, action: Action, closes_before: Mapping[date, Decimal] | None
) -> Decimal:
    earlier = frame[frame["date"] < action.day]
    if action.day <= frame["date"].iloc[-1] or closes_before is None:
        close = Decimal(earlier["close"].iloc[-1])
    else:
        close = closes_before.get(action.day, Decimal(earlier["close"].iloc[-1]))
    factor = Decimal(1) - action.value / close
    if factor <= 0:
        raise ValueError(
            f"dividend of {action.value} on {action.day} is not below the close "
            f"before it ({close})"
        )
    return factor


def _rescaled(frame: pd.DataFrame, applied: list[Applied]) -> pd.DataFrame:
    """Each row's prices times the product of the price factors of the later actions."""
    days = list(frame["date"])
    price_factor = [Decimal(1)] * len(days)
    volume_factor = [Decimal(1)] * len(days)
    for item in applied:
        for i, day in enumerate(days):
            if day >= item.action.day:
                break
            if item.action.kind == "split":
                price_factor[i] /= item.factor
                volume_factor[i] *= item.factor
            else:
                price_factor[i] *= item.factor
    out = frame.copy()
    for column in PRICE_COLUMNS:
        out[column] = pd.Series(
            [
                Decimal(value) * factor
                for value, factor in zip(frame[column], price_factor, strict=True)
            ],
            index=frame.index,
            dtype=object,
        )
    out["volume"] = [
        int((Decimal(int(v)) * f).to_integral_value())
        for v, f in zip(frame["volume"], volume_factor, strict=True)
    ]
    return out


def adjustment_block(mode: str, applied: list[Applied]) -> dict[str, object]:
    """What every answer states: the mode and the actions applied (DESIGN §10)."""
    return {"mode": mode, "actions": [item.as_dict() for item in applied]}
