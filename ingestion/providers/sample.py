"""Offline, deterministic sample prices for the demo and for machines with no key.

The bars are made up, and say so (SAMPLE_NOTE, the source "sample", "(sample)" in
every name), but look like a market a finance reader knows: NYSE sessions only (no
bar on Thanksgiving or Good Friday), each known ticker near the levels it traded at
lately, no bar for a session that has not closed yet, and one ticker (NFLX) with a
10-for-1 split in its history, printed as traded, with the split as its action.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

import numpy as np
import pandas as pd

from core.adjustment import Action
from core.market import BAR_COLUMNS
from core.sessions import last_completed_session, sessions_between
from ingestion.providers.base import ActionsResult, ProviderResult

SAMPLE_NOTE = "Sample data generated offline: these are not real market prices."
# Every series starts here, so a given ticker and date always get the same bar,
# whatever day the sample is fetched on: re-fetching never looks like a correction.
_ANCHOR = date(2016, 1, 4)
_CENT = Decimal("0.0001")
# How fast a price returns to its ticker's path (AR(1) in log price, per session:
# a half-life of about 23 sessions), and how far it may stray from it (log units,
# a soft bound: +-12 %). Keeps each ticker in its range whatever the draws.
_PULL = 0.97
_STRAY = 0.12


@dataclass(frozen=True)
class SampleProfile:
    """What a sample ticker looks like: its name, the closes its walk is pulled
    towards (in today's shares, after every split), its daily volatility and typical
    volume (today's shares), and its splits (effective day, new shares per old)."""

    name: str
    path: tuple[tuple[date, float], ...]
    daily_vol: float
    volume: float
    splits: tuple[tuple[date, Decimal], ...] = ()


# Paths follow the shape of each ticker's real history, kept inside a round range
# for the last two years (AAPL 150-250, MSFT 300-500, IBM 130-250, SPY 400-600);
# from 2026 on they stay level, so the demo keeps looking plausible.
SAMPLE_PROFILES: dict[str, SampleProfile] = {
    "AAPL": SampleProfile(
        name="Apple Inc. (sample)",
        path=(
            (date(2016, 1, 4), 24.0),
            (date(2018, 10, 1), 55.0),
            (date(2019, 1, 2), 38.0),
            (date(2020, 8, 3), 110.0),
            (date(2021, 12, 1), 170.0),
            (date(2022, 12, 1), 135.0),
            (date(2023, 7, 3), 190.0),
            (date(2024, 4, 15), 170.0),
            (date(2024, 12, 2), 218.0),
            (date(2025, 4, 8), 178.0),
            (date(2025, 10, 1), 215.0),
            (date(2026, 3, 2), 200.0),
            (date(2026, 9, 1), 212.0),
        ),
        daily_vol=0.016,
        volume=55e6,
    ),
    "MSFT": SampleProfile(
        name="Microsoft Corp. (sample)",
        path=(
            (date(2016, 1, 4), 55.0),
            (date(2018, 10, 1), 112.0),
            (date(2020, 2, 3), 180.0),
            (date(2021, 11, 1), 330.0),
            (date(2022, 11, 1), 230.0),
            (date(2024, 7, 1), 445.0),
            (date(2024, 12, 2), 425.0),
            (date(2025, 4, 8), 360.0),
            (date(2025, 7, 31), 440.0),
            (date(2026, 2, 2), 410.0),
            (date(2026, 9, 1), 430.0),
        ),
        daily_vol=0.014,
        volume=22e6,
    ),
    "IBM": SampleProfile(
        name="International Business Machines (sample)",
        path=(
            (date(2016, 1, 4), 135.0),
            (date(2017, 3, 1), 180.0),
            (date(2018, 12, 3), 115.0),
            (date(2020, 3, 23), 95.0),
            (date(2021, 6, 1), 145.0),
            (date(2022, 12, 1), 145.0),
            (date(2024, 3, 1), 190.0),
            (date(2024, 12, 2), 200.0),
            (date(2025, 4, 8), 185.0),
            (date(2025, 10, 1), 215.0),
            (date(2026, 4, 1), 205.0),
            (date(2026, 9, 1), 212.0),
        ),
        daily_vol=0.013,
        volume=4.5e6,
    ),
    "SPY": SampleProfile(
        name="SPDR S&P 500 ETF Trust (sample)",
        path=(
            (date(2016, 1, 4), 200.0),
            (date(2018, 1, 26), 285.0),
            (date(2018, 12, 24), 235.0),
            (date(2020, 2, 19), 335.0),
            (date(2020, 3, 23), 225.0),
            (date(2021, 12, 29), 475.0),
            (date(2022, 10, 12), 360.0),
            (date(2024, 3, 1), 510.0),
            (date(2024, 12, 2), 520.0),
            (date(2025, 4, 8), 470.0),
            (date(2025, 10, 1), 525.0),
            (date(2026, 3, 2), 505.0),
            (date(2026, 9, 1), 520.0),
        ),
        daily_vol=0.009,
        volume=65e6,
    ),
    # As traded: about 1,000 a share until the split, about 100 after it.
    "NFLX": SampleProfile(
        name="Netflix Inc. (sample)",
        path=(
            (date(2016, 1, 4), 11.0),
            (date(2018, 6, 20), 40.0),
            (date(2018, 12, 24), 25.0),
            (date(2020, 7, 10), 49.0),
            (date(2021, 11, 17), 68.0),
            (date(2022, 5, 11), 18.0),
            (date(2023, 12, 1), 47.0),
            (date(2024, 12, 2), 90.0),
            (date(2025, 6, 30), 122.0),
            (date(2025, 11, 14), 110.0),
            (date(2026, 1, 15), 95.0),
            (date(2026, 9, 1), 102.0),
        ),
        daily_vol=0.020,
        volume=40e6,
        splits=((date(2025, 11, 17), Decimal(10)),),
    ),
}
SAMPLE_NAMES = {ticker: profile.name for ticker, profile in SAMPLE_PROFILES.items()}


def _seed(ticker: str) -> int:
    return int.from_bytes(hashlib.sha256(ticker.encode()).digest()[:8], "big")


def _profile(ticker: str) -> SampleProfile:
    """The ticker's profile; any other ticker gets a level and trend of its own."""
    known = SAMPLE_PROFILES.get(ticker)
    if known is not None:
        return known
    rng = np.random.default_rng(_seed(ticker))
    start = float(np.exp(rng.uniform(np.log(20), np.log(300))))
    yearly_growth = float(rng.uniform(-0.04, 0.12))
    later = date(2030, 1, 2)
    years = (later - _ANCHOR).days / 365.25
    return SampleProfile(
        name="",
        path=((_ANCHOR, start), (later, start * math.exp(yearly_growth * years))),
        daily_vol=float(rng.uniform(0.010, 0.020)),
        volume=float(np.exp(rng.uniform(np.log(5e5), np.log(2e7)))),
    )


def _quantize(values: np.ndarray, rounding: str) -> list[Decimal]:
    return [Decimal(repr(float(v))).quantize(_CENT, rounding=rounding) for v in values]


def _log_path(profile: SampleProfile, days: list[date]) -> np.ndarray:
    """Log closes the walk is pulled towards: the path's points joined in log space,
    level before the first and after the last."""
    points = np.array([day.toordinal() for day, _ in profile.path], dtype=float)
    levels = np.log([level for _, level in profile.path])
    return np.interp([day.toordinal() for day in days], points, levels)


def _split_factors(profile: SampleProfile, days: list[date]) -> np.ndarray:
    """Per day, the product of the factors of the splits after it (1 after the last)."""
    factors = np.ones(len(days))
    for effective, factor in profile.splits:
        factors[[day < effective for day in days]] *= float(factor)
    return factors


def sample_bars(ticker: str, *, end: date, since: date | None = None) -> pd.DataFrame:
    """A ticker's sample bars from the anchor to `end`, NYSE sessions only.

    A walk pulled towards the ticker's path, with overnight gaps, intraday ranges
    and volumes that rise on big days; printed as traded (before a split, prices
    times its factor and volumes divided by it).
    """
    profile = _profile(ticker)
    days = sessions_between(_ANCHOR, end)
    if not days:
        return pd.DataFrame(columns=list(BAR_COLUMNS))
    # One row of draws per session, drawn in order: a day's draws do not depend on
    # how many days follow, so extending `end` leaves every earlier bar as it was.
    draws = np.random.default_rng(_seed(ticker)).standard_normal((len(days), 5))
    vol = profile.daily_vol
    stray = np.empty(len(days))
    level = 0.0
    for index, shock in enumerate(draws[:, 0]):
        level = _STRAY * math.tanh((_PULL * level + vol * shock) / _STRAY)
        stray[index] = level
    closes = np.exp(_log_path(profile, days) + stray)
    prev_close = np.concatenate(([closes[0]], closes[:-1]))
    opens = prev_close * np.exp(draws[:, 1] * vol / 3)
    highs = np.maximum(opens, closes) * (1 + np.abs(draws[:, 2]) * vol / 2)
    lows = np.minimum(opens, closes) * (1 - np.abs(draws[:, 3]) * vol / 2)
    # Busier on big days; 0.8 is about the median of |N(0, 1)|, so the typical day
    # trades the profile's volume.
    busier = 0.3 * (np.abs(draws[:, 0]) - 0.8)
    volumes = profile.volume * np.exp(0.25 * draws[:, 4] + busier)
    as_traded = _split_factors(profile, days)
    frame = pd.DataFrame(
        {
            "date": days,
            "open": _quantize(opens * as_traded, ROUND_HALF_EVEN),
            "high": _quantize(highs * as_traded, ROUND_CEILING),
            "low": _quantize(lows * as_traded, ROUND_FLOOR),
            "close": _quantize(closes * as_traded, ROUND_HALF_EVEN),
            "volume": [int(v) for v in volumes / as_traded],
        },
        columns=list(BAR_COLUMNS),
    )
    if since is not None:
        frame = frame[frame["date"] >= since].reset_index(drop=True)
    return frame


def sample_actions(ticker: str, *, end: date | None = None) -> list[Action]:
    """The ticker's sample splits in effect by `end` (all of them without), oldest
    first. The sample has no dividends: its bars show no ex-dividend drops."""
    profile = SAMPLE_PROFILES.get(ticker)
    splits = profile.splits if profile else ()
    return [
        Action(kind="split", day=day, value=factor)
        for day, factor in sorted(splits)
        if end is None or day <= end
    ]


class SampleProvider:
    """Serves sample bars for any valid ticker, clearly labelled as sample data.

    `today`: the sample as of that day's close (its bar included, if a session);
    otherwise up to the last session closed at `now` (default: the current time),
    so no bar of a session still trading is served.
    """

    name = "sample"

    def __init__(self, *, today: date | None = None, now: datetime | None = None):
        self.today = today
        self.now = now

    def _end(self) -> date:
        if self.today is not None:
            return self.today
        return last_completed_session(self.now or datetime.now(tz=UTC))

    def fetch_daily(self, symbol: str, since: date | None = None) -> ProviderResult:
        return ProviderResult(
            bars=sample_bars(symbol, end=self._end(), since=since),
            source="sample",
            output_size="full",
            notes=(SAMPLE_NOTE,),
        )

    def fetch_actions(self, symbol: str, *, leave_calls: int = 0) -> ActionsResult:
        """The ticker's sample splits (no call is made, so `leave_calls` is moot);
        the prices' answer already carries SAMPLE_NOTE."""
        return ActionsResult(
            actions=tuple(sample_actions(symbol, end=self._end())), source="sample"
        )
