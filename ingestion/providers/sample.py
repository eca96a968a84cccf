"""Offline, deterministic sample prices for the demo and for machines with no key."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

import numpy as np
import pandas as pd

from core.market import BAR_COLUMNS
from ingestion.providers.base import ProviderResult

SAMPLE_NOTE = "Sample data generated offline: these are not real market prices."
# Every series starts here, so a given ticker and date always get the same bar,
# whatever day the sample is fetched on: re-fetching never looks like a correction.
_ANCHOR = date(2016, 1, 4)
_CENT = Decimal("0.0001")

SAMPLE_NAMES = {
    "AAPL": "Apple Inc. (sample)",
    "MSFT": "Microsoft Corp. (sample)",
    "IBM": "International Business Machines (sample)",
    "SPY": "SPDR S&P 500 ETF Trust (sample)",
}


def _seed(ticker: str) -> int:
    return int.from_bytes(hashlib.sha256(ticker.encode()).digest()[:8], "big")


def _quantize(values: np.ndarray, rounding: str) -> list[Decimal]:
    return [Decimal(repr(float(v))).quantize(_CENT, rounding=rounding) for v in values]


def sample_bars(ticker: str, *, end: date, since: date | None = None) -> pd.DataFrame:
    """A geometric random walk with gaps and intraday ranges, weekdays only."""
    days = pd.bdate_range(_ANCHOR, end)
    rng = np.random.default_rng(_seed(ticker))
    n = len(days)
    start_price = rng.uniform(20, 400)
    drift, vol = rng.uniform(-0.0001, 0.0004), rng.uniform(0.010, 0.020)
    closes = start_price * np.exp(np.cumsum(rng.normal(drift, vol, n)))
    prev_close = np.concatenate(([start_price], closes[:-1]))
    opens = prev_close * np.exp(rng.normal(0, vol / 3, n))
    highs = np.maximum(opens, closes) * (1 + np.abs(rng.normal(0, vol / 2, n)))
    lows = np.minimum(opens, closes) * (1 - np.abs(rng.normal(0, vol / 2, n)))
    volumes = rng.lognormal(mean=15.5, sigma=0.35, size=n).astype(np.int64)
    frame = pd.DataFrame(
        {
            "date": [d.date() for d in days],
            "open": _quantize(opens, ROUND_HALF_EVEN),
            "high": _quantize(highs, ROUND_CEILING),
            "low": _quantize(lows, ROUND_FLOOR),
            "close": _quantize(closes, ROUND_HALF_EVEN),
            "volume": [int(v) for v in volumes],
        },
        columns=list(BAR_COLUMNS),
    )
    if since is not None:
        frame = frame[frame["date"] >= since].reset_index(drop=True)
    return frame


class SampleProvider:
    """Serves sample bars for any valid ticker, clearly labelled as sample data."""

    name = "sample"

    def __init__(self, *, today: date | None = None) -> None:
        self.today = today

    def fetch_daily(self, symbol: str, since: date | None = None) -> ProviderResult:
        end = self.today or date.today()  # noqa: DTZ011 - a calendar day, not an instant
        return ProviderResult(
            bars=sample_bars(symbol, end=end, since=since),
            source="sample",
            output_size="full",
            notes=(SAMPLE_NOTE,),
        )
