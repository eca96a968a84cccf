"""The figures of a symbol's bars stored on Symbol: after every write of bars or
splits they equal what its bars say (counted here straight from the bars)."""

from __future__ import annotations

import importlib
from datetime import UTC, date, datetime
from decimal import Decimal

import pandas as pd
import pytest
from django.apps import apps
from django.db.models import Count, Max, Min

from core.adjustment import Action
from core.models import CorporateAction, PriceBar, Symbol
from core.services import (
    corporate_actions_delete,
    corporate_actions_upsert,
    price_bars_delete,
    prices_upsert,
    scale_symbols_delete,
    suspected_split_confirm,
    symbol_save,
)
from core.sessions import sessions_between
from tests.factories import make_symbol

pytestmark = pytest.mark.django_db

DAYS = sessions_between(date(2024, 4, 1), date(2024, 6, 28))
SPLIT_DAY = DAYS[30]
LATER = datetime(2024, 7, 1, 21, 0, tzinfo=UTC)  # every day above has closed


def frame(days: list[date], *, price: float = 400.0, split_on: date | None = None):
    prices = [price / 4 if split_on and day >= split_on else price for day in days]
    return pd.DataFrame(
        {
            "date": days,
            "open": prices,
            "high": prices,
            "low": prices,
            "close": prices,
            "volume": [1_000] * len(days),
        }
    )


def stored(symbol: Symbol) -> dict[str, object]:
    symbol = Symbol.objects.get(pk=symbol.pk)
    return {
        "bar_count": symbol.bar_count,
        "first_bar_date": symbol.first_bar_date,
        "last_bar_date": symbol.last_bar_date,
        "last_close": symbol.last_close,
        "source_count": symbol.source_count,
    }


def counted(symbol: Symbol) -> dict[str, object]:
    """The same figures aggregated from the bars themselves."""
    bars = PriceBar.objects.filter(symbol=symbol)
    totals = bars.aggregate(
        bar_count=Count("pk"),
        first_bar_date=Min("date"),
        last_bar_date=Max("date"),
        source_count=Count("source", distinct=True),
    )
    last = bars.order_by("-date").first()
    return {**totals, "last_close": last.close if last else None}


def test_a_write_of_bars_stores_their_figures():
    symbol = make_symbol("FIG")

    prices_upsert(symbol=symbol, bars=frame(DAYS[:40]), source="sample", now=LATER)

    assert stored(symbol) == counted(symbol)
    assert stored(symbol)["bar_count"] == 40
    assert symbol.bar_count == 40  # the caller's object too: a later save keeps it


def test_more_days_a_changed_close_and_another_source_move_the_figures():
    symbol = make_symbol("FIG")
    prices_upsert(symbol=symbol, bars=frame(DAYS[:40]), source="sample", now=LATER)
    changed = frame(DAYS[35:]).assign(close=399.5, low=399.5)

    prices_upsert(symbol=symbol, bars=changed, source="alpha_vantage", now=LATER)

    assert stored(symbol) == counted(symbol)
    assert stored(symbol)["last_close"] == Decimal("399.5")
    assert stored(symbol)["source_count"] == 2
    assert Symbol.objects.get(pk=symbol.pk).missing_sessions == 0


def test_deleting_bars_recounts_and_deleting_all_empties_the_figures():
    symbol = make_symbol("FIG")
    prices_upsert(symbol=symbol, bars=frame(DAYS), source="sample", now=LATER)

    price_bars_delete(bars=PriceBar.objects.filter(symbol=symbol, date=DAYS[-1]))
    price_bars_delete(bars=PriceBar.objects.filter(symbol=symbol, date=DAYS[10]))

    assert stored(symbol) == counted(symbol)
    assert stored(symbol)["last_bar_date"] == DAYS[-2]
    assert Symbol.objects.get(pk=symbol.pk).missing_sessions == 1

    price_bars_delete(bars=PriceBar.objects.filter(symbol=symbol))

    assert stored(symbol) == {
        "bar_count": 0,
        "first_bar_date": None,
        "last_bar_date": None,
        "last_close": None,
        "source_count": 0,
    }


def test_a_suspected_split_is_counted_until_a_split_is_recorded():
    symbol = make_symbol("JUMP")
    bars = frame(DAYS, split_on=SPLIT_DAY)
    prices_upsert(symbol=symbol, bars=bars, source="sample", now=LATER)
    assert Symbol.objects.get(pk=symbol.pk).suspected_splits == 1

    suspected_split_confirm(symbol=symbol, day=SPLIT_DAY)
    assert Symbol.objects.get(pk=symbol.pk).suspected_splits == 0

    corporate_actions_delete(actions=CorporateAction.objects.filter(symbol=symbol))
    assert Symbol.objects.get(pk=symbol.pk).suspected_splits == 1

    corporate_actions_upsert(
        symbol=symbol, actions=[Action("split", SPLIT_DAY, Decimal(4))], source="import"
    )
    assert Symbol.objects.get(pk=symbol.pk).suspected_splits == 0


def test_staff_saving_a_symbol_read_before_a_write_keep_the_new_figures():
    symbol = make_symbol("EDIT")
    read_earlier = Symbol.objects.get(pk=symbol.pk)
    prices_upsert(symbol=symbol, bars=frame(DAYS), source="sample", now=LATER)

    written = Symbol.objects.get(pk=symbol.pk).data_version

    read_earlier.name = "Edited"
    symbol_save(symbol=read_earlier)

    after = Symbol.objects.get(pk=symbol.pk)
    assert after.name == "Edited"
    assert stored(symbol) == counted(symbol) and stored(symbol)["bar_count"] > 0
    # Not the version read before the write: no process may answer from older bars.
    assert after.data_version == written != read_earlier.data_version


def test_deleting_generated_symbols_leaves_the_others_figures_alone():
    kept, generated = make_symbol("KEEP"), make_symbol("ZZ0001")
    for symbol in (kept, generated):
        prices_upsert(symbol=symbol, bars=frame(DAYS), source="sample", now=LATER)

    scale_symbols_delete(ticker_regex=r"^ZZ[0-9]{4}$")

    assert not Symbol.objects.filter(ticker="ZZ0001").exists()
    assert stored(kept) == counted(kept) and stored(kept)["bar_count"] == len(DAYS)


def test_the_migration_fills_the_figures_of_bars_stored_before_it():
    symbol = make_symbol("OLD")
    prices_upsert(symbol=symbol, bars=frame(DAYS), source="sample", now=LATER)
    Symbol.objects.update(bar_count=0, first_bar_date=None, last_close=None)
    migration = importlib.import_module("core.migrations.0008_symbol_figures")

    migration.figures_filled(apps, None)

    assert stored(symbol) == counted(symbol) and stored(symbol)["bar_count"] > 0


def test_a_fetch_stores_the_figures_of_what_it_fetched():
    from ingestion.providers.sample import SampleProvider
    from ingestion.services.fetch import prices_fetch

    prices_fetch(ticker="IBM", provider=SampleProvider(today=date(2026, 11, 24)))

    symbol = Symbol.objects.get(ticker="IBM")
    assert stored(symbol) == counted(symbol) and symbol.bar_count > 200
    assert symbol.missing_sessions == 0 and symbol.suspected_splits == 0
