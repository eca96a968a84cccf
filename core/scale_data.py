"""Seeded sample bars for load and scale tests: a random walk per symbol; no Django.

Each symbol's closes are a geometric random walk with its own drift, volatility and
start price; opens gap from the previous close, highs and lows reach past both, and
volumes are log-normal around the symbol's own mean. The same seed and ticker give
the same bars, on any machine.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd

# Tickers no listed company has: staff adding real symbols never meet them.
TICKER_PREFIX = "ZZ"
TICKER_DIGITS = 4
MAX_SYMBOLS = 10**TICKER_DIGITS
_TICK = 10_000  # 4 stored decimals


def scale_tickers(count: int) -> list[str]:
    """ZZ0000, ZZ0001, ...: `count` sample tickers, the same ones on every run."""
    if not 0 < count <= MAX_SYMBOLS:
        raise ValueError(f"the number of symbols must be 1 to {MAX_SYMBOLS:,}")
    return [f"{TICKER_PREFIX}{n:0{TICKER_DIGITS}d}" for n in range(count)]


def random_walk_bars(ticker: str, days: Sequence[date], *, seed: int) -> pd.DataFrame:
    """Bars of `ticker` on `days` (sessions, oldest first): date, open, high, low,
    close as floats with at most 4 decimals, and volume.

    low <= open, close <= high and every price > 0 hold after rounding.
    """
    n = len(days)
    rng = np.random.default_rng([seed, zlib.crc32(ticker.encode())])
    start = float(rng.uniform(10.0, 400.0))
    vol = float(rng.uniform(0.008, 0.03))
    drift = float(rng.normal(0.0002, 0.0003))
    closes = start * np.exp(np.cumsum(rng.normal(drift, vol, n)))
    previous = np.concatenate(([start], closes[:-1]))
    opens = previous * np.exp(rng.normal(0.0, vol / 3, n))
    # A walk may wander towards zero over decades; a cent is the floor it stops at.
    opens = np.maximum(np.round(opens, 4), 0.01)
    closes = np.maximum(np.round(closes, 4), 0.01)
    top, bottom = np.maximum(opens, closes), np.minimum(opens, closes)
    highs = top * (1 + np.abs(rng.normal(0.0, vol / 2, n)))
    lows = bottom * (1 - np.abs(rng.normal(0.0, vol / 2, n)))
    highs = np.maximum(np.ceil(highs * _TICK) / _TICK, top)
    lows = np.clip(np.floor(lows * _TICK) / _TICK, 0.0001, bottom)
    mean_volume = float(rng.uniform(13.0, 17.5))
    volumes = rng.lognormal(mean=mean_volume, sigma=0.4, size=n).astype(np.int64)
    return pd.DataFrame(
        {
            "date": list(days),
            "open": opens,
            "high": highs,
            "low": lows,
            "close": closes,
            "volume": volumes,
        }
    )
