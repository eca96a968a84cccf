"""Import checks in words: a row's every problem, closed days, jumps between neighbours."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from core.bar_checks import (
    JUMP_THRESHOLD,
    NEIGHBOUR_MAX_SESSIONS,
    Bar,
    SeriesBar,
    closed_day_warning,
    jump_warnings,
    not_final_problem,
    read_bar,
)
from core.sessions import calendar

ROW = {
    "date": "2024-03-01",
    "open": "100.0",
    "high": "102.5",
    "low": "99.1",
    "close": "101.7",
    "volume": "1200",
}


def row(**changes: object) -> dict[str, object]:
    return {**ROW, **changes}


def test_a_good_row_reads_as_its_bar():
    bar, problems = read_bar(ROW)

    assert problems == []
    assert bar == Bar(
        date(2024, 3, 1),
        Decimal("100.0"),
        Decimal("102.5"),
        Decimal("99.1"),
        Decimal("101.7"),
        1200,
    )


def test_every_problem_of_a_row_is_named_with_its_column_and_value():
    bar, problems = read_bar(
        row(date="2024-02-30", open="abc", high="", low="-1", volume="1.5")
    )

    assert bar is None
    assert problems == [
        "date '2024-02-30' is not a valid YYYY-MM-DD date",
        "open 'abc' is not a number",
        "high is empty",
        "low -1 is not above zero",
        "volume 1.5 is not a whole number of shares",
    ]


def test_the_price_order_is_checked_in_words():
    _, problems = read_bar(row(open="100.0", low="101.2", high="103", close="102"))
    assert problems == ["low 101.2 is above open 100.0"]

    _, problems = read_bar(row(open="100", high="99", low="98", close="99.5"))
    assert problems == ["high 99 is below open 100 and close 99.5"]


def test_prices_are_checked_as_stored_rounded_to_4_decimals():
    # 100.00004 is stored as 100.0000: not above an open of 100.
    bar, problems = read_bar(row(open="100", low="100.00004", close="100.5"))
    assert problems == []
    assert bar is not None and bar.rounded("low") == Decimal("100.0000")

    _, problems = read_bar(row(open="0.00004"))
    assert problems == [
        "open 0.00004 is 0 once rounded to the 4 decimals stored, and a price must "
        "be above zero"
    ]


def test_values_too_large_to_store_are_named():
    _, problems = read_bar(row(high="1e30", volume="1e30"))
    assert problems == [
        "high 1E+30 is above the largest price stored, 9999999999.9999",
        "volume 1E+30 is above the largest volume stored",
    ]


def test_spreadsheet_cells_read_as_their_values():
    bar, problems = read_bar(
        row(date=datetime(2024, 3, 1), open=100.0, high=102.5, volume=1200.0)
    )
    assert problems == []
    assert bar is not None
    assert (bar.day, bar.open, bar.volume) == (date(2024, 3, 1), Decimal("100.0"), 1200)

    _, problems = read_bar(row(open=True, close=float("nan")))
    assert problems == ["open True is not a number", "close nan is not a number"]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (
            date(2024, 3, 2),
            "2024-03-02 is a Saturday: NYSE does not trade on weekends, so no daily "
            "bar falls on it",
        ),
        (
            date(2024, 11, 28),
            "NYSE was closed on 2024-11-28 (a Thursday: a holiday or a special "
            "closure), so no daily bar falls on it",
        ),
        (date(2024, 11, 29), None),  # the half day after Thanksgiving traded
    ],
)
def test_closed_days_are_named(day, expected):
    assert closed_day_warning(day) == expected


def test_days_outside_the_calendar_are_not_called_closed():
    first = calendar().first_session.date()
    assert closed_day_warning(date(first.year - 1, 1, 4)) is None


def test_a_bar_whose_session_has_not_closed_cannot_be_stored():
    last_closed = date(2024, 3, 7)

    assert not_final_problem(date(2024, 3, 8), last_closed) == (
        "2024-03-08 is after 2024-03-07, the last session that has closed, so no "
        "final daily bar exists for it yet"
    )
    assert not_final_problem(last_closed, last_closed) is None


def stored(day: date, close: str, open_: str | None = None) -> SeriesBar:
    return SeriesBar(day, Decimal(open_ or close), Decimal(close))


def filed(day: date, close: str, row: int, open_: str | None = None) -> SeriesBar:
    return SeriesBar(day, Decimal(open_ or close), Decimal(close), row=row)


def test_a_move_beyond_the_threshold_is_warned_with_both_bars():
    series = [stored(date(2024, 3, 1), "100"), filed(date(2024, 3, 4), "130", row=2)]

    assert jump_warnings("ACME", series) == [
        (
            2,
            "the close rises 30.0 % from 100.00 on 2024-03-01 (stored) to 130.00 on "
            "2024-03-04 (this row), more than 25 % between neighbouring bars",
        )
    ]


def test_a_move_of_exactly_the_threshold_is_no_warning():
    move = 1 + JUMP_THRESHOLD
    series = [
        stored(date(2024, 3, 1), "100"),
        filed(date(2024, 3, 4), f"{move * 100}", 2),
    ]
    assert jump_warnings("ACME", series) == []
    down = [stored(date(2024, 3, 1), "100"), filed(date(2024, 3, 4), "75", 2)]
    assert jump_warnings("ACME", down) == []


def test_a_jump_near_a_split_ratio_says_so():
    # Close 180.40, next open 45.05: 4.004 to 1.
    series = [
        stored(date(2024, 3, 1), "180.40"),
        filed(date(2024, 3, 4), "45.80", row=3, open_="45.05"),
    ]

    [(row, text)] = jump_warnings("ACME", series)

    assert row == 3
    assert text.endswith(
        "; that is near a 4-for-1 split: if ACME split on 2024-03-04, record the "
        "split under Corporate actions"
    )
    reverse = [stored(date(2024, 3, 1), "1.02"), filed(date(2024, 3, 4), "10.1", 2)]
    assert "near a 1-for-10 reverse split" in jump_warnings("ACME", reverse)[0][1]


def test_a_recorded_split_explains_its_jump():
    series = [
        stored(date(2024, 3, 1), "180.40"),
        filed(date(2024, 3, 4), "45.80", row=3, open_="45.05"),
    ]
    recorded = [(date(2024, 3, 4), Decimal(4))]
    assert jump_warnings("ACME", series, recorded) == []
    # A recorded split of another ratio explains nothing.
    assert len(jump_warnings("ACME", series, [(date(2024, 3, 4), Decimal(2))])) == 1


def test_a_jump_to_the_next_stored_bar_is_warned_on_the_file_row():
    series = [
        filed(date(2024, 3, 1), "100", row=2),
        stored(date(2024, 3, 4), "60"),
    ]
    [(row, text)] = jump_warnings("ACME", series)
    assert row == 2
    assert "falls 40.0 % from 100.00 on 2024-03-01 (this row) to 60.00" in text
    assert "2024-03-04 (stored)" in text


def test_two_file_rows_name_each_other():
    series = [filed(date(2024, 3, 1), "100", row=5), filed(date(2024, 3, 4), "50", 2)]
    [(row, text)] = jump_warnings("ACME", series)
    assert row == 2
    assert "from 100.00 on 2024-03-01 (row 5) to 50.00 on 2024-03-04 (this row)" in text


def test_stored_bars_alone_are_not_warned_about():
    series = [stored(date(2024, 3, 1), "100"), stored(date(2024, 3, 4), "10")]
    assert jump_warnings("ACME", series) == []
    unchanged = SeriesBar(
        date(2024, 3, 4), Decimal(10), Decimal(10), row=2, changed=False
    )
    assert jump_warnings("ACME", [stored(date(2024, 3, 1), "100"), unchanged]) == []


def test_bars_more_than_a_trading_week_apart_are_no_neighbours():
    assert NEIGHBOUR_MAX_SESSIONS == 5
    # 2024-03-01 (Fri) to 2024-03-08 (Fri): 5 sessions on; to 03-11: 6.
    near = [stored(date(2024, 3, 1), "100"), filed(date(2024, 3, 8), "60", row=2)]
    far = [stored(date(2024, 3, 1), "100"), filed(date(2024, 3, 11), "60", row=2)]
    assert len(jump_warnings("ACME", near)) == 1
    assert jump_warnings("ACME", far) == []


def test_the_week_counts_sessions_not_weekdays():
    # Thanksgiving week 2024: 11-22 (Fri) to 11-29 (Fri) is 4 sessions (no 11-28),
    # 11-22 to 12-02 5.
    series = [stored(date(2024, 11, 22), "100"), filed(date(2024, 12, 2), "60", 2)]
    assert len(jump_warnings("ACME", series)) == 1
