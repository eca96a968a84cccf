"""Builders for test data: one price generator, and symbols with bars in the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from core.models import PriceBar, Symbol

FOUR_PLACES = Decimal("0.0001")
# ACME (the `acme` fixture): enough bars to train the forecaster (239) and to run the
# default 50/200 backtest.
ACME_START = date(2024, 1, 1)
ACME_BARS = 520


@dataclass(frozen=True)
class Bar:
    """One generated trading day, priced to 4 decimals as PriceBar stores it."""

    date: date
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int


def price_closes(
    count: int,
    *,
    start_price: float = 100.0,
    drift: float = 0.0,
    volatility: float = 0.0,
    wave: float = 0.0,
    wave_period: float = 20.0,
    trend: float = 0.0,
    seed: int = 0,
    decimals: int | None = 2,
) -> list[float]:
    """`count` closes: a seeded geometric random walk, a sine wave and a trend, added.

    The walk starts at start_price with daily log returns ~ N(drift, volatility); with
    volatility 0 it stays at start_price, which leaves a pure wave (amplitude `wave`,
    `wave_period` days per radian) plus `trend` per day. Rounded to `decimals` places
    unless None. The same arguments give the same closes.
    """
    rng = np.random.default_rng(seed)
    day = np.arange(count)
    walk = start_price * np.exp(np.cumsum(rng.normal(drift, volatility, count)))
    closes = walk + wave * np.sin(day / wave_period) + trend * day
    if decimals is not None:
        closes = np.round(closes, decimals)
    return closes.tolist()


def weekdays(
    count: int, *, start: date | None = None, end: date | None = None
) -> list[date]:
    """`count` weekdays, oldest first: from the first weekday on or after start, or
    up to the last weekday on or before end."""
    if start is not None and end is None:
        day, step = start, timedelta(days=1)
    elif end is not None and start is None:
        day, step = end, timedelta(days=-1)
    else:
        raise ValueError("weekdays() takes one of start and end")
    days: list[date] = []
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += step
    return sorted(days)


def price_bars(
    closes: list[float], *, start: date | None = None, end: date | None = None
) -> list[Bar]:
    """Weekday bars with the given closes (from start, or ending on end); open = close,
    a 1 % range around it, a million shares."""
    bars = []
    for day, close in zip(
        weekdays(len(closes), start=start, end=end), closes, strict=True
    ):
        price = Decimal(str(close)).quantize(FOUR_PLACES)
        bars.append(
            Bar(
                date=day,
                open=price,
                high=(price * Decimal("1.01")).quantize(FOUR_PLACES),
                low=(price * Decimal("0.99")).quantize(FOUR_PLACES),
                close=price,
                volume=1_000_000,
            )
        )
    return bars


# The database builders import the models when called, so the fake Alpha Vantage
# server, which runs without Django (`python -m tests.fakes.alphavantage`), can use the
# generator above.


def make_symbol(ticker: str = "TEST", **fields: object) -> Symbol:
    from core.models import Symbol

    return Symbol.objects.create(ticker=ticker, **fields)


def make_bars(symbol: Symbol, *, start: date, closes: list[float]) -> list[PriceBar]:
    """Stored price_bars(closes, start=start) of the symbol (source: sample), with
    the symbol's figures refreshed as the writer of bars does."""
    from core.models import PriceBar
    from core.services import symbol_figures_refresh

    stored = PriceBar.objects.bulk_create(
        PriceBar(
            symbol=symbol,
            date=bar.date,
            open=bar.open,
            high=bar.high,
            low=bar.low,
            close=bar.close,
            volume=bar.volume,
            source=PriceBar.Source.SAMPLE,
        )
        for bar in price_bars(closes, start=start)
    )
    symbol_figures_refresh(symbol_ids=[symbol.pk])
    return stored


def make_acme() -> Symbol:
    """ACME, Acme Corp: ACME_BARS weekday bars from ACME_START, a walk drifting up."""
    symbol = make_symbol("ACME", name="Acme Corp")
    closes = price_closes(ACME_BARS, drift=0.0004, volatility=0.013, seed=5)
    make_bars(symbol, start=ACME_START, closes=closes)
    return symbol
