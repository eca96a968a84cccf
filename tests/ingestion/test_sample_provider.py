"""The offline sample looks like a market: sessions only, plausible levels, one split."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from core.adjustment import SPLITS, Action, adjust
from core.sessions import sessions_between
from core.split_detection import suspected_splits
from ingestion.providers.base import ActionsProvider
from ingestion.providers.sample import (
    SAMPLE_NAMES,
    SAMPLE_NOTE,
    SampleProvider,
    sample_actions,
)

NEW_YORK = ZoneInfo("America/New_York")
TODAY = date(2026, 11, 24)
SPLIT_DAY = date(2025, 11, 17)
# Near where each traded over the two years before TODAY (issue 13, point 7).
LEVELS = {
    "AAPL": (150, 250),
    "MSFT": (300, 500),
    "IBM": (130, 250),
    "SPY": (400, 600),
}
HOLIDAYS = [
    date(2025, 1, 1),
    date(2025, 1, 9),  # the national day of mourning for President Carter
    date(2025, 4, 18),  # Good Friday
    date(2025, 7, 4),
    date(2025, 11, 27),  # Thanksgiving
    date(2025, 12, 25),
    date(2026, 4, 3),  # Good Friday
    date(2026, 11, 26),  # Thanksgiving
]


def _bars(ticker: str, **provider: object) -> pd.DataFrame:
    return SampleProvider(**provider).fetch_daily(ticker).bars


def _last_two_years(bars: pd.DataFrame, end: date = TODAY) -> pd.DataFrame:
    return bars[bars["date"] > end - timedelta(days=730)]


@pytest.mark.parametrize("ticker", [*SAMPLE_NAMES, "ACME"])
def test_bars_fall_on_nyse_sessions_only_and_on_every_one(ticker):
    bars = _bars(ticker, today=TODAY)

    days = bars["date"].tolist()
    assert days == sessions_between(days[0], TODAY)
    assert not set(HOLIDAYS) & set(days)
    assert all(day.weekday() < 5 for day in days)


@pytest.mark.parametrize(("ticker", "levels"), LEVELS.items())
def test_each_known_ticker_trades_near_its_real_level(ticker, levels):
    recent = _last_two_years(_bars(ticker, today=TODAY))
    low, high = levels

    assert len(recent) > 480
    for column in ("open", "high", "low", "close"):
        prices = recent[column].astype(float)
        assert low <= prices.min() and prices.max() <= high, (ticker, column)
    # A market moves: over two years the close spans more than a tenth of its level.
    closes = recent["close"].astype(float)
    assert closes.max() / closes.min() > 1.10


@pytest.mark.parametrize("ticker", [*SAMPLE_NAMES, "ACME"])
def test_bars_keep_the_price_rules_and_daily_moves_stay_ordinary(ticker):
    bars = _bars(ticker, today=TODAY)
    adjusted, _ = adjust(bars, sample_actions(ticker), SPLITS)

    assert (bars["low"] <= bars[["open", "close"]].min(axis=1)).all()
    assert (bars[["open", "close"]].max(axis=1) <= bars["high"]).all()
    assert (bars["low"] > 0).all() and (bars["volume"] > 0).all()
    moves = adjusted["close"].astype(float).pct_change().abs().dropna()
    assert moves.max() < 0.12
    assert 0.005 < moves.median() < 0.02


def test_no_bar_for_today_before_the_close():
    tuesday = date(2026, 12, 1)
    morning = datetime(2026, 12, 1, 10, 0, tzinfo=NEW_YORK)
    evening = datetime(2026, 12, 1, 16, 5, tzinfo=NEW_YORK)

    assert _bars("AAPL", now=morning)["date"].iloc[-1] == date(2026, 11, 30)
    assert _bars("AAPL", now=evening)["date"].iloc[-1] == tuesday


def test_the_same_ticker_and_day_always_get_the_same_bar():
    earlier = _bars("MSFT", today=TODAY)
    later = _bars("MSFT", today=TODAY + timedelta(days=90))

    pd.testing.assert_frame_equal(later.iloc[: len(earlier)], earlier)
    assert len(later) > len(earlier)
    # An unknown ticker too, and tickers differ from one another.
    pd.testing.assert_frame_equal(_bars("ZZZ", today=TODAY), _bars("ZZZ", today=TODAY))
    assert not _bars("ZZZ", today=TODAY)["close"].equals(
        _bars("ZZY", today=TODAY)["close"]
    )


def test_since_cuts_the_answer_without_changing_it():
    whole = _bars("IBM", today=TODAY)
    since = date(2026, 6, 1)

    part = SampleProvider(today=TODAY).fetch_daily("IBM", since=since).bars

    pd.testing.assert_frame_equal(
        part, whole[whole["date"] >= since].reset_index(drop=True)
    )


def test_sample_data_is_labelled_as_sample():
    result = SampleProvider(today=TODAY).fetch_daily("AAPL")

    assert result.source == "sample" and result.notes == (SAMPLE_NOTE,)
    assert all(name.endswith("(sample)") for name in SAMPLE_NAMES.values())


def test_the_split_symbol_jumps_as_traded_and_its_action_removes_the_jump():
    bars = _bars("NFLX", today=TODAY)
    before = bars[bars["date"] < SPLIT_DAY].iloc[-1]
    on = bars[bars["date"] == SPLIT_DAY].iloc[0]

    # As traded: about a tenth of the price, ten times the shares.
    assert 8 < before["close"] / on["open"] < 12
    assert 900 < float(before["close"]) < 1300 and 90 < float(on["open"]) < 130
    assert on["volume"] > 4 * before["volume"]
    # Unrecorded, it looks like a 10-for-1 split; with its action it is adjusted away.
    suspected = suspected_splits(bars, [])
    assert [(s.day, s.factor) for s in suspected] == [(SPLIT_DAY, Decimal(10))]
    actions = sample_actions("NFLX")
    assert actions == [Action(kind="split", day=SPLIT_DAY, value=Decimal(10))]
    assert suspected_splits(bars, [SPLIT_DAY]) == []
    adjusted, applied = adjust(bars, actions, SPLITS)
    adjusted_before = adjusted[adjusted["date"] < SPLIT_DAY].iloc[-1]
    assert 0.85 < adjusted_before["close"] / on["open"] < 1.15
    assert [a.action for a in applied] == actions


def test_the_provider_lists_the_split_as_a_sample_action():
    provider = SampleProvider(today=TODAY)

    assert isinstance(provider, ActionsProvider)
    split = provider.fetch_actions("NFLX")
    assert split.source == "sample"
    assert split.actions == (Action(kind="split", day=SPLIT_DAY, value=Decimal(10)),)
    assert provider.fetch_actions("AAPL").actions == ()
    # Not in effect yet on a day before it: nothing to list.
    assert SampleProvider(today=date(2025, 11, 14)).fetch_actions("NFLX").actions == ()
