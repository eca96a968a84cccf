"""A bar-by-bar SMA crossover written the obvious way, to check the engine against.

Averages are exact fractions of the closes, so "equal averages" means equal.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction


def _mean(closes: list[float], end: int, window: int) -> Fraction:
    part = closes[end - window + 1 : end + 1]
    return sum((Fraction(Decimal(repr(c))) for c in part), Fraction(0)) / window


def reference_backtest(
    opens: list[float],
    closes: list[float],
    *,
    fast: int,
    slow: int,
    initial_investment: float,
    commission: float,
) -> tuple[list[dict], list[float]]:
    """(trades as dicts, equity per day)."""
    n = len(closes)
    cash, shares, entry, entry_value = float(initial_investment), 0, 0, 0.0
    pending: str | None = None
    trades: list[dict] = []
    equity: list[float] = []

    def sell(day: int, price: float) -> float:
        """Record the sale of every share held at `price`; returns the cash it brings."""
        value = shares * price * (1.0 - commission)
        trades.append(
            {"entry": entry, "exit": day, "shares": shares, "pnl": value - entry_value}
        )
        return value

    for day in range(n):
        if pending == "buy" and shares == 0:
            count = math.floor(cash / (opens[day] * (1.0 + commission)))
            if count > 0:
                shares, entry = count, day
                entry_value = shares * opens[day] * (1.0 + commission)
                cash -= entry_value
        elif pending == "sell" and shares > 0:
            cash += sell(day, opens[day])
            shares = 0
        pending = None
        if day == n - 1 and shares > 0:
            cash += sell(day, closes[day])
            shares = 0
        if slow <= day < n - 1:
            fast_now, slow_now = _mean(closes, day, fast), _mean(closes, day, slow)
            fast_before = _mean(closes, day - 1, fast)
            slow_before = _mean(closes, day - 1, slow)
            if fast_now > slow_now and fast_before <= slow_before:
                pending = "buy"
            elif fast_now < slow_now and fast_before >= slow_before:
                pending = "sell"
        equity.append(cash + shares * closes[day])
    return trades, equity
