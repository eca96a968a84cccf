"""Coverage counts NYSE sessions: holidays are no gaps, closed-day bars are flagged."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from django.urls import reverse

from core.market import BAR_COLUMNS
from core.models import PriceBar
from core.selectors import COVERAGE_DATES_SHOWN, symbol_coverage
from core.services import prices_upsert
from core.sessions import session_coverage, sessions_between
from tests.factories import make_symbol

THANKSGIVING = date(2025, 11, 27)
GOOD_FRIDAY = date(2025, 4, 18)
SATURDAY = date(2025, 11, 29)
# NYSE's weekday holidays from April to November 2025.
HOLIDAYS_2025 = {
    GOOD_FRIDAY,
    date(2025, 5, 26),  # Memorial Day
    date(2025, 6, 19),  # Juneteenth
    date(2025, 7, 4),
    date(2025, 9, 1),  # Labor Day
    THANKSGIVING,
}


def _weekdays(start: date, end: date) -> list[date]:
    days = (start + timedelta(days=n) for n in range((end - start).days + 1))
    return [day for day in days if day.weekday() < 5]


def _store(symbol, days: list[date]) -> None:
    bars = pd.DataFrame(
        [(day, "100", "101", "99", "100.5", 1_000) for day in days],
        columns=list(BAR_COLUMNS),
    )
    prices_upsert(symbol=symbol, bars=bars, source="sample")


def test_thanksgiving_and_good_friday_are_closed_days_not_missing_sessions():
    # Bars on every weekday of April to November 2025 except NYSE's holidays: a
    # weekday count would call those 6 days missing.
    start, end = date(2025, 4, 1), date(2025, 11, 28)
    days = [day for day in _weekdays(start, end) if day not in HOLIDAYS_2025]

    counted = session_coverage(days, start=start, end=end)

    assert counted.missing == () and counted.closed == ()
    assert counted.expected == counted.covered == len(days)


def test_bars_on_those_holidays_are_the_closed_days():
    start, end = date(2025, 4, 1), date(2025, 11, 28)

    counted = session_coverage(_weekdays(start, end), start=start, end=end)

    assert counted.closed == tuple(sorted(HOLIDAYS_2025))
    assert counted.missing == ()


@pytest.mark.django_db
def test_a_symbol_with_a_bar_on_every_session_has_no_gap():
    symbol = make_symbol("ACME")
    _store(symbol, sessions_between(date(2025, 4, 14), date(2025, 12, 5)))

    coverage = symbol_coverage(symbol)

    assert (coverage.first_date, coverage.last_date) == (
        date(2025, 4, 14),
        date(2025, 12, 5),
    )
    assert coverage.missing_sessions == 0 and coverage.missing_dates == ()
    assert coverage.expected_sessions == coverage.covered_sessions == coverage.bar_count
    assert coverage.closed_day_bars == 0
    assert "0 missing" in coverage.summary()


@pytest.mark.django_db
def test_a_missing_session_is_counted_and_named():
    symbol = make_symbol("ACME")
    days = sessions_between(date(2025, 11, 17), date(2025, 12, 5))
    lost = date(2025, 11, 25)
    _store(symbol, [day for day in days if day != lost])

    coverage = symbol_coverage(symbol)

    assert coverage.expected_sessions == len(days)
    assert coverage.covered_sessions == len(days) - 1
    assert coverage.missing_sessions == 1 and coverage.missing_dates == (lost,)
    assert "1 missing (2025-11-25)" in coverage.summary()


@pytest.mark.django_db
def test_a_bar_on_a_saturday_is_flagged_and_kept():
    symbol = make_symbol("ACME")
    days = sessions_between(date(2025, 11, 24), date(2025, 12, 5))
    _store(symbol, [*days, SATURDAY])

    coverage = symbol_coverage(symbol)

    assert coverage.closed_day_bars == 1 and coverage.closed_day_dates == (SATURDAY,)
    # Counted as a stored bar, not as a session.
    assert coverage.bar_count == len(days) + 1
    assert coverage.covered_sessions == coverage.expected_sessions == len(days)
    assert PriceBar.objects.filter(symbol=symbol, date=SATURDAY).exists()
    assert "1 bar on days the exchange was closed, kept: 2025-11-29" in (
        coverage.summary()
    )


@pytest.mark.django_db
def test_missing_dates_are_capped_for_display_and_the_rest_counted():
    symbol = make_symbol("ACME")
    days = sessions_between(date(2025, 9, 2), date(2025, 10, 31))
    kept = days[:: len(days) - 1]  # the first and the last session only
    _store(symbol, kept)
    lost = len(days) - 2

    coverage = symbol_coverage(symbol)

    assert coverage.missing_sessions == lost
    assert coverage.missing_dates == tuple(days[1 : 1 + COVERAGE_DATES_SHOWN])
    assert f"and {lost - COVERAGE_DATES_SHOWN:,} more" in coverage.summary()


@pytest.mark.django_db
def test_coverage_over_a_range_counts_the_sessions_of_that_range():
    symbol = make_symbol("ACME")
    _store(symbol, sessions_between(date(2025, 11, 3), date(2025, 11, 21)))

    # The week of Thanksgiving has 4 sessions and no bar yet.
    coverage = symbol_coverage(symbol, start=date(2025, 11, 17), end=date(2025, 11, 28))

    assert coverage.expected_sessions == 9
    assert coverage.covered_sessions == 5
    assert coverage.missing_dates == (
        date(2025, 11, 24),
        date(2025, 11, 25),
        date(2025, 11, 26),
        date(2025, 11, 28),
    )


@pytest.mark.django_db
def test_a_symbol_without_bars_has_empty_coverage():
    coverage = symbol_coverage(make_symbol("ACME"))
    assert (coverage.bar_count, coverage.expected_sessions) == (0, 0)
    assert coverage.summary() == "No bars yet."


@pytest.mark.django_db
def test_the_symbol_page_shows_sessions_and_the_closed_day_bar(admin_client):
    symbol = make_symbol("ACME")
    days = sessions_between(date(2025, 11, 24), date(2025, 12, 5))
    _store(symbol, [*days, SATURDAY])

    page = admin_client.get(reverse("admin:core_symbol_change", args=[symbol.pk]))

    text = page.content.decode()
    assert f"{len(days)} of {len(days)} NYSE sessions covered, 0 missing" in text
    assert "days the exchange was closed, kept: 2025-11-29" in text
