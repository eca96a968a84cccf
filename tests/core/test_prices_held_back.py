"""A daily bar is stored once its session closed: today's waits for 16:00 New York."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from core.market import BAR_COLUMNS
from core.models import PriceBar, Symbol
from core.services import prices_upsert
from ingestion.providers.base import ProviderResult
from ingestion.services.fetch import prices_fetch
from tests.factories import make_symbol

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
MONDAY, TUESDAY = date(2026, 11, 30), date(2026, 12, 1)


def _bars(*days: date) -> pd.DataFrame:
    return pd.DataFrame(
        [(day, "100", "101", "99", "100.5", 1_000) for day in days],
        columns=list(BAR_COLUMNS),
    )


def _stored(symbol) -> list[date]:
    return list(
        PriceBar.objects.filter(symbol=symbol)
        .order_by("date")
        .values_list("date", flat=True)
    )


def test_todays_bar_before_the_close_is_held_back_and_stored_after_it():
    symbol = make_symbol("ACME")
    before_close = datetime(2026, 12, 1, 15, 59, tzinfo=NEW_YORK)

    counts = prices_upsert(
        symbol=symbol, bars=_bars(MONDAY, TUESDAY), source="sample", now=before_close
    )

    assert counts == (1, 0)
    assert _stored(symbol) == [MONDAY]

    at_close = datetime(2026, 12, 1, 16, 0, tzinfo=NEW_YORK)
    counts = prices_upsert(
        symbol=symbol, bars=_bars(MONDAY, TUESDAY), source="sample", now=at_close
    )

    assert counts == (1, 0)
    assert _stored(symbol) == [MONDAY, TUESDAY]


def test_an_early_close_day_is_final_at_13_00():
    symbol = make_symbol("ACME")
    day_after_thanksgiving = date(2026, 11, 27)
    bars = _bars(day_after_thanksgiving)

    prices_upsert(
        symbol=symbol,
        bars=bars,
        source="sample",
        now=datetime(2026, 11, 27, 12, 59, tzinfo=NEW_YORK),
    )
    assert _stored(symbol) == []

    prices_upsert(
        symbol=symbol,
        bars=bars,
        source="sample",
        now=datetime(2026, 11, 27, 13, 1, tzinfo=NEW_YORK),
    )
    assert _stored(symbol) == [day_after_thanksgiving]


def test_a_bar_dated_after_the_last_closed_session_is_never_stored():
    symbol = make_symbol("ACME")
    # Saturday morning: Friday's session closed; Monday's has not happened.
    saturday = datetime(2026, 12, 5, 9, 0, tzinfo=NEW_YORK)

    prices_upsert(
        symbol=symbol,
        bars=_bars(date(2026, 12, 4), date(2026, 12, 5), date(2026, 12, 7)),
        source="import",
        now=saturday,
    )

    assert _stored(symbol) == [date(2026, 12, 4)]


def test_the_writer_uses_the_current_time_when_none_is_given():
    symbol = make_symbol("ACME")
    # New York's date is never after UTC's, so UTC's tomorrow has not traded.
    tomorrow = datetime.now(tz=UTC).date() + timedelta(days=1)

    assert prices_upsert(symbol=symbol, bars=_bars(tomorrow), source="sample") == (
        0,
        0,
    )
    assert _stored(symbol) == []


class _Provider:
    """Answers the bars it was given, as a provider whose answer runs to today would."""

    name = "sample"

    def __init__(self, bars: pd.DataFrame) -> None:
        self.bars = bars

    def fetch_daily(self, symbol: str, since: date | None = None) -> ProviderResult:
        return ProviderResult(bars=self.bars, source="sample", notes=("From a stub.",))


def test_a_fetch_says_how_many_bars_it_held_back():
    today_utc = datetime.now(tz=UTC).date()
    later = [today_utc + timedelta(days=1), today_utc + timedelta(days=2)]
    provider = _Provider(_bars(date(2026, 11, 27), MONDAY, *later))

    result = prices_fetch(ticker="ACME", provider=provider)

    assert result.inserted == 2 and result.received == 2
    assert result.last_date == MONDAY
    assert result.notes == (
        "From a stub.",
        "2 bars were held back: their sessions had not closed yet (a daily bar is "
        "final after the New York close, 16:00); a fetch after the close stores them.",
    )
    assert _stored(Symbol.objects.get(ticker="ACME")) == [date(2026, 11, 27), MONDAY]


def test_a_fetch_with_nothing_to_hold_back_adds_no_note():
    provider = _Provider(_bars(date(2026, 11, 27), MONDAY))

    result = prices_fetch(ticker="ACME", provider=provider)

    assert result.inserted == 2 and result.notes == ("From a stub.",)
