"""Suspected splits: a close-to-next-open jump near a common ratio, unless a recorded
split explains it (core.split_detection, no database)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pandas as pd
import pytest

from core.split_detection import (
    COMMON_FACTORS,
    TOLERANCE,
    jump_prefilter,
    ratio_words,
    split_from_jump,
    suspected_splits,
)


def frame(
    rows: list[tuple[float, float]], start: date = date(2024, 3, 4)
) -> pd.DataFrame:
    """Bars of (open, close) on consecutive days from start."""
    return pd.DataFrame(
        [
            {"date": start + timedelta(days=i), "open": o, "close": c}
            for i, (o, c) in enumerate(rows)
        ]
    )


@pytest.mark.parametrize(
    ("close_before", "open_on", "factor", "words"),
    [
        (400.0, 100.0, Decimal(4), "4-for-1"),
        (1208.88, 120.37, Decimal(10), "10-for-1"),  # NVDA, 2024-06-10
        (499.23, 127.58, Decimal(4), "4-for-1"),  # AAPL, 2020-08-31: 2.2 % off 4
        (2255.0, 112.0, Decimal(20), "20-for-1"),
        (10.0, 49.5, Decimal(1) / Decimal(5), "1-for-5 reverse"),
        (1.0, 10.2, Decimal(1) / Decimal(10), "1-for-10 reverse"),
        (3.0, 9.0, Decimal(1) / Decimal(3), "1-for-3 reverse"),
    ],
)
def test_a_jump_near_a_common_ratio_is_suspected_with_that_factor(
    close_before, open_on, factor, words
):
    found = suspected_splits(frame([(close_before, close_before), (open_on, open_on)]))

    assert len(found) == 1
    assert found[0].factor == factor
    assert found[0].day == date(2024, 3, 5)
    assert ratio_words(found[0].factor) == words
    assert words in found[0].describe("ACME")


@pytest.mark.parametrize(
    ("close_before", "open_on"),
    [
        (100.0, 97.0),  # an ordinary day
        (100.0, 66.7),  # a 33 % drop on news: 1.5 is no split ratio here
        (100.0, 46.0),  # 2.17: more than 4 % from 2
        (100.0, 29.0),  # 3.45: between 3 and 4, near neither
    ],
)
def test_a_move_far_from_every_common_ratio_is_not_suspected(close_before, open_on):
    assert (
        suspected_splits(frame([(close_before, close_before), (open_on, open_on)]))
        == []
    )


def test_the_tolerance_is_four_percent_either_side():
    just_inside = 100 / (2 * (1 + float(TOLERANCE)) - 0.001)
    just_outside = 100 / (2 * (1 + float(TOLERANCE)) + 0.01)

    assert suspected_splits(frame([(100, 100), (just_inside, just_inside)]))
    assert not suspected_splits(frame([(100, 100), (just_outside, just_outside)]))


def test_the_jump_is_close_to_next_open_not_close_to_close():
    # Opened at the split price, then rallied back: the close-to-close move is small.
    rows = [(100.0, 100.0), (50.0, 96.0)]
    assert [s.factor for s in suspected_splits(frame(rows))] == [Decimal(2)]
    # Closed at half on news after opening flat: an ordinary open, no split.
    assert suspected_splits(frame([(100.0, 100.0), (99.0, 50.0), (50.0, 50.0)])) == []


@pytest.mark.parametrize("offset", [-5, -1, 0, 2, 5])
def test_a_recorded_split_within_five_days_explains_the_jump(offset):
    jump_day = date(2024, 3, 5)
    rows = [(400.0, 400.0), (100.0, 100.0)]

    assert suspected_splits(frame(rows), [jump_day + timedelta(days=offset)]) == []


def test_a_recorded_split_further_away_does_not():
    rows = [(400.0, 400.0), (100.0, 100.0)]

    found = suspected_splits(frame(rows), [date(2024, 3, 5) + timedelta(days=6)])

    assert [s.day for s in found] == [date(2024, 3, 5)]


def test_float_prices_are_reported_as_written_not_as_binary_fractions():
    (suspect,) = suspected_splits(frame([(100.23, 100.23), (25.07, 25.07)]))

    assert suspect.close_before == Decimal("100.23")
    assert suspect.open_on == Decimal("25.07")
    assert suspect.as_dict() == {
        "date": "2024-03-05",
        "factor": "4",
        "ratio": "4-for-1",
        "close_before": "100.23",
        "open_on": "25.07",
    }
    assert "close of 100.23 to an open of 25.07" in suspect.describe("ACME")


def test_missing_or_zero_prices_are_skipped_not_raised():
    rows = [(100.0, 100.0), (float("nan"), 50.0), (0.0, 50.0), (12.5, 12.5)]

    assert [s.factor for s in suspected_splits(frame(rows))] == [Decimal(4)]
    assert split_from_jump(date(2024, 1, 2), None, Decimal(1), []) is None


def test_an_empty_frame_has_no_suspect():
    empty = pd.DataFrame(columns=["date", "open", "close"])
    assert suspected_splits(empty) == []


def test_the_prefilter_keeps_every_ratio_a_common_factor_accepts():
    """The database keeps only bars outside (low, high); none it drops is a split."""
    low, high = jump_prefilter()
    for factor in COMMON_FACTORS:
        for edge in (1 - TOLERANCE, 1 + TOLERANCE):
            ratio = factor * edge
            assert ratio <= low or ratio >= high, (factor, edge)
    assert low < 1 < high
