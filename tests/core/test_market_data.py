"""core owns the market data: one symbol look-up, one bars reader, one bars writer."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import pytest
from django.db import IntegrityError

from core.errors import InvalidInput, UnknownSymbol
from core.market import BAR_COLUMNS, normalise_ticker
from core.models import PriceBar
from core.selectors import bars_frame, symbol_get
from core.services import prices_upsert, symbol_get_or_create
from tests.factories import make_symbol

pytestmark = pytest.mark.django_db


def _bars(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(BAR_COLUMNS))


def test_an_unknown_ticker_gets_the_one_unknown_symbol_error():
    with pytest.raises(UnknownSymbol) as caught:
        symbol_get("NOPE")
    assert (caught.value.status, caught.value.code) == (404, "unknown_symbol")
    assert caught.value.message == "There is no symbol NOPE; fetch its prices first."


@pytest.mark.parametrize("raw", ["", "TOO-LONG-TICKER", "BRK B", "ab$"])
def test_a_malformed_ticker_is_refused(raw):
    with pytest.raises(InvalidInput):
        normalise_ticker(raw)


def test_a_ticker_is_upper_cased_and_trimmed_once_for_every_caller():
    assert normalise_ticker("  brk.b ") == "BRK.B"
    assert symbol_get_or_create(ticker=" ibm").ticker == "IBM"


def test_upsert_rounds_to_four_decimals_and_reports_what_it_wrote():
    symbol = make_symbol("ACME")
    bars = _bars(
        (date(2024, 6, 3), "10.00004", "11", "9", "10.5", 100),
        (date(2024, 6, 4), "10.5", "11", "10", "10.75", 200),
    )
    assert prices_upsert(symbol=symbol, bars=bars, source="sample") == (2, 0)
    assert bars_frame(symbol)["open"].tolist() == [Decimal("10.0000"), Decimal("10.5")]
    # The same data again writes nothing; a changed day is an update.
    assert prices_upsert(symbol=symbol, bars=bars, source="sample") == (0, 0)
    changed = _bars((date(2024, 6, 4), "10.5", "11", "10", "10.8", 200))
    assert prices_upsert(symbol=symbol, bars=changed, source="import") == (0, 1)
    stored = PriceBar.objects.get(symbol=symbol, date=date(2024, 6, 4))
    assert (stored.close, stored.source) == (Decimal("10.8000"), "import")


def test_upsert_leaves_bars_that_break_a_price_rule_to_the_database():
    symbol = make_symbol("ACME")
    with pytest.raises(IntegrityError):
        prices_upsert(
            symbol=symbol,
            bars=_bars((date(2024, 6, 3), "10", "9", "11", "10", 1)),
            source="sample",
        )


def test_bars_frame_reads_a_date_range_oldest_first():
    symbol = make_symbol("ACME")
    prices_upsert(
        symbol=symbol,
        bars=_bars(
            (date(2024, 6, 5), "1", "1", "1", "1", 1),
            (date(2024, 6, 3), "1", "1", "1", "1", 1),
            (date(2024, 6, 4), "1", "1", "1", "1", 1),
        ),
        source="sample",
    )
    frame = bars_frame(symbol, start=date(2024, 6, 4))
    assert list(frame.columns) == list(BAR_COLUMNS)
    assert frame["date"].tolist() == [date(2024, 6, 4), date(2024, 6, 5)]
