"""manage.py generate_scale_data: seeded sample bars for scale tests, re-runnable."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Max, Min, Q

from core.models import PriceBar, Symbol
from core.sessions import is_session
from tests.factories import make_symbol

pytestmark = pytest.mark.django_db


def _generate(*args: str) -> str:
    out = io.StringIO()
    call_command("generate_scale_data", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_it_stores_a_year_of_valid_session_bars_per_generated_symbol():
    out = _generate("--symbols", "3", "--years", "1")

    symbols = Symbol.objects.order_by("ticker")
    assert [s.ticker for s in symbols] == ["ZZ0000", "ZZ0001", "ZZ0002"]
    # Off the watchlist: the nightly refresh must not ask the provider for them.
    assert not any(symbol.is_active for symbol in symbols)
    per_symbol = PriceBar.objects.values("symbol").annotate(n=Count("id"))
    counts = {row["n"] for row in per_symbol}
    assert len(counts) == 1
    (sessions,) = counts
    assert 245 <= sessions <= 255  # a year of NYSE sessions
    assert f"{3 * sessions:,} inserted, 0 updated" in out
    days = set(PriceBar.objects.values_list("date", flat=True))
    assert all(is_session(day) for day in days)
    broken = PriceBar.objects.filter(
        Q(low__gt=F("open"))
        | Q(low__gt=F("close"))
        | Q(high__lt=F("open"))
        | Q(high__lt=F("close"))
        | Q(low__lte=0)
        | Q(volume__lte=0)
    )
    assert not broken.exists()
    assert set(PriceBar.objects.values_list("source", flat=True)) == {"sample"}


def test_symbols_walk_apart_and_the_same_seed_gives_the_same_bars():
    _generate("--symbols", "2", "--years", "1")
    closes = {
        row["symbol__ticker"]: (row["low"], row["high"])
        for row in PriceBar.objects.values("symbol__ticker").annotate(
            low=Min("close"), high=Max("close")
        )
    }
    assert closes["ZZ0000"] != closes["ZZ0001"]

    again = _generate("--symbols", "2", "--years", "1")
    assert " 0 inserted, 0 updated" in again
    other_seed = _generate("--symbols", "2", "--years", "1", "--seed", "17")
    assert " 0 inserted, 0 updated" not in other_seed


def test_more_years_later_add_only_the_older_days():
    first = _generate("--symbols", "1", "--years", "1")
    stored = PriceBar.objects.count()
    second = _generate("--symbols", "1", "--years", "2")
    assert f"{stored:,} unchanged" in second
    assert PriceBar.objects.count() > stored
    assert "0 updated" in first and "0 updated" in second


def test_delete_removes_the_generated_symbols_only():
    real = make_symbol("ZZ")  # not a generated ticker: prefix and four digits
    _generate("--symbols", "2", "--years", "1")

    out = _generate("--delete")

    assert "Deleted 2 generated symbols" in out
    assert list(Symbol.objects.all()) == [real]
    assert not PriceBar.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--symbols", "0"), "--symbols must be 1 to 10,000"),
        (("--symbols", "10001"), "--symbols must be 1 to 10,000"),
        (("--years", "0"), "--years must be 1 to 30"),
    ],
)
def test_sizes_out_of_range_are_refused(args, message):
    with pytest.raises(CommandError, match=message):
        _generate(*args)
    assert not Symbol.objects.exists()
