"""prices_upsert writes new and changed days only: an unchanged day's row is left as
it is (same row version on PostgreSQL, no change counted on SQLite)."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import pandas as pd
import pytest
from django.db import IntegrityError, connection, transaction

from core.market import BAR_COLUMNS
from core.models import PriceBar, Symbol
from core.services import prices_upsert
from tests.factories import make_symbol

pytestmark = pytest.mark.django_db

DAYS = [date(2024, 6, day) for day in (3, 4, 5, 6, 7)]


def _bars(days: list[date], close: str = "10.5") -> pd.DataFrame:
    return pd.DataFrame(
        [(day, "10", "11", "9", close, 1_000) for day in days],
        columns=list(BAR_COLUMNS),
    )


def _row_versions(symbol: Symbol) -> dict[date, tuple[str, str]]:
    """PostgreSQL's (xmin, ctid) of each stored bar: both change when a row is
    written, even with the same values."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT date, xmin::text, ctid::text FROM core_pricebar "
            "WHERE symbol_id = %s",
            [symbol.pk],
        )
        return {day: (xmin, ctid) for day, xmin, ctid in cursor.fetchall()}


def _rows_written(write) -> int:
    """Rows the database counted as inserted or updated while `write` ran."""
    if connection.vendor == "postgresql":
        counted = (
            "SELECT n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables "
            "WHERE relname = 'core_pricebar'"
        )
    else:
        counted = "SELECT total_changes()"
    with connection.cursor() as cursor:
        cursor.execute(counted)
        before = cursor.fetchone()[0]
        write()
        cursor.execute(counted)
        return int(cursor.fetchone()[0] - before)


def test_a_refetch_of_unchanged_bars_touches_no_row():
    symbol = make_symbol("ACME")
    assert prices_upsert(symbol=symbol, bars=_bars(DAYS), source="sample") == (5, 0)
    versions = _row_versions(symbol) if connection.vendor == "postgresql" else None

    counts: list[tuple[int, int]] = []
    written = _rows_written(
        lambda: counts.append(
            prices_upsert(symbol=symbol, bars=_bars(DAYS), source="sample")
        )
    )

    assert counts == [(0, 0)]
    assert written == 0
    if versions is not None:
        assert _row_versions(symbol) == versions


def test_new_changed_and_unchanged_days_are_counted_and_only_two_kinds_written():
    symbol = make_symbol("ACME")
    prices_upsert(symbol=symbol, bars=_bars(DAYS[:3]), source="sample")
    versions = _row_versions(symbol) if connection.vendor == "postgresql" else None
    # Days 3 and 4 as stored, day 5 with another close, days 6 and 7 new.
    bars = _bars(DAYS)
    bars.loc[2, "close"] = "10.75"

    counts: list[tuple[int, int]] = []
    written = _rows_written(
        lambda: counts.append(prices_upsert(symbol=symbol, bars=bars, source="sample"))
    )

    assert counts == [(2, 1)]
    # SQLite's total_changes() counts every table: there, the symbol's row with the
    # refreshed figures is one more.
    assert written == 3 + (connection.vendor != "postgresql")
    stored = dict(PriceBar.objects.filter(symbol=symbol).values_list("date", "close"))
    assert stored == {
        DAYS[0]: Decimal("10.5"),
        DAYS[1]: Decimal("10.5"),
        DAYS[2]: Decimal("10.75"),
        DAYS[3]: Decimal("10.5"),
        DAYS[4]: Decimal("10.5"),
    }
    if versions is not None:
        after = _row_versions(symbol)
        assert [after[day] == versions[day] for day in DAYS[:3]] == [True, True, False]


def test_a_new_source_alone_is_an_update():
    symbol = make_symbol("ACME")
    prices_upsert(symbol=symbol, bars=_bars(DAYS[:2]), source="sample")
    assert prices_upsert(symbol=symbol, bars=_bars(DAYS[:2]), source="import") == (
        0,
        2,
    )
    assert set(PriceBar.objects.values_list("source", flat=True)) == {"import"}


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        # Halves go to the even last digit, whatever type the provider gives.
        ("10.00005", Decimal("10.0000")),
        ("10.00015", Decimal("10.0002")),
        (Decimal("10.00025"), Decimal("10.0002")),
        (Decimal("10.000251"), Decimal("10.0003")),
        (10.25, Decimal("10.2500")),
    ],
)
def test_prices_are_rounded_half_to_even_to_four_decimals(given, stored):
    symbol = make_symbol("ACME")
    bars = pd.DataFrame(
        [(DAYS[0], given, "11", "9", "10.5", 1)], columns=list(BAR_COLUMNS)
    )
    prices_upsert(symbol=symbol, bars=bars, source="sample")
    assert PriceBar.objects.get(symbol=symbol).open == stored


def test_writes_of_two_symbols_in_one_transaction_keep_their_own_bars():
    first, second = make_symbol("ACME"), make_symbol("BETA")
    with transaction.atomic():
        assert prices_upsert(symbol=first, bars=_bars(DAYS), source="sample") == (5, 0)
        assert prices_upsert(
            symbol=second, bars=_bars(DAYS[:2], close="10.25"), source="sample"
        ) == (2, 0)
    assert PriceBar.objects.filter(symbol=first).count() == 5
    assert list(
        PriceBar.objects.filter(symbol=second).values_list("close", flat=True)
    ) == [Decimal("10.25"), Decimal("10.25")]


def test_a_refused_write_stores_nothing_and_the_next_write_goes_on():
    symbol = make_symbol("ACME")
    broken = _bars(DAYS[:2])
    broken.loc[1, "low"] = "12"  # above the high
    with transaction.atomic():
        with pytest.raises(IntegrityError):
            prices_upsert(symbol=symbol, bars=broken, source="sample")
        assert prices_upsert(symbol=symbol, bars=_bars(DAYS), source="sample") == (
            5,
            0,
        )
    assert PriceBar.objects.filter(symbol=symbol).count() == 5


def test_timestamp_dates_are_stored_and_compared_as_days():
    symbol = make_symbol("ACME")
    bars = _bars(DAYS).assign(date=pd.to_datetime(DAYS))
    assert prices_upsert(symbol=symbol, bars=bars, source="sample") == (5, 0)
    assert prices_upsert(symbol=symbol, bars=bars, source="sample") == (0, 0)
    assert list(PriceBar.objects.values_list("date", flat=True)) == DAYS


@pytest.mark.django_db(transaction=True)
def test_writes_outside_a_transaction_each_commit_their_own_bars():
    symbol = make_symbol("ACME")
    assert not connection.in_atomic_block
    assert prices_upsert(symbol=symbol, bars=_bars(DAYS[:3]), source="sample") == (
        3,
        0,
    )
    assert prices_upsert(symbol=symbol, bars=_bars(DAYS), source="sample") == (2, 0)
    assert PriceBar.objects.filter(symbol=symbol).count() == 5


def test_float_prices_are_stored_as_their_exact_value_rounds():
    """Generated bars come as floats: each stored as Decimal(float) rounds it."""
    symbol = make_symbol("ACME")
    rng = np.random.default_rng(16)
    # Near-halves (x.xxxx5 typed as floats) and arbitrary values of every size.
    prices = [
        *(np.round(rng.uniform(1, 100, 40), 4) + 0.00005),
        *rng.uniform(1, 1e6, 40),
    ]
    days = pd.bdate_range("2024-01-01", periods=len(prices)).date
    bars = pd.DataFrame(
        {
            "date": days,
            "open": prices,
            "high": [p * 2 for p in prices],
            "low": [p / 2 for p in prices],
            "close": prices,
            "volume": 1,
        }
    )
    prices_upsert(symbol=symbol, bars=bars, source="sample")
    expected = [Decimal(p).quantize(Decimal("0.0001"), ROUND_HALF_EVEN) for p in prices]
    stored = PriceBar.objects.filter(symbol=symbol).values_list("open", flat=True)
    assert list(stored) == expected
    assert prices_upsert(symbol=symbol, bars=bars, source="sample") == (0, 0)
