"""Input checks take plain ASCII numbers, dates and tickers only, and say why not."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.api.validation import (
    parse_date,
    parse_decimal,
    parse_flag,
    parse_int,
    parse_money,
)
from core.errors import InvalidInput
from core.market import normalise_ticker

# Look-alikes Python reads as ASCII: other scripts' digits (int("\u0661\u0662") is
# 12, Decimal and \d take them too), full-width forms, non-ASCII spaces that
# strip() drops, a dotless i and a long s that upper() turns into I and S.
ARABIC_12 = "\u0661\u0662"
FULLWIDTH_12 = "\uff11\uff12"
NBSP = "\u00a0"


def commission(raw: str, *, decimals: int | None = 5) -> Decimal:
    return parse_decimal(
        {"commission": raw},
        "commission",
        default=Decimal(0),
        minimum=Decimal(0),
        maximum=Decimal("0.05"),
        decimals=decimals,
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0.001", Decimal("0.001")),
        ("0.00001", Decimal("0.00001")),
        ("0.05", Decimal("0.05")),
        ("0", Decimal(0)),
        (" 0.01 ", Decimal("0.01")),
        (".01", Decimal("0.01")),
        ("0.", Decimal(0)),
    ],
)
def test_plain_decimals_within_the_places_are_accepted(raw, expected):
    assert commission(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "0.000001",  # 6 decimals: BacktestRun would store 0
        "0.000010",
        "0.0000001",
        "1e-3",
        "1E-3",
        "0.1e-1",
        "NaN",
        "nan",
        "sNaN",
        "Infinity",
        "-Infinity",
        "inf",
        "1_0",
        "+0.01",
        "-0",
        "-0.01",
        "0.06",
        "0x1",
        ".",
        "0.0.1",
    ],
)
def test_commission_refuses_exponents_specials_signs_and_extra_decimals(raw):
    with pytest.raises(InvalidInput) as info:
        commission(raw)
    assert info.value.code == "invalid_parameter"
    assert info.value.details == {"parameter": "commission"}
    assert "at most 5 decimals" in info.value.message


def test_without_a_decimals_rule_any_places_are_accepted():
    assert commission("0.0000001", decimals=None) == Decimal("0.0000001")


def test_a_minus_sign_is_accepted_only_when_the_range_allows_negatives():
    value = parse_decimal(
        {"x": "-0.5"}, "x", default=Decimal(0), minimum=Decimal(-1), maximum=Decimal(1)
    )
    assert value == Decimal("-0.5")


NON_ASCII_NUMBERS = [
    ARABIC_12,
    FULLWIDTH_12,
    "1" + ARABIC_12,
    "12" + NBSP,
    NBSP + "12",
    "12\u2003",  # em space
    "12\u3000",  # ideographic space
    "\u0661",
]


@pytest.mark.parametrize("raw", NON_ASCII_NUMBERS)
def test_parse_int_takes_ascii_digits_only(raw):
    with pytest.raises(InvalidInput):
        parse_int({"fast": raw}, "fast", default=50, minimum=2, maximum=400)


@pytest.mark.parametrize(
    "raw", [*NON_ASCII_NUMBERS, "0.0" + ARABIC_12[0], "0.01" + NBSP]
)
def test_parse_decimal_takes_ascii_digits_only(raw):
    with pytest.raises(InvalidInput):
        commission(raw, decimals=None)


@pytest.mark.parametrize(
    "raw", ["1000" + ARABIC_12, FULLWIDTH_12 + "000", "10000" + NBSP, "100.5\u0660"]
)
def test_parse_money_takes_ascii_digits_only(raw):
    with pytest.raises(InvalidInput):
        parse_money(raw, name="initial_investment", maximum=Decimal(10**12), decimals=2)


@pytest.mark.parametrize(
    "raw",
    [
        "\u0662\u0660\u0662\u0664-01-01",
        "2024-0\u0661-01",
        "\uff12\uff10\uff12\uff14-01-01",
        "2024-01-01" + NBSP,
        "20240101",  # fromisoformat's basic format
        "2024-W01-1",  # and its week dates
        "2024-1-1",
    ],
)
def test_parse_date_takes_yyyy_mm_dd_in_ascii_only(raw):
    with pytest.raises(InvalidInput) as info:
        parse_date({"start": raw}, "start")
    assert "YYYY-MM-DD" in info.value.message


def test_parse_date_accepts_the_iso_date():
    assert parse_date({"start": " 2024-02-29 "}, "start") == date(2024, 2, 29)


@pytest.mark.parametrize("raw", ["\uff11", "1" + NBSP, "tru\u0435"])  # Cyrillic e
def test_parse_flag_takes_ascii_spellings_only(raw):
    with pytest.raises(InvalidInput):
        parse_flag({"async": raw}, "async")


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("", False), (" no ", False)]
)
def test_parse_flag_keeps_the_usual_spellings(raw, expected):
    assert parse_flag({"async": raw}, "async") is expected


@pytest.mark.parametrize(
    "raw",
    [
        "\u0131bm",  # dotless i: "\u0131bm".upper() == "IBM"
        "\u017fpy",  # long s: upper() is "SPY"
        "\uff29\uff22\uff2d",  # full-width IBM
        "IBM" + NBSP,
        NBSP + "IBM",
        "IB\u041c",  # Cyrillic EM
        "\u0661\u0662",
        "BRK\u2024B",  # one dot leader
    ],
)
def test_non_ascii_tickers_are_refused_before_upper_casing(raw):
    assert not raw.isascii()
    with pytest.raises(InvalidInput) as info:
        normalise_ticker(raw)
    assert info.value.code == "invalid_symbol"


def test_ascii_tickers_are_still_normalised():
    assert normalise_ticker("  brk.b ") == "BRK.B"
