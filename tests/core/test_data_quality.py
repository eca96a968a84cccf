"""A symbol's data-quality block (core.data_quality) on the real database: each
problem staff must see, the same verdict from the many-symbol aggregate, and a
confirmed suspected split recorded, gone from the suspects and used by the
adjusted series."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.adjustment import Action
from core.data_quality import (
    price_warnings,
    symbol_data_quality,
    symbol_suspected_splits,
    symbols_quality_facts,
    symbols_with_problems,
)
from core.errors import Conflict
from core.models import CorporateAction, PriceBar, Symbol
from core.selectors import bars_adjusted
from core.services import (
    corporate_actions_upsert,
    suspected_split_confirm,
    symbol_figures_refresh,
)
from core.sessions import sessions_between
from tests.factories import make_symbol

pytestmark = pytest.mark.django_db

FIRST, LAST = date(2024, 4, 1), date(2024, 6, 28)  # a Monday, a Friday
SESSIONS = sessions_between(FIRST, LAST)  # 63: Good Friday is before, Juneteenth in
# Friday 2024-06-28 after the 16:00 New York close: that day's session is complete.
AFTER_LAST_CLOSE = datetime(2024, 6, 28, 21, 0, tzinfo=UTC)
SPLIT_DAY = date(2024, 5, 15)


def store(
    symbol: Symbol,
    days: list[date],
    *,
    price: float = 100.0,
    source: str = PriceBar.Source.ALPHA_VANTAGE,
    split_on: date | None = None,
    factor: int = 4,
) -> None:
    """A flat series on `days`; from split_on on, the price divided by factor."""
    rows = []
    for day in days:
        value = Decimal(str(price / factor if split_on and day >= split_on else price))
        rows.append(
            PriceBar(
                symbol=symbol,
                date=day,
                open=value,
                high=value,
                low=value,
                close=value,
                volume=1000,
                source=source,
            )
        )
    PriceBar.objects.bulk_create(rows)
    symbol_figures_refresh(symbol_ids=[symbol.pk])


@pytest.fixture
def clean() -> Symbol:
    symbol = make_symbol("CLEAN")
    store(symbol, SESSIONS)
    return symbol


def codes(symbol: Symbol, now: datetime = AFTER_LAST_CLOSE) -> list[str]:
    return [p.code for p in symbol_data_quality(symbol, now=now).problems]


def test_a_symbol_with_every_session_one_source_and_no_jump_is_ok(clean):
    block = symbol_data_quality(clean, now=AFTER_LAST_CLOSE).as_dict()

    assert block["ok"] is True and block["problems"] == []
    assert block["sessions_expected"] == block["sessions_covered"] == len(SESSIONS)
    assert block["missing_sessions"] == 0 and block["closed_day_bars"] == 0
    assert block["sessions_behind"] == 0 and block["stale"] is False
    assert block["sources"] == [{"source": "alpha_vantage", "bars": len(SESSIONS)}]
    assert block["suspected_splits"] == [] and block["latest_action"] is None


def test_holidays_are_not_missing_sessions():
    """Memorial Day and Juneteenth fall inside the range; no bar is expected then."""
    symbol = make_symbol("HOLS")
    store(symbol, SESSIONS)

    block = symbol_data_quality(symbol, now=AFTER_LAST_CLOSE)

    assert date(2024, 5, 27) not in SESSIONS and date(2024, 6, 19) not in SESSIONS
    assert block.ok


def test_a_missing_session_is_counted_dated_and_named(clean):
    PriceBar.objects.filter(symbol=clean, date=date(2024, 5, 2)).delete()

    block = symbol_data_quality(clean, now=AFTER_LAST_CLOSE)
    data = block.as_dict()

    assert data["ok"] is False
    assert data["missing_sessions"] == 1
    assert data["missing_session_dates"] == ["2024-05-02"]
    assert data["sessions_covered"] == len(SESSIONS) - 1
    (problem,) = data["problems"]
    assert problem["code"] == "missing_sessions"
    assert problem["message"].startswith(f"1 NYSE session of {len(SESSIONS)} from ")


def test_a_saturday_bar_and_a_holiday_bar_are_flagged_not_deleted(clean):
    store(clean, [date(2024, 5, 11), date(2024, 5, 27)])  # a Saturday, Memorial Day

    data = symbol_data_quality(clean, now=AFTER_LAST_CLOSE).as_dict()

    assert data["closed_day_bars"] == 2
    assert data["closed_day_bar_dates"] == ["2024-05-11", "2024-05-27"]
    assert [p["code"] for p in data["problems"]] == ["closed_day_bars"]
    assert "a day the exchange was closed" in data["problems"][0]["message"]
    assert PriceBar.objects.filter(symbol=clean).count() == len(SESSIONS) + 2


def test_a_jump_like_a_split_is_a_suspect_with_its_factor_and_words():
    symbol = make_symbol("JUMP")
    store(symbol, SESSIONS, price=400.0, split_on=SPLIT_DAY)

    data = symbol_data_quality(symbol, now=AFTER_LAST_CLOSE).as_dict()

    (suspect,) = data["suspected_splits"]
    assert suspect["date"] == "2024-05-15"
    assert (suspect["factor"], suspect["ratio"]) == ("4", "4-for-1")
    assert (suspect["close_before"], suspect["open_on"]) == ("400.0000", "100.0000")
    assert "a jump like a 4-for-1 split" in suspect["message"]
    assert [p["code"] for p in data["problems"]] == ["suspected_splits"]


def test_a_recorded_split_explains_its_jump():
    symbol = make_symbol("RECORDED")
    store(symbol, SESSIONS, price=400.0, split_on=SPLIT_DAY)
    CorporateAction.objects.create(
        symbol=symbol,
        kind="split",
        date=SPLIT_DAY,
        split_factor=Decimal(4),
        source=CorporateAction.Source.ALPHA_VANTAGE,
    )

    data = symbol_data_quality(symbol, now=AFTER_LAST_CLOSE).as_dict()

    assert data["ok"] and data["suspected_splits"] == []
    assert data["actions_recorded"] == 1
    assert data["latest_action"] == {
        "kind": "split",
        "date": "2024-05-15",
        "value": "4",
        "source": "alpha_vantage",
    }


def test_a_last_bar_behind_the_last_completed_session_is_stale_by_that_many(clean):
    # Wednesday 2024-07-10 after the close: July 1, 2, 3, 5, 8, 9 and 10 traded
    # (July 4 did not), seven sessions the symbol has no bar for.
    later = datetime(2024, 7, 10, 21, 0, tzinfo=UTC)

    data = symbol_data_quality(clean, now=later).as_dict()

    assert data["last_completed_session"] == "2024-07-10"
    assert data["sessions_behind"] == 7 and data["stale"] is True
    assert [p["code"] for p in data["problems"]] == ["stale"]
    assert "7 sessions behind" in data["problems"][0]["message"]


def test_a_bar_of_today_is_not_stale_before_the_close(clean):
    # Monday 2024-07-01 at noon in New York: Friday's bar is the newest final one.
    monday_noon = datetime(2024, 7, 1, 16, 0, tzinfo=UTC)

    assert codes(clean, monday_noon) == []


def test_bars_from_two_sources_are_mixed(clean):
    store(clean, [date(2024, 3, 28)], source=PriceBar.Source.IMPORT)

    data = symbol_data_quality(clean, now=AFTER_LAST_CLOSE).as_dict()

    assert data["sources_mixed"] is True
    assert data["sources"] == [
        {"source": "alpha_vantage", "bars": len(SESSIONS)},
        {"source": "import", "bars": 1},
    ]
    assert [p["code"] for p in data["problems"]] == ["mixed_sources"]


def test_a_symbol_without_bars_has_that_one_problem():
    symbol = make_symbol("EMPTY")

    data = symbol_data_quality(symbol, now=AFTER_LAST_CLOSE).as_dict()

    assert [p["code"] for p in data["problems"]] == ["no_bars"]
    assert data["first_date"] is None and data["sessions_expected"] == 0


def test_the_provider_answer_about_actions_is_carried(clean):
    clean.actions_available = False
    clean.actions_fetched_at = datetime(2024, 6, 28, 22, 0, tzinfo=UTC)
    clean.save()

    data = symbol_data_quality(clean, now=AFTER_LAST_CLOSE).as_dict()

    assert data["actions_available"] is False
    assert data["actions_fetched_at"] == "2024-06-28T22:00:00+00:00"


# --- many symbols at once: the same verdict, a fixed number of queries --------------


def every_problem() -> list[Symbol]:
    """One symbol per problem, and a clean one."""
    built = []
    for ticker in ("OK", "MISS", "SAT", "SPLIT", "MIX", "OLD"):
        symbol = make_symbol(ticker)
        days = SESSIONS[:-5] if ticker == "OLD" else SESSIONS
        if ticker == "MISS":
            days = [day for day in days if day != date(2024, 5, 2)]
        store(
            symbol, days, price=400.0, split_on=SPLIT_DAY if ticker == "SPLIT" else None
        )
        built.append(symbol)
    store(Symbol.objects.get(ticker="SAT"), [date(2024, 5, 11)], price=400.0)
    store(
        Symbol.objects.get(ticker="MIX"),
        [date(2024, 3, 28)],
        price=400.0,
        source=PriceBar.Source.IMPORT,
    )
    built.append(make_symbol("NONE"))
    return built


def test_the_aggregate_agrees_with_each_symbols_block():
    symbols = every_problem()

    facts = symbols_quality_facts(now=AFTER_LAST_CLOSE)

    for symbol in symbols:
        block = symbol_data_quality(symbol, now=AFTER_LAST_CLOSE)
        assert facts[symbol.pk] == block.facts, symbol.ticker
    problems = symbols_with_problems(now=AFTER_LAST_CLOSE)
    assert {
        Symbol.objects.get(pk=pk).ticker: [p.code for p in found]
        for pk, found in problems.items()
    } == {
        "MISS": ["missing_sessions"],
        "SAT": ["closed_day_bars"],
        "SPLIT": ["suspected_splits"],
        "MIX": ["mixed_sources"],
        "OLD": ["stale"],
        "NONE": ["no_bars"],
    }


def test_the_aggregate_of_a_recorded_split_has_no_suspect():
    symbol = make_symbol("RECORDED")
    store(symbol, SESSIONS, price=400.0, split_on=SPLIT_DAY)
    corporate_actions_upsert(
        symbol=symbol,
        actions=[Action("split", SPLIT_DAY + timedelta(days=1), Decimal(4))],
        source=CorporateAction.Source.IMPORT,
    )

    assert symbols_with_problems(now=AFTER_LAST_CLOSE) == {}


def test_the_aggregate_reads_only_the_symbols_asked_for():
    symbols = every_problem()
    chosen = Symbol.objects.filter(ticker__in=["OK", "SPLIT"])

    facts = symbols_quality_facts(chosen, now=AFTER_LAST_CLOSE)

    assert set(facts) == {s.pk for s in symbols if s.ticker in ("OK", "SPLIT")}
    assert facts[Symbol.objects.get(ticker="SPLIT").pk].suspected_splits == 1


def test_the_aggregate_costs_the_same_queries_for_one_symbol_or_many():
    make_symbol("ONE")
    store(Symbol.objects.get(ticker="ONE"), SESSIONS, price=400.0, split_on=SPLIT_DAY)
    with CaptureQueriesContext(connection) as one:
        symbols_quality_facts(now=AFTER_LAST_CLOSE)
    every_problem()
    with CaptureQueriesContext(connection) as many:
        symbols_quality_facts(now=AFTER_LAST_CLOSE)

    # The symbol table alone: its figures were stored by the writer of the bars.
    assert len(one) == len(many) == 1


# --- confirming a suspected split ---------------------------------------------------


@pytest.fixture
def jumped() -> Symbol:
    symbol = make_symbol("JUMP")
    store(symbol, SESSIONS, price=400.0, split_on=SPLIT_DAY)
    return symbol


def test_a_confirmed_split_is_stored_with_its_factor_and_source_confirmed(jumped):
    action = suspected_split_confirm(symbol=jumped, day=SPLIT_DAY)

    stored = CorporateAction.objects.get(symbol=jumped)
    assert stored == action
    assert (stored.kind, stored.date, stored.split_factor, stored.source) == (
        "split",
        SPLIT_DAY,
        Decimal(4),
        "confirmed",
    )


def test_once_confirmed_the_suspect_and_its_warning_are_gone(jumped):
    assert price_warnings(jumped, start=None, end=None, adjust="splits")

    suspected_split_confirm(symbol=jumped, day=SPLIT_DAY)

    assert symbol_suspected_splits(jumped) == []
    assert price_warnings(jumped, start=None, end=None, adjust="splits") == []
    assert symbol_data_quality(jumped, now=AFTER_LAST_CLOSE).ok


def test_once_confirmed_the_adjusted_series_has_no_jump(jumped):
    suspected_split_confirm(symbol=jumped, day=SPLIT_DAY)

    adjusted = bars_adjusted(jumped)

    closes = {row.date: row.close for row in adjusted.frame.itertuples()}
    assert closes[SESSIONS[0]] == closes[SESSIONS[-1]] == Decimal(100)
    assert [a["date"] for a in adjusted.block()["actions"]] == ["2024-05-15"]


def test_a_reverse_split_is_stored_to_the_fields_six_decimals():
    symbol = make_symbol("REV")
    store(symbol, SESSIONS, price=3.0, split_on=SPLIT_DAY, factor=1)
    PriceBar.objects.filter(symbol=symbol, date__gte=SPLIT_DAY).update(
        open=Decimal(9), high=Decimal(9), low=Decimal(9), close=Decimal(9)
    )

    action = suspected_split_confirm(symbol=symbol, day=SPLIT_DAY)

    action.refresh_from_db()
    assert action.split_factor == Decimal("0.333333")


def test_a_day_without_a_suspect_is_refused_and_nothing_is_stored(jumped):
    with pytest.raises(Conflict, match="no suspected split on 2024-05-16"):
        suspected_split_confirm(symbol=jumped, day=SPLIT_DAY + timedelta(days=1))
    assert not CorporateAction.objects.exists()


def test_confirming_twice_is_refused_the_second_time(jumped):
    suspected_split_confirm(symbol=jumped, day=SPLIT_DAY)

    with pytest.raises(Conflict) as refused:
        suspected_split_confirm(symbol=jumped, day=SPLIT_DAY)

    assert refused.value.code == "no_suspected_split"
    assert CorporateAction.objects.count() == 1
