"""Builders for test data."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from core.models import PriceBar, Symbol


def make_symbol(ticker: str = "TEST", **fields: object) -> Symbol:
    return Symbol.objects.create(ticker=ticker, **fields)


def make_bars(symbol: Symbol, *, start: date, closes: list[float]) -> list[PriceBar]:
    """Weekday bars with the given closes; open = close, a 1 % range around it."""
    bars, day = [], start
    for close in closes:
        while day.weekday() >= 5:
            day += timedelta(days=1)
        price = Decimal(str(close)).quantize(Decimal("0.0001"))
        bars.append(
            PriceBar(
                symbol=symbol,
                date=day,
                open=price,
                high=(price * Decimal("1.01")).quantize(Decimal("0.0001")),
                low=(price * Decimal("0.99")).quantize(Decimal("0.0001")),
                close=price,
                volume=1_000_000,
                source=PriceBar.Source.SAMPLE,
            )
        )
        day += timedelta(days=1)
    return PriceBar.objects.bulk_create(bars)
