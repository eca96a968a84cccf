"""The data rules live in the database: writes that skip the ORM's checks still fail."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction

from core.models import PriceBar
from tests.factories import make_bars, make_symbol

pytestmark = pytest.mark.django_db


def insert_bar(
    symbol_id: int, day: str, o: str, h: str, low: str, c: str, v: int
) -> None:
    """Raw SQL insert: no model validation, no clean(), only the database's rules."""
    table = PriceBar._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (symbol_id, date, open, high, low, close, volume, source) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, %s, %s, %s, 'sample')",
            [symbol_id, day, o, h, low, c, v],
        )


def test_a_valid_bar_is_accepted():
    symbol = make_symbol("OK")
    insert_bar(symbol.pk, "2024-06-03", "10", "11", "9", "10.5", 100)
    assert PriceBar.objects.filter(symbol=symbol).count() == 1


@pytest.mark.parametrize(
    ("o", "h", "low", "c", "v"),
    [
        ("10", "9", "11", "10", 100),  # high below low
        ("12", "11", "9", "10", 100),  # open above high
        ("10", "11", "9", "8", 100),  # close below low
        ("0", "11", "0", "10", 100),  # zero price
        ("-1", "11", "-2", "10", 100),  # negative price
        ("10", "11", "9", "10", -1),  # negative volume
    ],
)
def test_bars_breaking_a_price_rule_are_refused_by_the_database(o, h, low, c, v):
    symbol = make_symbol("BAD")
    with pytest.raises(IntegrityError):
        insert_bar(symbol.pk, "2024-06-03", o, h, low, c, v)
    assert not PriceBar.objects.filter(symbol=symbol).exists()


def test_high_below_low_is_refused_through_bulk_create_too():
    symbol = make_symbol("BULK")
    bar = PriceBar(
        symbol=symbol,
        date=date(2024, 6, 3),
        open=10,
        high=9,
        low=11,
        close=10,
        volume=1,
        source="sample",
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        PriceBar.objects.bulk_create([bar])


def test_a_second_bar_for_the_same_symbol_and_day_is_refused():
    symbol = make_symbol("DUP")
    make_bars(symbol, start=date(2024, 6, 3), closes=[10.0])
    with pytest.raises(IntegrityError):
        insert_bar(symbol.pk, "2024-06-03", "10", "11", "9", "10", 5)
    assert PriceBar.objects.filter(symbol=symbol).count() == 1


def test_ticker_format_is_enforced_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        make_symbol("aapl;drop")
